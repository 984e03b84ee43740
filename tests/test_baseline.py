"""Reading and writing baseline.csv."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from countnight import baseline as baseline_module
from countnight.baseline import Baseline, BaselineRow, fold_name, load_baseline, parse_number, write_baseline
from countnight.errors import InputError

HEADER = "constituency,electorate,turnout,winner,Con,Lab,LD"
GOOD = f"""{HEADER}
Stafford,70608,72.7,Con,57.94,31.20,6.38
Crewe & Nantwich,"78,423",65.8%,con,50.82,39.24,5.13
Stoke-on-Trent Central,,,Lab,47.11,42.89,
"""


def write(tmp_path: Path, content: str | bytes, name: str = "baseline.csv") -> Path:
    """Write a file into tmp_path as given (bytes untouched, text as UTF-8 with \\n)."""
    path = tmp_path / name
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


def load(tmp_path: Path, content: str | bytes) -> Baseline:
    return load_baseline(write(tmp_path, content), "baseline.csv")


def test_reads_rows_in_file_order(tmp_path: Path) -> None:
    baseline = load(tmp_path, GOOD)
    assert len(baseline) == 3
    assert baseline.names() == ["Stafford", "Crewe & Nantwich", "Stoke-on-Trent Central"]
    stafford = baseline.get("Stafford")
    assert stafford == BaselineRow("Stafford", 70608, 72.7, "Con", {"Con": 57.94, "Lab": 31.20, "LD": 6.38})


def test_numbers_with_commas_and_percent_signs(tmp_path: Path) -> None:
    crewe = load(tmp_path, GOOD).get("Crewe and Nantwich")
    assert crewe is not None
    assert (crewe.electorate, crewe.turnout, crewe.winner) == (78423, 65.8, "Con")


def test_empty_cells_are_unknown_or_did_not_stand(tmp_path: Path) -> None:
    stoke = load(tmp_path, GOOD).get("stoke on trent central")
    assert stoke is not None
    assert (stoke.electorate, stoke.turnout) == (None, None)
    assert dict(stoke.shares) == {"Con": 47.11, "Lab": 42.89}  # LD did not stand


def test_bom_and_crlf_are_tolerated(tmp_path: Path) -> None:
    baseline = load(tmp_path, b"\xef\xbb\xbf" + GOOD.replace("\n", "\r\n").encode())
    assert baseline.names()[0] == "Stafford"
    assert baseline.get("Stafford") == load(tmp_path, GOOD).get("Stafford")


def test_party_headers_go_through_party_code(tmp_path: Path) -> None:
    text = "Constituency,Electorate,Turnout,Winner,Conservative,Labour Party,Reform UK,Monster Raving Loony\n"
    text += "Stafford,70608,72.7,Conservative,57.94,31.20,,0.5\n"
    row = load(tmp_path, text).get("stafford")
    assert row is not None
    assert row.winner == "Con"
    assert dict(row.shares) == {"Con": 57.94, "Lab": 31.20, "Monster Raving Loony": 0.5}


def test_unknown_winner_is_kept_as_written(tmp_path: Path) -> None:
    row = load(tmp_path, f"{HEADER}\nStafford,70608,72.7,Tamworth Independents,57.94,31.20,6.38\n").get("Stafford")
    assert row is not None and row.winner == "Tamworth Independents"


def test_trailing_empty_columns_from_spreadsheets(tmp_path: Path) -> None:
    baseline = load(tmp_path, f"{HEADER},,\nStafford,70608,72.7,Con,57.94,31.20,6.38,,\n")
    assert baseline.names() == ["Stafford"]


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("Crewe and Nantwich", "Crewe & Nantwich"),
        ("CREWE   &   NANTWICH", "Crewe & Nantwich"),
        ("stoke on trent central", "Stoke-on-Trent Central"),
        (" Stafford ", "Stafford"),
        ("Staffordshire", None),
    ],
)
def test_get_folds_names(tmp_path: Path, query: str, found: str | None) -> None:
    row = load(tmp_path, GOOD).get(query)
    assert (row.constituency if row else None) == found


def test_suggest(tmp_path: Path) -> None:
    baseline = load(tmp_path, GOOD)
    assert baseline.suggest("Staford") == "Stafford"
    assert baseline.suggest("Crewe and Namptwich") == "Crewe & Nantwich"
    assert baseline.suggest("Orkney and Shetland") is None
    assert "crewe and nantwich" in baseline


def test_fold_name() -> None:
    assert fold_name("Ynys Môn") == "ynys mon"
    assert fold_name("Stone, Great Wyrley & Penkridge") == "stone great wyrley and penkridge"
    assert fold_name("Newcastle-under-Lyme") == fold_name("newcastle under lyme")


def test_rows_are_frozen() -> None:
    row = BaselineRow("X", 1, 50.0, "Con", {"Con": 50.0})
    with pytest.raises(TypeError):
        row.shares["Lab"] = 1.0  # type: ignore[index]


def test_write_then_load_round_trips(tmp_path: Path) -> None:
    rows = [
        BaselineRow("Chorley", 74801, 53.5, "Spk", {"Spk": 67.3, "Green": 9.03, "Ind": 23.67}),
        BaselineRow("Stafford", 70608, 72.7, "Con", {"Con": 57.94, "Lab": 31.2, "HPUK": 0.4, "Alba": 0.1}),
        BaselineRow("Nowhere", None, None, "Lab", {}),
    ]
    path = tmp_path / "out" / "baseline.csv"
    write_baseline(rows, path)
    text = path.read_text()
    # The main parties first in their usual order, then the others by code.
    assert text.splitlines()[0] == "constituency,electorate,turnout,winner,Lab,Con,Green,Ind,Spk,Alba,HPUK"
    assert text.splitlines()[3] == "Nowhere,,,Lab,,,,,,,"
    assert list(load_baseline(path, "b.csv")) == rows


BAD_FILES = [
    pytest.param(b"", "baseline.csv: the file is empty: expected a header line", id="empty"),
    pytest.param(b"\n\n", "baseline.csv: the file is empty: expected a header line", id="blank-lines"),
    pytest.param(
        b"constituency,electorate,winner,Con\nStafford,1,Con,5\n",
        "baseline.csv:1: missing column 'turnout': the header starts constituency, electorate, turnout, winner",
        id="missing-column",
    ),
    pytest.param(
        f"{HEADER},Labour\nStafford,70608,72.7,Con,57.94,31.20,6.38,1\n".encode(),
        "baseline.csv:1: column 'Labour' repeats party Lab (from 'Lab')",
        id="repeated-party",
    ),
    pytest.param(
        f"{HEADER}\nStafford,70608,72.7,Con,57.94,31.20,6.38\nLichfield,lots,71.0,Con,64.12,21.02,10.54\n".encode(),
        "baseline.csv:3: electorate 'lots' is not a positive whole number",
        id="bad-electorate",
    ),
    pytest.param(
        f"{HEADER}\nStafford,70608.5,72.7,Con,57.94,31.20,6.38\n".encode(),
        "baseline.csv:2: electorate '70608.5' is not a positive whole number",
        id="fractional-electorate",
    ),
    pytest.param(
        f"{HEADER}\nStafford,70608,172,Con,57.94,31.20,6.38\n".encode(),
        "baseline.csv:2: turnout '172' is not a percentage between 0 and 100",
        id="turnout-over-100",
    ),
    pytest.param(
        f"{HEADER}\nStafford,70608,72.7,Con,57.94,thirty,6.38\n".encode(),
        "baseline.csv:2: Lab share 'thirty' is not a percentage between 0 and 100",
        id="bad-share",
    ),
    pytest.param(
        f"{HEADER}\nStafford,70608,72.7,Con,77.94,31.20,6.38\n".encode(),
        "baseline.csv:2: the shares add up to 115.52%, more than 100%",
        id="shares-over-100",
    ),
    pytest.param(
        f"{HEADER}\nStafford,70608,72.7, ,57.94,31.20,6.38\n".encode(),
        "baseline.csv:2: the previous winner is empty: give the winning party's code (Con, Lab, …)",
        id="no-winner",
    ),
    pytest.param(
        f"{HEADER}\n,70608,72.7,Con,57.94,31.20,6.38\n".encode(),
        "baseline.csv:2: the constituency name is empty",
        id="no-name",
    ),
    pytest.param(
        f"{HEADER}\nCrewe and Nantwich,1,1,Con,,,\n\ncrewe & nantwich,1,1,Con,,,\n".encode(),
        "baseline.csv:4: duplicate constituency 'crewe & nantwich' (first on line 2)",
        id="duplicate-after-blank-line",
    ),
    pytest.param(
        f"{HEADER}\nStafford,70608,72.7,Con,57.94,31.20,6.38,12\n".encode(),
        "baseline.csv:2: 8 fields but the header has 7 columns",
        id="too-many-fields",
    ),
    pytest.param(
        f"{HEADER}\nStafford,70608,72.7,Con,57.94,31.20,6.38\nSt\xf6ne,1,1,Con,,,\n".encode("latin-1"),
        "baseline.csv:3: not valid UTF-8 (byte 0xF6): save the file as UTF-8",
        id="latin-1",
    ),
    pytest.param(
        f'{HEADER}\n"Stafford,70608,72.7,Con,57.94,31.20,6.38\n'.encode(),
        "baseline.csv:2: not valid CSV: unexpected end of data",
        id="unclosed-quote",
    ),
]


@pytest.mark.parametrize(("content", "message"), BAD_FILES)
def test_bad_files(tmp_path: Path, content: bytes, message: str) -> None:
    with pytest.raises(InputError) as caught:
        load(tmp_path, content)
    assert [str(p) for p in caught.value.problems] == [message]


def test_every_bad_row_is_reported(tmp_path: Path) -> None:
    text = f"{HEADER}\nA,x,72.7,Con,1,1,1\nB,1,1,Con,1,1,1\nC,1,y,,1,1,1\n"
    with pytest.raises(InputError) as caught:
        load(tmp_path, text)
    assert str(caught.value).splitlines() == [
        "baseline.csv:2: electorate 'x' is not a positive whole number",
        "baseline.csv:4: turnout 'y' is not a percentage between 0 and 100",
        "baseline.csv:4: the previous winner is empty: give the winning party's code (Con, Lab, …)",
    ]


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        load_baseline(tmp_path / "nope.csv", "nope.csv")
    assert str(caught.value) == "nope.csv: cannot read the file: No such file or directory"


def _parse_number_by_cleaning(text: str) -> float | None:
    """parse_number as it was before its shortcut for plain cells: clean, check, convert."""
    cleaned = text.strip().removesuffix("%").strip().replace(",", "")
    return float(cleaned) if baseline_module._NUMBER.fullmatch(cleaned) else None


@given(st.text(alphabet="0123456789.,% +-e٣\t", max_size=12))
@settings(max_examples=3000, deadline=None)
def test_parse_number_reads_every_cell_as_cleaning_it_does(text: str) -> None:
    try:
        got: float | None = parse_number(text)
    except ValueError:
        got = None
    assert got == _parse_number_by_cleaning(text)
