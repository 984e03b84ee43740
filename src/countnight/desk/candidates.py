"""``candidates.csv``: who stands where, so a reporter at the count types only the votes.

Columns ``constituency,name,party`` (a party by code or name, as entries take it), one row per
candidate, in ballot-paper order (surname, then forenames), as the returning officer reads them out.
``countnight baseline --candidates`` and ``countnight replay --candidates`` write it from the
Library's 2024 results, for rehearsals.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..baseline import BaselineRow, fold_name
from ..errors import InputError, Problem
from ..ge2024 import read_results
from ..publish import write_atomic

FILE = "candidates.csv"
COLUMNS = ("constituency", "name", "party")


@dataclass(frozen=True)
class Standing:
    """One candidate in one constituency, as the candidates file lists them."""

    name: str
    party: str


def ballot_order(names: Sequence[Standing]) -> list[Standing]:
    """Ballot papers list candidates by surname, then forenames."""
    return sorted(names, key=lambda c: (c.name.split()[-1].casefold() if c.name.split() else "", c.name.casefold()))


def read_candidates_file(root: Path) -> dict[str, list[Standing]]:
    """constituency (as written) → its candidates in file order; {} when there is no file.

    Raises InputError (FILE:LINE) for a row that is short of a column or a file that is not CSV text.
    """
    path = root / FILE
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        return {}
    except UnicodeDecodeError:
        raise InputError.one(FILE, 0, "not valid UTF-8; save it as UTF-8") from None
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise InputError.one(FILE, 1, f"needs the columns {', '.join(COLUMNS)} (missing {', '.join(missing)})")
    found: dict[str, list[Standing]] = {}
    problems: list[Problem] = []
    for number, row in enumerate(reader, start=2):
        values = {c: " ".join((row.get(c) or "").split()) for c in COLUMNS}
        empty = [c for c in COLUMNS if not values[c]]
        if empty:
            problems.append(Problem(FILE, number, f"{', '.join(empty)}: empty"))
            continue
        found.setdefault(values["constituency"], []).append(Standing(values["name"], values["party"]))
    if problems:
        raise InputError(problems)
    return found


def find_constituency(table: dict[str, list[Standing]], name: str) -> tuple[str, list[Standing]] | None:
    """The candidates of ``name`` however it is spelt (``Crewe & Nantwich``, ``crewe and nantwich``)."""
    folded = fold_name(name)
    for constituency, standing in table.items():
        if fold_name(constituency) == folded:
            return constituency, standing
    return None


def write_candidates_file(data: Path, rows: Sequence[BaselineRow], path: Path) -> int:
    """Write the 2024 candidates of the constituencies in ``rows`` (a baseline's) to ``path``; returns how many."""
    chosen = {fold_name(row.constituency): row.constituency for row in rows}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    count = 0
    for seat in read_results(data):
        name = chosen.get(fold_name(seat.name))
        if name is None:
            continue
        for candidate in ballot_order([Standing(c.name, c.party) for c in seat.candidates]):
            writer.writerow((name, candidate.name, candidate.party))
            count += 1
    write_atomic(path, out.getvalue().encode("utf-8"))
    return count
