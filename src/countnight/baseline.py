"""baseline.csv: the constituencies followed tonight and the previous election's result in each.

One row per constituency: ``constituency, electorate, turnout, winner``, then one column per party code
with that party's previous vote share in percent. An empty share cell means the party did not stand.
``electorate`` is *this* election's register; ``turnout`` and the shares are the previous election's.
"""

from __future__ import annotations

import csv
import difflib
import functools
import io
import math
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from countnight.errors import InputError, Problem, describe_os_error
from countnight.fileio import read_file
from countnight.parties import MAIN_PARTIES, near_party, party_code

__all__ = [
    "REQUIRED_COLUMNS",
    "Baseline",
    "BaselineRow",
    "fold_name",
    "load_baseline",
    "parse_number",
    "read_csv_table",
    "write_baseline",
]

REQUIRED_COLUMNS: tuple[str, ...] = ("constituency", "electorate", "turnout", "winner")

# Shares are rounded in the file, so a row may add up to a little over 100.
_SHARE_TOTAL_SLACK = 0.5


@functools.lru_cache(maxsize=8192)  # the follow list folds every seat's name on each change of results
@functools.lru_cache(maxsize=16384)  # every result's seat is folded on every build that a result changes
def fold_name(name: str) -> str:
    """Fold a constituency name for matching: case, accents, ``&``/``and``, punctuation and spacing.

    >>> fold_name("Stoke-on-Trent  Central") == fold_name("stoke on trent central")
    True
    >>> fold_name("Crewe & Nantwich") == fold_name("Crewe and Nantwich")
    True
    """
    decomposed = unicodedata.normalize("NFKD", name.casefold().replace("&", " and "))
    no_accents = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^0-9a-z]+", " ", no_accents).split())


@dataclass(frozen=True)
class BaselineRow:
    """One constituency's previous result: ``shares`` maps party code → previous share in percent."""

    constituency: str
    electorate: int | None
    turnout: float | None
    winner: str
    shares: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Freeze the mapping too, so a row can be shared between builds without being changed.
        object.__setattr__(self, "shares", MappingProxyType(dict(self.shares)))


class Baseline:
    """The rows of a baseline, looked up by constituency name with :func:`fold_name` matching."""

    def __init__(self, rows: Iterable[BaselineRow]) -> None:
        self._rows: tuple[BaselineRow, ...] = tuple(rows)
        self._by_name: dict[str, BaselineRow] = {}
        for row in self._rows:
            key = fold_name(row.constituency)
            if key in self._by_name:
                raise ValueError(f"duplicate constituency {row.constituency!r}")
            self._by_name[key] = row

    def get(self, name: str) -> BaselineRow | None:
        """The row for ``name`` ("crewe & nantwich" finds "Crewe and Nantwich"), or None."""
        return self._by_name.get(fold_name(name))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and fold_name(name) in self._by_name

    def names(self) -> list[str]:
        """Constituency names as written, in file order."""
        return [row.constituency for row in self._rows]

    def suggest(self, name: str) -> str | None:
        """The closest constituency name to a misspelt ``name`` (for "did you mean …?"), or None."""
        near = self.suggestions(name, 1)
        return near[0] if near else None

    def suggestions(self, name: str, most: int = 3) -> list[str]:
        """The constituency names nearest a misspelt or shortened ``name``, nearest first, for "did you mean …?".

        First the names that hold every word typed ("Stoke Central" → "Stoke-on-Trent Central": a name shortened
        as people say it, which spelling alone ranks too far), then the close spellings (difflib, as
        ``countnight baseline`` suggests)."""
        folded = fold_name(name)
        words = folded.split()
        found: list[str] = []
        if words:
            holding = [key for key in self._by_name if all(any(k.startswith(w) for k in key.split()) for w in words)]
            found += sorted(holding, key=lambda key: (len(key), key))
        found += difflib.get_close_matches(folded, list(self._by_name), n=most, cutoff=0.6)
        unique = list(dict.fromkeys(found))[:most]
        return [self._by_name[key].constituency for key in unique]

    def __iter__(self) -> Iterator[BaselineRow]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    def __repr__(self) -> str:
        return f"Baseline({len(self)} constituencies)"


