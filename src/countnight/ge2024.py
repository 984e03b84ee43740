"""Readers for the 2024 general election files: the Commons Library results and the 2019 notionals.

The three files live in one data folder (``shared/data/ge2024``; see its SOURCE.md):

* ``HoC-GE2024-results-by-candidate.csv``: one row per candidate (UTF-8 BOM, CRLF);
* ``HoC-GE2024-results-by-constituency.csv``: electorate, valid/invalid votes, ``Result``, ``Majority``;
* the Rallings & Thrasher notional 2019 results on the new boundaries (votes per party column).

Every quirk SOURCE.md lists is handled here, so callers see clean names and party codes.
"""

from __future__ import annotations

import csv
import difflib
import functools
import re
import unicodedata
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType

from countnight.baseline import BaselineRow, fold_name, parse_number, read_csv_table
from countnight.elections import Vote
from countnight.errors import InputError, Problem
from countnight.parties import fold_party, party_code

__all__ = [
    "CANDIDATES_FILE",
    "CONSTITUENCIES_FILE",
    "NOTIONAL_FILE",
    "Constituency2024",
    "Notional2019",
    "build_baseline",
    "clean_text",
    "parties_2024",
    "read_candidates",
    "read_constituencies",
    "read_notional",
    "read_results",
]

CANDIDATES_FILE = "HoC-GE2024-results-by-candidate.csv"
CONSTITUENCIES_FILE = "HoC-GE2024-results-by-constituency.csv"


def shipped_data() -> Path:
    """The Library's files and the 2019 notionals as shipped in the package (``countnight/data/ge2024``)."""
    return Path(__file__).resolve().parent / "data" / "ge2024"


NOTIONAL_FILE = "estimates-2019-general-election-result-new-constituencies-data-results.csv"


@functools.lru_cache(maxsize=1)
def parties_2024() -> frozenset[str]:
    """Every party that stood in 2024, by name and by abbreviation as the Library writes them ("Heritage Party",
    "HPUK"), folded as party codes are (parties.fold_party): real parties countnight has no colour or phrasing
    for, which a result may name without a warning. Read from the shipped candidates file once, when first
    asked (a result naming a party countnight does not know); empty if the file is not there."""
    try:
        with (shipped_data() / CANDIDATES_FILE).open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, csv.Error, UnicodeDecodeError):
        return frozenset()
    names = {row.get(column) or "" for row in rows for column in ("Party name", "Party abbreviation")}
    keys = {fold_party(name) for name in names if name.strip()}
    return frozenset(keys | {re.sub(r"party$", "", re.sub(r"^the", "", key)) for key in keys} - {""})


# The notional file still carries five pre-2024 Scottish ONS codes (SOURCE.md).
OLD_SCOTTISH_CODES: Mapping[str, str] = MappingProxyType(
    {
        "S14000006": "S14000107",
        "S14000008": "S14000108",
        "S14000010": "S14000109",
        "S14000040": "S14000110",
        "S14000058": "S14000111",
    }
)

# Notional vote columns whose stem is not the code the Library uses in 2024. The last three are the
# Library's own choices, read off its ``Change`` column: the Young People's Party renamed itself
# Shared Ground; SOC is the Socialist Party of Great Britain; COML the Communist League.
_NOTIONAL_PARTY_COLUMNS: Mapping[str, str] = MappingProxyType(
    {
        "Conv": "Con",
        "Labv": "Lab",
        "LDv": "LD",
        "Grnv": "Green",
        "Brxv": "RUK",
        "YPPv": "SG",
        "SOCv": "SPGB",
        "COMLv": "Comm L",
    }
)
# Columns between ``Conv`` and ``blank2`` that are totals or spacers, not parties.
_NOTIONAL_NOT_PARTIES = frozenset({"TotOthv", "MaxOthv", "Blank", "Blank2", "blank2"})


@dataclass(frozen=True)
class Constituency2024:
    """One constituency's 2024 result as the Library published it, with its candidates' votes."""

    ons_id: str
    name: str
    region: str
    country: str
    electorate: int
    valid_votes: int
    invalid_votes: int
    result: str
    first_party: str
    second_party: str
    majority: int
    candidates: tuple[Vote, ...]


@dataclass(frozen=True)
class Notional2019:
    """A 2019 notional result on the 2024 boundaries: votes by party code (independents summed)."""

    ons_id: str
    name: str
    electorate: int
    turnout: float
    winner: str
    total_votes: int
    votes: Mapping[str, int]

    @property
    def shares(self) -> dict[str, float]:
        """Share (%) of each party that stood, in full precision."""
        return {code: 100 * n / self.total_votes for code, n in self.votes.items() if n > 0}


