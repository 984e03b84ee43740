"""Election arithmetic on hand-checked numbers."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from countnight.baseline import Baseline, BaselineRow
from countnight.elections import ResultFigures, Swing, Vote, compute_result, results_document, tally

# A made-up seat with round numbers: 1,000 valid votes, Con won last time.
VOTES = [
    Vote("Ann Green", "Lab", 500),
    Vote("Bob Blue", "Con", 300),
    Vote("Cat Gold", "LD", 150),
    Vote("Dan Leaf", "Green", 50),
]
BEFORE = BaselineRow("Testshire", 2000, 60.0, "Con", {"Con": 45.0, "Lab": 35.0, "LD": 15.0, "Green": 5.0})


def result(
    candidates: list[Vote] = VOTES,
    *,
    electorate: int | None = None,
    rejected: int | None = None,
    winner: str | None = None,
    baseline: BaselineRow | None = BEFORE,
) -> ResultFigures:
    return compute_result(candidates, electorate=electorate, rejected=rejected, winner=winner, baseline=baseline)


def test_shares_majority_and_order() -> None:
    r = result([*reversed(VOTES)])
    assert [(c.name, c.share) for c in r.candidates] == [
        ("Ann Green", 50.0), ("Bob Blue", 30.0), ("Cat Gold", 15.0), ("Dan Leaf", 5.0),
    ]  # fmt: skip
    assert (r.winner.name, r.runner_up and r.runner_up.name) == ("Ann Green", "Bob Blue")
    assert (r.valid_votes, r.majority, r.majority_pct) == (1000, 200, 20.0)


def test_equal_votes_below_the_top_are_ordered_by_name() -> None:
    r = result([Vote("Zed", "Lab", 600), Vote("Yan", "Con", 200), Vote("Abe", "LD", 200)], baseline=None)
    assert [c.name for c in r.candidates] == ["Zed", "Abe", "Yan"]


@pytest.mark.parametrize(
    ("electorate", "rejected", "ballots", "turnout"),
    [
        (2000, None, 1000, 50.0),
        (2000, 10, 1010, 50.5),
        (None, 10, 1010, 50.5),  # the baseline's electorate
        (4000, 0, 1000, 25.0),  # the result's own electorate wins over the baseline's
    ],
)
def test_turnout(electorate: int | None, rejected: int | None, ballots: int, turnout: float) -> None:
    r = result(electorate=electorate, rejected=rejected)
    assert (r.ballots, r.turnout_pct) == (ballots, turnout)
    assert r.previous_turnout == 60.0
    assert r.turnout_change == pytest.approx(turnout - 60.0)


def test_turnout_without_any_electorate() -> None:
    r = result(rejected=5, baseline=None)
    assert (r.ballots, r.electorate, r.turnout_pct, r.turnout_change) == (1005, None, None, None)
    no_register = BaselineRow("Testshire", None, 60.0, "Con", BEFORE.shares)
    assert result(baseline=no_register).turnout_pct is None


def test_more_ballots_than_electors_is_an_error() -> None:
    with pytest.raises(ValueError, match="1,010 ballots counted but the electorate is only 1,000"):
        result(electorate=1000, rejected=10)


def test_gain_share_change_and_swing() -> None:
    r = result()
    assert (r.previous_winner, r.gain, r.verdict) == ("Con", True, "Lab gain from Con")
    assert dict(r.share_change) == {"Lab": 15.0, "Con": -15.0, "LD": 0.0, "Green": 0.0}
    assert [c.share_change for c in r.candidates] == [15.0, -15.0, 0.0, 0.0]
    # ((Lab now − before) − (Con now − before)) / 2 = (15 − −15) / 2
    assert r.swing == Swing("Con", "Lab", 15.0)
    assert r.headline("Testshire") == "Labour gain Testshire from the Conservatives"


def test_hold_swings_against_the_runner_up_and_may_be_negative() -> None:
    votes = [Vote("B", "Con", 420), Vote("A", "Lab", 380), Vote("C", "LD", 150), Vote("D", "Green", 50)]
    r = result(votes)
    assert (r.gain, r.verdict, r.headline("Testshire")) == (False, "Con hold", "Conservatives hold Testshire")
    # Con 45 → 42, Lab 35 → 38: the winner held on while swinging away from it.
    assert r.swing is not None
    assert (r.swing.from_party, r.swing.to_party) == ("Lab", "Con")
    assert r.swing.points == pytest.approx(-3.0)


def test_party_absent_from_baseline_and_party_that_stood_down() -> None:
    votes = [Vote("A", "Lab", 500), Vote("B", "Con", 300), Vote("C", "RUK", 200)]
    r = result(votes)
    # Reform did not stand last time: its previous share is 0. The Lib Dems and Greens did not stand now.
    assert dict(r.share_change) == {"Lab": 15.0, "Con": -15.0, "RUK": 20.0, "LD": -15.0, "Green": -5.0}


def test_several_independents_in_one_seat() -> None:
    before = BaselineRow("Testshire", 2000, 60.0, "Lab", {"Lab": 60.0, "Con": 30.0, "Ind": 10.0})
    votes = [Vote("X Ind", "Ind", 450), Vote("Y Ind", "Ind", 100), Vote("L", "Lab", 400), Vote("C", "Con", 50)]
    r = result(votes, baseline=before)
    assert r.verdict == "Ind gain from Lab"
    assert r.headline("Testshire") == "Independent gain Testshire from Labour"
    assert r.share_change["Ind"] is None  # different people: no change for "Independent"
    assert [c.share_change for c in r.candidates] == [None, -20.0, None, -25.0]
    # For swing the independents are summed: Ind 10 → 55, Lab 60 → 40.
    assert r.swing == Swing("Lab", "Ind", 32.5)


def test_namesakes_are_allowed() -> None:
    # Mid Buckinghamshire 2024 had two Greg Smiths, Conservative and Green.
    r = result([Vote("Greg Smith", "Con", 20150), Vote("Greg Smith", "Green", 2942)], baseline=None)
    assert [c.party for c in r.candidates] == ["Con", "Green"]


def test_speakers_seat() -> None:
    before = BaselineRow("Chorley", 74801, 53.5, "Spk", {"Spk": 67.30, "Green": 9.03, "Ind": 23.67})
    votes = [Vote("Lindsay Hoyle", "Spk", 25238), Vote("Mark Tebbutt", "Green", 4663), Vote("Ben", "DFC", 4063)]
    r = result(votes, baseline=before)
    assert (r.verdict, r.gain) == ("Spk hold", False)
    assert r.headline("Chorley") == "The Speaker holds Chorley"
    assert r.share_change["Spk"] == pytest.approx(100 * 25238 / 33964 - 67.30)
    assert r.share_change["Ind"] is None
    assert r.swing is not None and (r.swing.from_party, r.swing.to_party) == ("Green", "Spk")


def test_seat_outside_the_baseline() -> None:
    r = result(electorate=2000, baseline=None)
    assert (r.previous_winner, r.gain, r.swing, dict(r.share_change)) == (None, None, None, {})
    assert [c.share_change for c in r.candidates] == [None] * 4
    assert r.verdict == "Lab win"
    assert r.headline("Testshire") == "Labour win Testshire"
    assert result([Vote("H", "Spk", 10)], baseline=None).headline("Chorley") == "The Speaker wins Chorley"


def test_unknown_party_headline() -> None:
    before = BaselineRow("Ashfield", None, None, "Con", {"Con": 40.0})
    r = result([Vote("A", "Ashfield Independents", 10), Vote("B", "Con", 5)], baseline=before)
    assert r.headline("Ashfield") == "Ashfield Independents gain Ashfield from the Conservatives"


def test_tie_needs_a_winner() -> None:
    tied = [Vote("Ann", "Lab", 400), Vote("Bob", "Con", 400), Vote("Cat", "LD", 200)]
    with pytest.raises(ValueError, match=r"^tie between Ann and Bob on 400 votes: add `winner:`"):
        result(tied)
    r = result(tied, winner="bob")
    assert [c.name for c in r.candidates] == ["Bob", "Ann", "Cat"]
    assert (r.winner.name, r.majority, r.verdict) == ("Bob", 0, "Con hold")


def test_winner_only_breaks_a_tie() -> None:
    tied = [Vote("Ann", "Lab", 400), Vote("Bob", "Con", 400), Vote("Cat", "LD", 200)]
    with pytest.raises(ValueError, match="winner 'Cat' has 200 votes, not the top 400: the tie is between Ann and Bob"):
        result(tied, winner="Cat")
    with pytest.raises(ValueError, match="winner 'Eve' is not one of the candidates"):
        result(tied, winner="Eve")
    with pytest.raises(ValueError, match="only for breaking a tie, and there is none: Ann Green has the most"):
        result(winner="Bob Blue")


@pytest.mark.parametrize(
    ("candidates", "message"),
    [
        ([], "at least one candidate"),
        ([Vote("A", "Lab", 0), Vote("B", "Con", 0)], "no candidate has any votes"),
        ([Vote("A", "Lab", -1)], "negative"),
    ],
)
def test_impossible_results(candidates: list[Vote], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        result(candidates)


def test_single_candidate() -> None:
    r = result([Vote("A", "Con", 100)], baseline=None)
    assert (r.runner_up, r.majority, r.majority_pct) == (None, 100, 100.0)


def test_json_record_has_the_spec_shape() -> None:
    r = result([Vote("A", "Lab", 2), Vote("B", "Con", 1)], electorate=7, baseline=BEFORE)
    record = r.as_dict("Testshire", "0317-testshire-result")
    assert record == {
        "constituency": "Testshire",
        "id": "0317-testshire-result",
        "winner": {"name": "A", "party": "Lab", "votes": 2},
        "candidates": [
            {"name": "A", "party": "Lab", "votes": 2, "share": 66.67},
            {"name": "B", "party": "Con", "votes": 1, "share": 33.33},
        ],
        "majority": 1,
        "majority_pct": 33.33,
        "turnout_pct": 42.86,
        "previous_winner": "Con",
        "gain": True,
        "swing": {"from": "Con", "to": "Lab", "points": 21.67},
    }
    assert r.candidates[0].share == pytest.approx(200 / 3)  # full precision kept inside
    assert json.loads(json.dumps(record)) == record
    outside = result(baseline=None).as_dict("X", "x")
    assert (outside["previous_winner"], outside["gain"], outside["swing"], outside["turnout_pct"]) == (None,) * 4


def test_json_never_shows_negative_zero() -> None:
    before = BaselineRow("T", 10, None, "Lab", {"Lab": 50.001, "Con": 49.999})
    r = result([Vote("A", "Lab", 1), Vote("B", "Con", 1)], winner="A", baseline=before)
    assert r.swing is not None and r.swing.points < 0
    assert "-0.0" not in json.dumps(r.as_dict("T", "t"))


def test_tally() -> None:
    baseline = Baseline(
        [
            BaselineRow("A", None, None, "Con", {"Con": 60.0, "Lab": 40.0}),
            BaselineRow("B", None, None, "Con", {"Con": 60.0, "Lab": 40.0}),
            BaselineRow("C", None, None, "Lab", {"Con": 40.0, "Lab": 60.0}),
            BaselineRow("D & E", None, None, "LD", {"LD": 60.0, "Con": 40.0}),
            BaselineRow("F", None, None, "Lab", {"Lab": 100.0}),
        ]
    )
    lab, con, ld = Vote("l", "Lab", 6), Vote("c", "Con", 5), Vote("d", "LD", 4)

    def declared(name: str, *votes: Vote) -> tuple[str, ResultFigures]:
        return name, result(list(votes), baseline=baseline.get(name))

    results = [
        declared("A", lab, con),  # Lab gain from Con
        declared("B", con, Vote("l", "Lab", 1)),  # Con hold
        declared("C", lab, con),  # Lab hold
        declared("d and e", Vote("c", "Con", 9), ld),  # Con gain from LD
        declared("Elsewhere", lab, con),  # outside the baseline: counts, but no gain or hold
    ]
    board = tally(results, baseline)
    assert list(board.seats.items()) == [("Lab", 3), ("Con", 2)]
    assert dict(board.gains) == {"Lab": 1, "Con": 1}
    assert dict(board.losses) == {"Con": 1, "LD": 1}
    assert (board.declared, board.total) == (5, 6)
    assert board.as_dict() == {
        "seats": {"Lab": 3, "Con": 2},
        "gains": {"Lab": 1, "Con": 1},
        "losses": {"Con": 1, "LD": 1},
        "declared": 5,
        "total": 6,
    }
    no_baseline = tally([("X", result(baseline=None))], None)
    assert (no_baseline.declared, no_baseline.total, dict(no_baseline.gains)) == (1, None, {})
    empty = tally([], baseline)
    assert (dict(empty.seats), empty.declared, empty.total) == ({}, 0, 5)


def test_seats_ties_list_main_parties_first() -> None:
    results = [(p, result([Vote("x", p, 1)], baseline=None)) for p in ["Spk", "UUP", "HPUK", "APNI", "Lab", "Lab"]]
    assert list(tally(results, None).seats) == ["Lab", "UUP", "APNI", "Spk", "HPUK"]


def test_results_document() -> None:
    r = result()
    doc = results_document([("Testshire", "t1", r)], tally([("Testshire", r)], Baseline([BEFORE])))
    assert list(doc) == ["results", "seats", "gains", "losses", "declared", "total"]
    assert doc["results"][0]["id"] == "t1"
    assert (doc["declared"], doc["total"]) == (1, 1)


@given(st.lists(st.integers(0, 10**6), min_size=2, max_size=12).filter(lambda v: sum(v) > 0))
def test_shares_add_up_and_winner_leads(counts: list[int]) -> None:
    # Distinct vote counts at the top, so no tie-break is needed.
    top = max(counts)
    counts = [*counts, top + 1]
    votes = [Vote(f"C{i}", "Lab" if i % 2 else "Con", n) for i, n in enumerate(counts)]
    r = result(votes, baseline=None)
    assert sum(c.share for c in r.candidates) == pytest.approx(100)
    assert r.winner.votes == top + 1
    assert [c.votes for c in r.candidates] == sorted(counts, reverse=True)
    assert 0 <= r.majority_pct <= 100
