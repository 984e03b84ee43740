"""The 2024 general election files: readers, quirks, and the national correctness test."""

from __future__ import annotations

import csv
import importlib.util
import os
import shutil
from collections.abc import Mapping
from pathlib import Path

import pytest

from countnight import ge2024
from countnight.baseline import Baseline, load_baseline
from countnight.elections import ResultFigures, compute_result, tally
from countnight.errors import InputError
from countnight.parties import party_code

REPO = Path(__file__).resolve().parents[1]
# The reference copy beside the checkout when it is there (test_shipped_data proves the shipped one equal to it)
_REFERENCE = Path(__file__).resolve().parents[2] / "shared/data/ge2024"
DATA = Path(os.environ.get("COUNTNIGHT_DATA") or (_REFERENCE if _REFERENCE.is_dir() else ge2024.shipped_data()))
pytestmark = pytest.mark.skipif(
    not (DATA / ge2024.CANDIDATES_FILE).is_file(),
    reason=f"the GE2024 data files are not in {DATA} (set COUNTNIGHT_DATA to their folder)",
)


@pytest.fixture(scope="module")
def seats() -> list[ge2024.Constituency2024]:
    return ge2024.read_results(DATA)


@pytest.fixture(scope="module")
def baseline() -> Baseline:
    return Baseline(ge2024.build_baseline(DATA))


@pytest.fixture(scope="module")
def computed(seats: list[ge2024.Constituency2024], baseline: Baseline) -> dict[str, ResultFigures]:
    return {
        s.name: compute_result(
            s.candidates, electorate=s.electorate, rejected=s.invalid_votes, winner=None, baseline=baseline.get(s.name)
        )
        for s in seats
    }


def test_all_650_seats_match_the_library(
    seats: list[ge2024.Constituency2024], computed: Mapping[str, ResultFigures]
) -> None:
    assert len(seats) == 650
    wrong = []
    for seat in seats:
        r = computed[seat.name]
        ours = (r.winner.party, r.runner_up and r.runner_up.party, r.majority, r.verdict, r.valid_votes)
        theirs = (seat.first_party, seat.second_party, seat.majority, seat.result, seat.valid_votes)
        if ours != theirs:
            wrong.append(f"{seat.name}: ours {ours}, the Library's {theirs}")
    assert wrong == [], f"{650 - len(wrong)} of 650 match"


def test_seat_tally(computed: Mapping[str, ResultFigures], baseline: Baseline) -> None:
    board = tally(computed.items(), baseline)
    assert dict(board.seats) == {
        "Lab": 411, "Con": 121, "LD": 72, "SNP": 9, "SF": 7, "Ind": 6, "RUK": 5, "DUP": 5,
        "Green": 4, "PC": 4, "SDLP": 2, "APNI": 1, "TUV": 1, "UUP": 1, "Spk": 1,
    }  # fmt: skip
    assert list(board.seats.values()) == sorted(board.seats.values(), reverse=True)
    assert (board.declared, board.total) == (650, 650)
    assert (board.gains["Lab"], board.losses["Con"], board.losses["SNP"]) == (218, 252, 40)
    assert sum(board.gains.values()) == sum(board.losses.values())


def test_share_changes_match_the_librarys_change_column(
    seats: list[ge2024.Constituency2024], computed: Mapping[str, ResultFigures]
) -> None:
    names = {s.ons_id: s.name for s in seats}
    with (DATA / ge2024.CANDIDATES_FILE).open(encoding="utf-8-sig", newline="") as f:
        rows = [row for row in csv.DictReader(f) if row["Change"]]
    assert len(rows) > 3000
    for row in rows:
        change = computed[names[row["ONS ID"]]].share_change[party_code(row["Party abbreviation"])]
        assert change is not None
        assert change / 100 == pytest.approx(float(row["Change"]), abs=2e-6), row["Constituency name"]


def test_stafford_turnout_on_both_bases(seats: list[ge2024.Constituency2024], baseline: Baseline) -> None:
    stafford = next(s for s in seats if s.name == "Stafford")
    row = baseline.get("Stafford")
    returning_officer = compute_result(
        stafford.candidates, electorate=None, rejected=stafford.invalid_votes, winner=None, baseline=row
    )
    library = compute_result(stafford.candidates, electorate=None, rejected=None, winner=None, baseline=row)
    assert returning_officer.turnout_pct is not None and library.turnout_pct is not None
    assert round(returning_officer.turnout_pct, 2) == 65.39  # (valid + invalid) ÷ electorate
    assert round(library.turnout_pct, 2) == 65.16  # valid ÷ electorate, the Library's basis
    assert returning_officer.headline("Stafford") == "Labour gain Stafford from the Conservatives"


def test_cannock_chase_swing(computed: Mapping[str, ResultFigures]) -> None:
    swing = computed["Cannock Chase"].swing
    assert swing is not None
    assert (swing.from_party, swing.to_party, round(swing.points, 1)) == ("Con", "Lab", 25.1)


def test_speaker_and_alliance_codes(computed: Mapping[str, ResultFigures], baseline: Baseline) -> None:
    chorley, north_down = baseline.get("Chorley"), baseline.get("North Down")
    assert chorley is not None and north_down is not None
    assert chorley.winner == "Spk"  # "Spkr" in the notional file
    assert chorley.shares["Spk"] == pytest.approx(67.30, abs=0.005)  # the Speaker has no column: the remainder
    assert north_down.winner == "APNI"  # "All" in the notional file
    assert computed["Chorley"].verdict == "Spk hold"
    assert computed["North Down"].verdict == "Ind gain from APNI"