def clean_text(text: str) -> str:
    """Repair UTF-8 read as Latin-1/cp1252 ("Ã\\x81ine" → "Áine"), drop control characters, fold spaces."""
    text = text.strip()
    if any(ord(c) > 0x7F for c in text):
        for codec in ("latin-1", "cp1252"):
            try:
                text = text.encode(codec).decode("utf-8")
                break
            except UnicodeError:
                # Not mojibake (a real "é" is not a valid UTF-8 byte sequence): keep it.
                continue
    # Tabs and newlines become spaces; what control characters are left (bells, C1 codes) go.
    text = " ".join(text.split())
    text = "".join(c for c in text if unicodedata.category(c) != "Cc")
    return unicodedata.normalize("NFC", text)


class _Table:
    """A CSV file's rows as dicts, with helpers that report ``FILE:LINE: message``."""

    def __init__(self, path: Path, required: Sequence[str]) -> None:
        self.display = str(path)
        header, rows = read_csv_table(path, self.display)
        self.header = [h.strip().strip('"') for h in header]  # the notional '"turnout"' header
        missing = [c for c in required if c not in self.header]
        if missing:
            raise InputError.one(self.display, 1, f"missing column(s): {', '.join(missing)}")
        self.rows: list[tuple[int, dict[str, str]]] = []
        problems: list[Problem] = []
        for line, fields in rows:
            if len(fields) != len(self.header):
                problems.append(Problem(self.display, line, f"{len(fields)} fields, expected {len(self.header)}"))
                continue
            self.rows.append((line, {h: f.strip() for h, f in zip(self.header, fields, strict=True)}))
        if problems:
            raise InputError(problems)

    def integer(self, line: int, row: Mapping[str, str], column: str, *, empty: int | None = None) -> int:
        raw = row[column]
        if not raw and empty is not None:
            return empty
        try:
            value = parse_number(raw)  # the notional file writes some totals as "37,508"
        except ValueError:
            value = -1.0
        if value < 0 or not value.is_integer():
            raise InputError.one(self.display, line, f"{column} {raw!r} is not a whole number")
        return int(value)

    def decimal(self, line: int, row: Mapping[str, str], column: str) -> float:
        try:
            return parse_number(row[column])
        except ValueError:
            raise InputError.one(self.display, line, f"{column} {row[column]!r} is not a number") from None

    def text(self, line: int, row: Mapping[str, str], column: str) -> str:
        value = clean_text(row[column])
        if not value:
            raise InputError.one(self.display, line, f"{column} is empty")
        return value


def read_candidates(path: Path) -> dict[str, list[Vote]]:
    """Candidates by constituency ONS ID, in file order, with party codes (``Yrks`` → ``Yorks``)."""
    table = _Table(path, ("ONS ID", "Party abbreviation", "Candidate first name", "Candidate surname", "Votes"))
    result: dict[str, list[Vote]] = defaultdict(list)
    for line, row in table.rows:
        name = clean_text(f"{row['Candidate first name']} {row['Candidate surname']}")
        if not name:
            raise InputError.one(table.display, line, "the candidate has no name")
        code = party_code(table.text(line, row, "Party abbreviation"))
        result[table.text(line, row, "ONS ID")].append(Vote(name, code, table.integer(line, row, "Votes")))
    return dict(result)


def read_constituencies(path: Path) -> list[Constituency2024]:
    """The Library's per-constituency rows (without candidates), in file order."""
    columns = ("ONS ID", "Constituency name", "Region name", "Country name", "Result", "First party")
    numbers = ("Electorate", "Valid votes", "Invalid votes", "Majority")
    table = _Table(path, (*columns, "Second party", *numbers))
    seats: list[Constituency2024] = []
    for line, row in table.rows:
        text = {c: table.text(line, row, c) for c in columns}
        count = {c: table.integer(line, row, c) for c in numbers}
        seats.append(
            Constituency2024(
                ons_id=text["ONS ID"],
                name=text["Constituency name"],
                region=text["Region name"],
                country=text["Country name"],
                electorate=count["Electorate"],
                valid_votes=count["Valid votes"],
                invalid_votes=count["Invalid votes"],
                result=text["Result"],
                first_party=party_code(text["First party"]),
                second_party=party_code(row["Second party"]),
                majority=count["Majority"],
                candidates=(),
            )
        )
    return seats


def read_results(data_dir: Path) -> list[Constituency2024]:
    """Every 2024 constituency with its candidates, joining the two Library files on ONS ID."""
    by_id = read_candidates(data_dir / CANDIDATES_FILE)
    seats = read_constituencies(data_dir / CONSTITUENCIES_FILE)
    missing = [s.name for s in seats if s.ons_id not in by_id]
    if missing:
        raise InputError.one(str(data_dir / CANDIDATES_FILE), 0, f"no candidates for {', '.join(missing)}")
    return [replace(s, candidates=tuple(by_id[s.ons_id])) for s in seats]