def read_csv_table(path: Path, display: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Read a UTF-8 CSV file (BOM and CRLF tolerated) into its header and ``(line, fields)`` rows.

    Blank lines are skipped. Raises :class:`InputError` naming ``display`` and the line for a file
    that cannot be read, is not UTF-8, is empty, or is not valid CSV.
    """
    try:
        data = read_file(path)
    except OSError as exc:
        raise InputError.one(display, 0, f"cannot read the file: {describe_os_error(exc, path)}") from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError.one(
            display, line, f"not valid UTF-8 (byte 0x{data[exc.start]:02X}): save the file as UTF-8"
        ) from exc
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[tuple[int, list[str]]] = []
    try:
        last = 0
        for fields in reader:
            start, last = last + 1, reader.line_num
            if any(f.strip() for f in fields):
                rows.append((start, fields))
    except csv.Error as exc:
        raise InputError.one(display, reader.line_num, f"not valid CSV: {exc}") from exc
    if not rows:
        raise InputError.one(display, 0, "the file is empty: expected a header line")
    header_line, header = rows[0]
    if header_line != 1:
        # Leading blank lines would shift every message; say where the header is instead of guessing.
        raise InputError.one(display, 1, "the header must be on the first line")
    return [h.strip() for h in header], rows[1:]


_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
_PLAIN = re.compile(r"\d+(\.\d+)?")  # most cells: nothing to clean (a baseline of 2,571 seats has 18,000 numbers)


def parse_number(text: str) -> float:
    """Parse ``"16,222"``, ``" 65.39% "`` or ``"72.7"``; raises ValueError for anything else."""
    if _PLAIN.fullmatch(text):
        return float(text)
    cleaned = text.strip().removesuffix("%").strip().replace(",", "")
    if not _NUMBER.fullmatch(cleaned):
        raise ValueError(text)
    return float(cleaned)


def _parse_row(
    line: int,
    cells: Mapping[str, str],
    party_columns: Mapping[str, str],
    problems: list[Problem],
    display: str,
) -> BaselineRow | None:
    """One data row → a :class:`BaselineRow`, or None after adding its problems to ``problems``."""
    found: list[str] = []
    name = " ".join(cells["constituency"].split())
    if not name:
        found.append("the constituency name is empty")

    electorate: int | None = None
    if raw := cells["electorate"].strip():
        try:
            value = parse_number(raw)
            if not value.is_integer() or value <= 0:
                raise ValueError(raw)
            electorate = int(value)
        except ValueError:
            found.append(f"electorate {raw!r} is not a positive whole number")

    turnout: float | None = None
    if raw := cells["turnout"].strip():
        try:
            turnout = parse_number(raw)
            if not 0 < turnout <= 100:
                raise ValueError(raw)
        except ValueError:
            found.append(f"turnout {raw!r} is not a percentage between 0 and 100")

    winner = party_code(cells["winner"])
    if not winner:
        found.append("the previous winner is empty: give the winning party's code (Con, Lab, …)")
    elif (near := near_party(winner)) is not None:
        found.append(f"the previous winner {winner!r} is not a party countnight knows: did you mean {near}?")

    shares: dict[str, float] = {}
    for header, code in party_columns.items():
        if not (raw := cells[header].strip()):
            continue  # the party did not stand
        try:
            share = parse_number(raw)
            if not 0 <= share <= 100:
                raise ValueError(raw)
            shares[code] = share
        except ValueError:
            found.append(f"{header} share {raw!r} is not a percentage between 0 and 100")
    total = math.fsum(shares.values())
    if total > 100 + _SHARE_TOTAL_SLACK:
        found.append(f"the shares add up to {total:.2f}%, more than 100%")

    problems.extend(Problem(display, line, message) for message in found)
    if found:
        return None
    return BaselineRow(name, electorate, turnout, winner, shares)


def load_baseline(path: Path, display: str) -> Baseline:
    """Read and check ``baseline.csv``; every problem is reported as ``display:LINE: message``.

    Raises :class:`InputError` with one :class:`Problem` per bad row or header cell.
    """
    header, rows = read_csv_table(path, display)
    problems: list[Problem] = []
    lowered = [h.casefold() for h in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in lowered]
    if missing:
        names = ", ".join(repr(c) for c in missing)
        expected = ", ".join(REQUIRED_COLUMNS)
        noun = "column" if len(missing) == 1 else "columns"
        raise InputError.one(display, 1, f"missing {noun} {names}: the header starts {expected}")

    # Every header, keyed by its position; a party column is any header that is not a required one.
    party_columns: dict[str, str] = {}
    seen: dict[str, str] = {}
    positions: dict[str, int] = {}
    for index, (name, low) in enumerate(zip(header, lowered, strict=True)):
        if low in REQUIRED_COLUMNS:
            if low in positions:
                problems.append(Problem(display, 1, f"column {name!r} appears twice"))
            positions[low] = index
            continue
        if not name:
            if any(index < len(fields) and fields[index].strip() for _, fields in rows):
                problems.append(Problem(display, 1, f"column {index + 1} has values but no header"))
            continue  # trailing empty columns, as spreadsheets export them
        code = party_code(name)
        if (near := near_party(name)) is not None:  # a slip would make a party column of its own
            problems.append(
                Problem(display, 1, f"column {name!r} is not a party countnight knows: did you mean {near}?")
            )
            continue
        if code in seen:
            problems.append(Problem(display, 1, f"column {name!r} repeats party {code} (from {seen[code]!r})"))
            continue
        seen[code] = name
        party_columns[name] = code
        positions[name] = index
    if problems:
        raise InputError(problems)

    result: list[BaselineRow] = []
    first_line: dict[str, int] = {}
    for line, fields in rows:
        if len(fields) > len(header) and any(f.strip() for f in fields[len(header) :]):
            problems.append(Problem(display, line, f"{len(fields)} fields but the header has {len(header)} columns"))
            continue
        padded = fields + [""] * (len(header) - len(fields))  # short rows: the missing cells are empty
        cells = {key: padded[index] for key, index in positions.items()}
        row = _parse_row(line, cells, party_columns, problems, display)
        if row is None:
            continue
        key = fold_name(row.constituency)
        if key in first_line:
            problems.append(
                Problem(
                    display,
                    line,
                    f"duplicate constituency {row.constituency!r} (first on line {first_line[key]})",
                )
            )
            continue
        first_line[key] = line
        result.append(row)
    if problems:
        raise InputError(problems)
    return Baseline(result)


def _format_number(value: float, places: int) -> str:
    """``65.0`` → ``"65.00"``; negative zero is written as ``0``."""
    return f"{value + 0.0:.{places}f}"


def write_baseline(rows: Iterable[BaselineRow], path: Path, *, places: int = 2) -> None:
    """Write rows as baseline.csv: the main parties' columns first, then the others by code.

    Shares and turnout are written to ``places`` decimals. The file is replaced atomically.
    """
    rows = list(rows)
    codes = {code for row in rows for code in row.shares}
    ordered = [c for c in MAIN_PARTIES if c in codes] + sorted(codes - set(MAIN_PARTIES), key=str.casefold)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*REQUIRED_COLUMNS, *ordered])
    for row in rows:
        writer.writerow(
            [
                row.constituency,
                "" if row.electorate is None else str(row.electorate),
                "" if row.turnout is None else _format_number(row.turnout, places),
                row.winner,
                *("" if c not in row.shares else _format_number(row.shares[c], places) for c in ordered),
            ]
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(buffer.getvalue())
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
