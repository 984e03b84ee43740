"""The bad-file table: each broken entry file and the exact ``FILE:LINE: message`` a reporter sees."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import BASELINE, CONFIG
from countnight.baseline import load_baseline
from countnight.config import parse_config
from countnight.entries import parse_entry
from countnight.errors import InputError
from countnight.models import Context

RESULT = (
    '---\nkind: result\ntime: "02:16"\nconstituency: Cannock Chase\ncandidates:\n'
    "  - {name: Josh Newbury, party: Lab, votes: 15671}\n"
    "  - {name: Amanda Milling, party: Con, votes: 12546}\n"
)
TURNOUT = '---\nkind: turnout\ntime: "01:01"\nconstituency: Stafford\n'

CASES: list[tuple[str, bytes, list[str]]] = [
    ("empty", b"", ["1: the file is empty: an entry starts with front matter between --- lines"]),
    ("blank", b"  \n\n", ["1: the file is empty: an entry starts with front matter between --- lines"]),
    ("no-fence", b"title: x\n", ["1: an entry must start with a '---' line, then its fields, then '---'"]),
    (
        "unclosed",
        b"---\ntitle: x\ntime: '01:00'\n",
        ["1: the front matter is not closed: add a '---' line after the fields"],
    ),
    ("binary", b"---\ntitle: x\x00\n---\n", ["2: this is a binary file, not a text entry (it contains NUL bytes)"]),
    (
        "latin1",
        b"---\ntitle: caf\xe9\ntime: '01:00'\n---\n",
        ["2: not valid UTF-8 (byte 0xe9); save the file as UTF-8"],
    ),
    (
        "too-big",
        b"---\ntitle: x\n---\n" + b"a" * (1024 * 1024),
        [": file is 1,048,593 bytes; an entry must be under 1 MiB"],
    ),
    ("list", b"---\n- a\n- b\n---\n", ["2: the front matter is a list; it must be 'field: value' lines"]),
    ("plain-text", b"---\njust text\n---\n", ["2: the front matter is plain text; it must be 'field: value' lines"]),
    (
        "duplicate-key",
        b"---\ntitle: a\ntime: '01:00'\ntitle: b\n---\n",
        ["4: duplicate field 'title' (first at line 2)"],
    ),
    (
        "anchor-alias",
        b"---\ntitle: &t Hello\nauthor: *t\ntime: '01:00'\n---\n",
        [
            "2: anchors (&t) are not allowed: write the value out",
            "3: aliases (*t) are not allowed: write the value out",
        ],
    ),
    ("tab", b"---\ntitle: x\ncandidates:\n\t- a\n---\n", ["4: a tab in the indentation: indent with spaces"]),
    (
        "yaml-syntax",
        b"---\ntitle: [unclosed\ntime: '01:00'\n---\n",
        [
            "3: YAML syntax: did not find expected ',' or ']' (while parsing a flow sequence) (in […], separate the items with commas)"
        ],
    ),
    (
        "tags",
        b"---\ntitle: !!str x\ntime: !!timestamp 2024-07-05\n---\n",
        [
            "2: tags (!!str) are not allowed: write the value without it",
            "3: tags (!!timestamp) are not allowed: write the value without it",
        ],
    ),
    ("no-time", b"---\ntitle: x\n---\n", ["2: time: required"]),
    (
        "bad-clock",
        b"---\ntitle: x\ntime: 25:61\n---\n",
        ["3: time: '25:61' is not a clock time (use 24-hour HH:MM, like 03:17)"],
    ),
    (
        "outside-window",
        b"---\ntitle: x\ntime: '14:00'\n---\n",
        ["3: time: 14:00 is outside the coverage window (22:00 BST 4 July to 12:00 BST 5 July)"],
    ),
    (
        "time-words",
        b"---\ntitle: x\ntime: soon\n---\n",
        ["3: time: 'soon' is not a time: write a clock time like 03:17 or a full time like 2024-07-05T03:17:00+01:00"],
    ),
    ("update-no-title", b"---\ntime: '01:00'\n---\n", ["2: title: required"]),
    (
        "unknown-kind",
        b"---\nkind: blog\ntime: '01:00'\n---\n",
        ["2: kind: 'blog' is not one of update, result, turnout, quote, summary"],
    ),
    (
        "misspelt-field",
        b"---\ntitle: x\ntime: '01:00'\nbreakng: true\n---\n",
        ["4: breakng: unknown field (did you mean 'breaking'?)"],
    ),
    (
        "not-a-flag",
        b"---\ntitle: x\ntime: '01:00'\nbreaking: maybe\n---\n",
        ["4: breaking: must be true or false, not 'maybe'"],
    ),
    (
        "bad-status",
        b"---\ntitle: x\ntime: '01:00'\nstatus: hidden\n---\n",
        ["4: status: 'hidden' is not one of published, draft, withdrawn"],
    ),
    ("id-field", b"---\nid: other\ntitle: x\ntime: '01:00'\n---\n", ["2: id: not a field (it comes from the file)"]),
    (
        "title-list",
        b"---\ntitle: [a, b]\ntime: '01:00'\n---\n",
        ["2: title: must be a single value, not a list or a set of fields"],
    ),
    ("title-empty", b"---\ntitle:\ntime: '01:00'\n---\n", ["2: title: is empty: fill it in or remove the line"]),
    (
        "unknown-constituency",
        (RESULT.replace("Cannock Chase", "Canock Chace") + "---\n").encode(),
        ["4: constituency: 'Canock Chace' is not in the baseline (did you mean 'Cannock Chase'?)"],
    ),
    (
        "result-no-constituency",
        (RESULT.replace("constituency: Cannock Chase\n", "") + "---\n").encode(),
        ["2: constituency: required"],
    ),
    (
        "votes-not-a-number",
        (RESULT.replace("15671", "15k") + "---\n").encode(),
        ["6: candidates[1].votes: '15k' is not a whole number (write the count in figures: 16222 or 16,222)"],
    ),
    (
        "votes-negative",
        (RESULT.replace("15671", "-3") + "---\n").encode(),
        ["6: candidates[1].votes: '-3' is below zero: a count is 0 or more (check the number)"],
    ),
    (
        "votes-bad-commas",
        (RESULT.replace("15671", '"15,67,1"') + "---\n").encode(),
        [
            "6: candidates[1].votes: '15,67,1' is not a whole number as written (if you mean 15,671, write 15671 or 15,671)"
        ],
    ),
    (
        "votes-exponent",
        (RESULT.replace("15671", "1e3") + "---\n").encode(),
        ["6: candidates[1].votes: '1e3' is not a whole number (write the count in figures: 16222 or 16,222)"],
    ),
    (  # the reporter's own number in the hint, not a stock one
        "votes-thousands-with-a-point",
        (RESULT.replace("15671", "13.956") + "---\n").encode(),
        ["6: candidates[1].votes: '13.956' is not a whole number as written (write 13956 or 13,956)"],
    ),
    (
        "votes-thousands-with-spaces",
        (RESULT.replace("15671", '"13 956"') + "---\n").encode(),
        ["6: candidates[1].votes: '13 956' is not a whole number as written (write 13956 or 13,956)"],
    ),
    (
        "votes-a-fraction",
        (RESULT.replace("15671", "1567.5") + "---\n").encode(),
        ["6: candidates[1].votes: '1567.5' has a fraction: a count is a whole number (check the number)"],
    ),
    (
        "electorate-negative",
        (RESULT.replace("candidates:", "electorate: -76974\ncandidates:") + "---\n").encode(),
        ["5: electorate: '-76974' is below zero: a count is 0 or more (check the number)"],
    ),
    (
        "tie-without-winner",
        (RESULT.replace("12546", "15671") + "---\n").encode(),
        [
            "5: candidates: a tie between Josh Newbury and Amanda Milling on 15,671 votes: "
            "add `winner:` with the name of the one declared elected"
        ],
    ),
    (
        "winner-not-tied",
        (RESULT + "winner: Amanda Milling\n---\n").encode(),
        [
            "8: winner: 'Amanda Milling' is not tied for the most votes; "
            "`winner` is only for a tie (leave it out and the votes decide)"
        ],
    ),
    (
        "winner-without-a-tie",
        (RESULT + "winner: Josh Newbury\n---\n").encode(),
        [
            "8: winner: there is no tie: 'Josh Newbury' has the most votes (15,671); "
            "`winner` is only for a tie (leave it out and the votes decide)"
        ],
    ),
    (
        "winner-namesakes-tied",
        (
            RESULT.replace("Amanda Milling", "Josh Newbury").replace("12546", "15671") + "winner: Josh Newbury\n---\n"
        ).encode(),
        ["8: winner: two candidates named 'Josh Newbury' are tied for the most votes; the name cannot tell them apart"],
    ),
    (
        "no-candidates",
        b'---\nkind: result\ntime: "02:16"\nconstituency: Stafford\ncandidates: []\n---\n',
        ["5: candidates: list at least one candidate"],
    ),
    (
        "candidates-not-a-list",
        b'---\nkind: result\ntime: "02:16"\nconstituency: Stafford\ncandidates: {name: x}\n---\n',
        ["5: candidates: must be a list"],
    ),
    (
        "candidate-no-party",
        (RESULT.replace("party: Lab, ", "") + "---\n").encode(),
        ["6: candidates[1].party: required"],
    ),
    (
        "candidate-misspelt-field",
        (RESULT.replace("votes: 15671}", "votes: 15671, vote: 3}") + "---\n").encode(),
        ["6: candidates[1].vote: unknown field (did you mean 'votes'?)"],
    ),
    (
        "candidate-twice",
        (RESULT.replace("Amanda Milling, party: Con", "Josh Newbury, party: Lab") + "---\n").encode(),
        ["5: candidates: 'Josh Newbury' (Lab) is listed twice: delete one of the two lines"],
    ),
    (
        "electorate-too-small",
        (RESULT + "electorate: 20000\n---\n").encode(),
        [
            "8: electorate: 20,000 is fewer than the 28,217 ballots counted (check the electorate, the votes and the rejected ballots)"
        ],
    ),
    (
        "turnout-nothing",
        (TURNOUT + "---\n").encode(),
        ["2: turnout: give the percent (turnout: 65.39) or the ballots counted (ballots: 46169)"],
    ),
    (
        "turnout-over-100",
        (TURNOUT + "turnout: 165\n---\n").encode(),
        ["5: turnout: '165' is not a percentage from 0 to 100"],
    ),
    (
        "turnout-words",
        (TURNOUT + "turnout: high\n---\n").encode(),
        ["5: turnout: 'high' is not a percentage (write 65.39 or \"65.39%\")"],
    ),
    (
        "turnout-disagrees",
        (TURNOUT + "turnout: 80\nballots: 46169\n---\n").encode(),
        ["5: turnout: 80% does not fit 46,169 ballots of an electorate of 70,608 (65.39%)"],
    ),
    (
        "ballots-over-electorate",
        (TURNOUT + "ballots: 99999\n---\n").encode(),
        [
            "5: ballots: 99,999 is more than the electorate of 70,608 (check the ballots, or give electorate: if the register has changed)"
        ],
    ),
    ("quote-no-words", b'---\nkind: quote\ntime: "01:01"\nspeaker: X\n---\n', ["2: quote: required"]),
    (
        "summary-no-body",
        b'---\nkind: summary\ntime: "06:45"\n---\n\n',
        ["5: body: is empty: write the text below the closing ---"],
    ),
    (
        "updated-words",
        b"---\ntitle: x\ntime: '01:00'\nupdated: yesterday\n---\n",
        [
            "4: updated: 'yesterday' is not a time: write a clock time like 03:17 or a full time like 2024-07-05T03:17:00+01:00"
        ],
    ),
    (
        "every-problem-at-once",
        b"---\ntitle:\ntime: 99:00\nbreaking: sure\nfoo: 1\n---\n",
        [
            "2: title: is empty: fill it in or remove the line",
            "3: time: '99:00' is not a clock time (use 24-hour HH:MM, like 03:17)",
            "4: breaking: must be true or false, not 'sure'",
            "5: foo: unknown field",
        ],
    ),
    (
        "nonexistent-local-time",
        b"---\ntitle: x\ntime: 2024-03-31T01:30\n---\n",
        ["3: time: 2024-03-31T01:30 does not exist in Europe/London: the clocks went forward past it"],
    ),
    (
        "repeated-local-time",
        b"---\ntitle: x\ntime: 2024-10-27T01:30\n---\n",
        [
            "3: time: 2024-10-27T01:30 happens twice in Europe/London (the clocks went back): write the offset, "
            "like 2024-10-27T01:30:00+01:00 or 2024-10-27T01:30:00+00:00"
        ],
    ),
]


@pytest.fixture(scope="module")
def context(tmp_path_factory: pytest.TempPathFactory) -> Context:
    path = tmp_path_factory.mktemp("baseline") / "baseline.csv"
    path.write_text(BASELINE)
    event = parse_config(CONFIG.encode(), "countnight.toml")
    return Context(event.window, load_baseline(Path(path), "baseline.csv"))


def test_the_table_is_big_enough() -> None:
    assert len(CASES) >= 30
    assert len({name for name, _, _ in CASES}) == len(CASES)


@pytest.mark.parametrize(("name", "data", "expected"), CASES, ids=[c[0] for c in CASES])
def test_bad_entry_file(name: str, data: bytes, expected: list[str], context: Context) -> None:
    path = f"entries/{name}.md"
    with pytest.raises(InputError) as caught:
        parse_entry(data, path, context)
    got = [str(p) for p in caught.value.problems]
    # "5: message" is at line 5; ": message" is about the whole file (it has no line)
    assert got == [f"{path}{line}" if line.startswith(":") else f"{path}:{line}" for line in expected]