def _notional_party_columns(header: Sequence[str], known: Mapping[str, str]) -> dict[str, str]:
    """Vote column → party code. ``known`` maps casefolded Library codes to their spelling."""
    start, end = header.index("Conv"), header.index("blank2")
    columns: dict[str, str] = {}
    for column in header[start:end]:
        if column in _NOTIONAL_NOT_PARTIES or not column.endswith("v"):
            continue
        stem = column[:-1]
        if column in _NOTIONAL_PARTY_COLUMNS:
            code = _NOTIONAL_PARTY_COLUMNS[column]
        elif stem.upper().startswith("IND") and stem[3:].isdigit():
            code = "Ind"  # IND1v … IND6v: each independent candidate; summed as Ind
        else:
            code = party_code(stem)
            # "LIB", "INET": the notional file shouts; use the Library's spelling so changes line up.
            code = known.get(code.casefold(), code)
        columns[column] = code
    return columns


def read_notional(path: Path, *, known_codes: Sequence[str] = ()) -> dict[str, Notional2019]:
    """The 2019 notional results keyed by (2024) ONS code, old Scottish codes remapped.

    ``known_codes`` are party codes as spelt elsewhere (the Library's), to align minor parties'
    shouty column names with them. The Speaker has no column: his votes are the total less every
    party column, and are given to ``Spk`` in the seat the Speaker won.
    """
    table = _Table(path, ("ONS code", "PA name", "turnout", "electorate", "Conv", "blank2", "total_votes", "Win19"))
    known = {code.casefold(): code for code in known_codes}
    party_columns = _notional_party_columns(table.header, known)
    seats: dict[str, Notional2019] = {}
    for line, row in table.rows:
        ons = table.text(line, row, "ONS code")
        ons = OLD_SCOTTISH_CODES.get(ons, ons)
        votes: dict[str, int] = defaultdict(int)
        for column, code in party_columns.items():
            votes[code] += table.integer(line, row, column, empty=0)
        total = table.integer(line, row, "total_votes")
        winner = party_code(table.text(line, row, "Win19"))
        remainder = total - sum(votes.values())
        if remainder and winner == "Spk" and votes.get("Spk", 0) == 0:
            votes["Spk"] = remainder
        elif remainder:
            raise InputError.one(
                table.display, line, f"party votes add up to {total - remainder:,}, not total_votes {total:,}"
            )
        if total <= 0:
            raise InputError.one(table.display, line, "total_votes is 0")
        if ons in seats:
            raise InputError.one(table.display, line, f"ONS code {ons} appears twice")
        seats[ons] = Notional2019(
            ons_id=ons,
            name=table.text(line, row, "PA name"),
            electorate=table.integer(line, row, "electorate"),
            turnout=table.decimal(line, row, "turnout"),
            winner=winner,
            total_votes=total,
            votes=MappingProxyType({c: n for c, n in votes.items() if n > 0}),
        )
    return seats


def build_baseline(
    results_dir: Path, *, region: str | None = None, constituencies: Sequence[str] | None = None
) -> list[BaselineRow]:
    """Baseline rows from the 2019 notionals, named and registered as in 2024.

    ``electorate`` is the 2024 register (the SPEC's baseline electorate is *this* election's);
    turnout, winner and shares are the 2019 notional ones. ``region`` keeps one Library region or
    nation ("West Midlands", "Scotland"); ``constituencies`` picks seats by name, in that order.
    Raises ValueError for a name or region that matches nothing, with a suggestion.
    """
    seats = read_constituencies(results_dir / CONSTITUENCIES_FILE)
    candidates = read_candidates(results_dir / CANDIDATES_FILE)
    codes = sorted({v.party for votes in candidates.values() for v in votes})
    notional = read_notional(results_dir / NOTIONAL_FILE, known_codes=codes)

    if region is not None:
        regions = {fold_name(s.region): s.region for s in seats} | {fold_name(s.country): s.country for s in seats}
        if fold_name(region) not in regions:
            raise ValueError(f"no region {region!r}; the regions are {', '.join(sorted(set(regions.values())))}")
        seats = [s for s in seats if fold_name(region) in (fold_name(s.region), fold_name(s.country))]
    if constituencies is not None:
        by_name = {fold_name(s.name): s for s in seats}
        chosen = []
        for name in constituencies:
            if fold_name(name) not in by_name:
                close = difflib.get_close_matches(fold_name(name), list(by_name), n=1)
                hint = f"; did you mean {by_name[close[0]].name!r}?" if close else ""
                where = f" in {region}" if region else ""
                raise ValueError(f"no constituency {name!r}{where}{hint}")
            chosen.append(by_name[fold_name(name)])
        seats = chosen

    rows = []
    for seat in seats:
        before = notional.get(seat.ons_id)
        if before is None:
            raise InputError.one(str(results_dir / NOTIONAL_FILE), 0, f"no notional result for {seat.name}")
        rows.append(BaselineRow(seat.name, seat.electorate, before.turnout, before.winner, before.shares))
    return rows