def test_brexit_party_is_reform(baseline: Baseline) -> None:
    hartlepool = baseline.get("Hartlepool")
    assert hartlepool is not None and hartlepool.shares["RUK"] > 20


def test_baseline_electorate_is_the_2024_register(seats: list[ge2024.Constituency2024], baseline: Baseline) -> None:
    notional = ge2024.read_notional(DATA / ge2024.NOTIONAL_FILE)
    stafford = next(s for s in seats if s.name == "Stafford")
    row = baseline.get("Stafford")
    assert row is not None
    assert (row.electorate, notional[stafford.ons_id].electorate) == (70608, 70537)
    assert row.turnout == 72.7
    assert baseline.names() == [s.name for s in seats]


def test_old_scottish_codes_are_remapped() -> None:
    notional = ge2024.read_notional(DATA / ge2024.NOTIONAL_FILE)
    assert len(notional) == 650
    assert set(ge2024.OLD_SCOTTISH_CODES.values()) <= set(notional)
    assert not set(ge2024.OLD_SCOTTISH_CODES) & set(notional)


def test_candidate_names_are_cleaned(seats: list[ge2024.Constituency2024]) -> None:
    names = {v.name for s in seats for v in s.candidates}
    assert "Áine Groogan" in names  # "Ã\x81ine" in the file
    assert all(n == n.strip() and n.isprintable() for n in names)


def test_library_codes_are_kept(seats: list[ge2024.Constituency2024]) -> None:
    parties = {v.party for s in seats for v in s.candidates}
    assert {"Lab", "Con", "RUK", "Spk", "APNI", "WPB", "Yorks", "HPUK", "Comm L"} <= parties
    assert "Yrks" not in parties


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Ã\x81ine", "Áine"),
        ("Ã©milie  Dupont ", "émilie Dupont"),
        ("Zoë", "Zoë"),
        ("Sinn Féin", "Sinn Féin"),
        ("Bad\x07Bell\tName", "BadBell Name"),
        ("County ", "County"),
    ],
)
def test_clean_text(raw: str, clean: str) -> None:
    assert ge2024.clean_text(raw) == clean


def test_build_baseline_filters() -> None:
    west_midlands = ge2024.build_baseline(DATA, region="west midlands")
    assert len(west_midlands) == 57
    picked = ge2024.build_baseline(DATA, region="West Midlands", constituencies=["stafford", "Cannock Chase"])
    assert [r.constituency for r in picked] == ["Stafford", "Cannock Chase"]
    with pytest.raises(ValueError, match="no constituency 'Staford'; did you mean 'Stafford'"):
        ge2024.build_baseline(DATA, constituencies=["Staford"])
    with pytest.raises(ValueError, match="no constituency 'Congleton' in West Midlands"):
        ge2024.build_baseline(DATA, region="West Midlands", constituencies=["Congleton"])
    with pytest.raises(ValueError, match="no region 'Mercia'"):
        ge2024.build_baseline(DATA, region="Mercia")


def test_sample_baseline_is_up_to_date(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("make_sample_baseline", REPO / "scripts/make_sample_baseline.py")
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    out = tmp_path / "baseline.csv"
    assert script.main([str(DATA), "--out", str(out)]) == 0
    assert out.read_text() == (REPO / "baseline.csv").read_text()
    sample = load_baseline(out, "baseline.csv")
    assert len(sample) == 14
    cannock = sample.get("Cannock Chase")
    # The file's 2-decimal shares still give the same swing to 1 dp.
    seat = next(s for s in ge2024.read_results(DATA) if s.name == "Cannock Chase")
    r = compute_result(seat.candidates, electorate=None, rejected=None, winner=None, baseline=cannock)
    assert r.swing is not None and round(r.swing.points, 1) == 25.1


# Broken copies of the data files: each must name the file and the line.
def _copy(tmp_path: Path, name: str, edit: str, replacement: str) -> Path:
    for file in (ge2024.CANDIDATES_FILE, ge2024.CONSTITUENCIES_FILE, ge2024.NOTIONAL_FILE):
        shutil.copy(DATA / file, tmp_path / file)
    path = tmp_path / name
    data = path.read_bytes()
    assert edit.encode() in data
    path.write_bytes(data.replace(edit.encode(), replacement.encode(), 1))
    return path


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        ge2024.read_results(tmp_path)
    assert str(caught.value) == f"{tmp_path / ge2024.CANDIDATES_FILE}: cannot read the file: No such file or directory"


def test_bad_number_names_file_and_line(tmp_path: Path) -> None:
    path = _copy(tmp_path, ge2024.CONSTITUENCIES_FILE, ",72580,35755,", ",seventy,35755,")
    with pytest.raises(InputError) as caught:
        ge2024.read_results(tmp_path)
    assert str(caught.value) == f"{path}:2: Electorate 'seventy' is not a whole number"


def test_missing_column_names_file(tmp_path: Path) -> None:
    path = _copy(tmp_path, ge2024.CANDIDATES_FILE, ",Votes,", ",Vote count,")
    with pytest.raises(InputError) as caught:
        ge2024.read_results(tmp_path)
    assert str(caught.value) == f"{path}:1: missing column(s): Votes"


def test_notional_totals_must_add_up(tmp_path: Path) -> None:
    path = _copy(tmp_path, ge2024.NOTIONAL_FILE, ",44423,13457,", ",44424,13457,")
    with pytest.raises(InputError) as caught:
        ge2024.build_baseline(tmp_path)
    assert str(caught.value) == f"{path}:2: party votes add up to 44,423, not total_votes 44,424"
