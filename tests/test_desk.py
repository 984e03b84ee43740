"""The desk's forms checked by the build's own reader with errors at their fields, previews that are the page's
own card, and entries written without ever overwriting."""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import DURING_THE_NIGHT, REPO, BlogMaker
from countnight.desk import forms
from countnight.desk.drop import Shown, entry_status, read_one, write_new
from countnight.entries import parse_entry
from countnight.errors import InputError
from countnight.frontmatter import read_entry
from countnight.listing import load_context
from countnight.render import load_theme, render_entry
from countnight.site import Site
from countnight.views import make_view
from desk_support import SIX, make_desk_blog, official

NOW = datetime(2024, 7, 5, 2, 30, tzinfo=UTC)


# -- forms: the build's own reader, errors at their fields, the page's own card ------------------------


@pytest.fixture
def night(tmp_path: Path) -> tuple[Path, object, object, object]:
    root = make_desk_blog(tmp_path / "night")
    event, context = load_context(root)
    return root, event, context, load_theme(root)


def result_form(votes: list[str] | None = None, **extra: str) -> dict[str, str]:
    candidates = official(SIX)
    form = {"time": "03:30", "constituency": SIX, "rows": str(len(candidates) + 1), "author": "Hannah Birch"}
    for row, c in enumerate(candidates, 1):
        form |= {f"name-{row}": c.name, f"party-{row}": c.party, f"votes-{row}": str(c.votes)}
    for row, typed in enumerate(votes or [], 1):
        form[f"votes-{row}"] = typed
    return form | extra


def check(night: tuple, kind: str, form: dict[str, str], draft: bool = False) -> forms.Checked:
    _, event, context, theme = night
    return forms.check(kind, form, event, context, theme, draft=draft, stem="0330-x")  # type: ignore[arg-type]


def test_a_good_result_reads_back_exactly_and_previews_as_the_page_card(night: tuple) -> None:
    checked = check(night, "result", result_form())
    assert checked.ok and checked.errors == {}
    entry = checked.entry
    assert [(c.name, c.party, c.votes) for c in entry.candidates] == [(c.name, c.party, c.votes) for c in official(SIX)]
    _, event, context, theme = night
    again = parse_entry(checked.text.encode(), "entries/0330-x.md", context)
    assert checked.preview == render_entry(theme, make_view(again, context.baseline, event.timezone))
    assert "Majority" in checked.preview and "status:" not in checked.text
    assert "status: draft" in check(night, "result", result_form(), draft=True).text


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        (result_form(["15.671"]), "votes-1", "'15.671' is not a whole number as written (write 15671 or 15,671)"),
        (result_form(["", "", ""]), "votes-1", "required"),
        (result_form(["100"] * 6), "candidates", "a tie between"),
        (result_form(electorate="1000"), "electorate", "is fewer than the"),
        (result_form(time="25:00"), "time", "'25:00' is not a clock time"),
        (result_form(time="soon"), "time", "'soon' is not a time"),
        (result_form(rejected="many"), "rejected", "'many' is not a whole number"),
        (result_form(constituency="Burton on Trent"), "constituency", "is not in the baseline"),
        (result_form(**{"name-7": "Ann Other", "party-7": "Ind"}), "votes-7", "required"),
        (result_form(**{"name-2": "x" * 301}), "name-2", "is 301 characters long; at most 300"),
        (result_form(body="x" * 20_001), "body", "at most 20,000"),
    ],
)
def test_each_problem_is_shown_at_its_field(night: tuple, form: dict[str, str], field: str, message: str) -> None:
    checked = check(night, "result", form)
    assert not checked.ok and checked.preview == ""
    assert field in checked.errors, checked.errors
    assert any(message in m for m in checked.errors[field]), checked.errors


@pytest.mark.parametrize(
    ("kind", "form", "field", "message"),
    [
        ("update", {"time": "03:30"}, "title", "required"),
        ("quote", {"time": "03:30", "speaker": "Jacob Collier"}, "quote", "required"),
        ("turnout", {"time": "03:30", "constituency": "Stafford"}, "turnout", "give the percent"),
        ("turnout", {"time": "03:30", "constituency": "Stafford", "turnout": "101"}, "turnout", "from 0 to 100"),
        (
            "turnout",
            {"time": "03:30", "constituency": "Stafford", "turnout": "60", "ballots": "46169"},
            "turnout",
            "does not fit",
        ),
    ],
)
def test_other_kinds_errors_are_at_their_fields(
    night: tuple, kind: str, form: dict[str, str], field: str, message: str
) -> None:
    checked = check(night, kind, form)
    assert any(message in m for m in checked.errors.get(field, [])), checked.errors


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=1, max_size=60).filter(lambda s: s.strip()))
def test_any_typed_text_is_written_so_it_reads_back_as_typed(text: str) -> None:
    form = {"time": "03:30", "title": text, "body": "Words."}
    composed = forms.compose("update", form, draft=False)
    try:
        front = read_entry(composed.text.encode(), "entries/x.md").front
    except InputError as err:  # only what the reader refuses for any file (control characters)
        assert any("not valid" in p.message or "binary" in p.message or "NUL" in p.message for p in err.problems)
        return
    assert front["title"] == text.strip()


def test_file_names_come_from_time_and_subject(night: tuple) -> None:
    _, event, _, _ = night
    checked = check(night, "result", result_form())
    assert forms.file_stem("result", checked.entry, result_form(), event, NOW) == "0330-burton-and-uttoxeter-result"
    title = {"title": "../../etc/passwd & Co: ünïcode"}
    assert forms.file_stem("update", None, title, event, DURING_THE_NIGHT) == "0330-etc-passwd-and-co-unicode"
    assert forms.file_stem("update", None, {"title": "!!!"}, event, DURING_THE_NIGHT) == "0330-update"


# -- writing entries -----------------------------------------------------------------------------------


def test_entries_are_added_atomically_and_never_overwrite(tmp_path: Path) -> None:
    paths: list[Path] = []
    lock = threading.Lock()

    def add(n: int) -> None:
        path = write_new(tmp_path, "0330-stafford-result", f"---\ntitle: {n}\n---\n".encode())
        with lock:
            paths.append(path)

    threads = [threading.Thread(target=add, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    names = sorted(p.name for p in paths)
    assert len(set(names)) == 20 and "0330-stafford-result.md" in names and "0330-stafford-result-20.md" in names
    assert sorted(os.listdir(tmp_path / "entries")) == names  # no temp file left behind
    assert sorted(p.read_text() for p in paths) == sorted(f"---\ntitle: {n}\n---\n" for n in range(20))


def test_the_status_follows_the_record_of_what_readers_were_shown(blog: BlogMaker) -> None:
    root = blog({"countnight.toml": (REPO / "countnight.toml").read_text().replace('baseline = "baseline.csv"\n', "")})
    path = write_new(root, "0330-hello", b'---\ntime: "03:30"\ntitle: Hello\n---\nWords.\n')
    ident = path.stem
    record = Shown(root)

    def state() -> str:
        found = read_one(root, ident)
        return "no file" if found is None else entry_status(found, record).state

    later = DURING_THE_NIGHT + timedelta(hours=1)
    assert state() == "waiting"
    Site(root).build(later)
    assert state() == "live"
    path.write_text('---\ntime: "03:30"\ntitle: Hello again\n---\nWords.\n')
    assert state() == "older"
    Site(root).build(later)
    assert state() == "live"
    path.write_text('---\ntime: "03:30"\ntitle: Hello\nstatus: withdrawn\n---\nWords.\n')
    assert state() == "waiting"
    Site(root).build(later)
    assert state() == "withdrawn"
    path.write_text('---\ntime: "03:30"\ntitle: Hello\nstatus: draft\n---\nWords.\n')
    assert state() == "draft"
    path.write_text('---\ntime: "25:30"\ntitle: Hello\n---\nWords.\n')
    assert state() == "error" and "25:30" in str(read_one(root, ident))
    journal = root / ".countnight" / "journal.jsonl"
    lines = journal.read_text().splitlines()
    assert [json.loads(line)["op"] for line in lines] == ["shown", "shown", "withdrawn"]
    journal.write_text(lines[0] + "\n")  # replaced by a shorter one: read again from the start
    path.write_text('---\ntime: "03:30"\ntitle: Hello\n---\nWords.\n')
    assert state() == "live"
    path.unlink()
    (root / "notes.md").write_text('---\ntime: "03:30"\ntitle: Outside\n---\nWords.\n')
    assert state() == "no file" and read_one(root, "../notes") is None and read_one(root, "/etc/passwd") is None


# -- editing a list item's field in place (the desk's and `correct --set`'s vote corrections) -----------

CANNOCK = """\
---
kind: result
time: "02:16"
constituency: Cannock Chase   # the count at Rugeley
candidates:
  - {name: Josh Newbury, party: Lab, votes: 15670}
  - {name: Amanda Milling, party: Con, votes: "12,046"}
  - name: Paul Allen
    party: Reform UK
    votes: 11570   # checked twice
---
Labour's first win here since 2005.
"""


def test_a_vote_is_changed_in_place_and_nothing_else_moves() -> None:
    from countnight.editing import set_fields

    changed = set_fields(
        CANNOCK.encode(), {"candidates[1].votes": "15671", "candidates[2].votes": "12,546"}, "entries/x.md"
    ).decode()
    assert changed == CANNOCK.replace("15670", "15671").replace('"12,046"', '"12,546"')
    third = set_fields(CANNOCK.encode(), {"candidates[3].votes": "11571"}, "entries/x.md").decode()
    assert "    votes: 11571   # checked twice\n" in third
    for key in ("candidates[4].votes", "candidates[1].age", "candidates[0].votes"):
        with pytest.raises(InputError, match=r"not a single value in this file: edit this file by hand"):
            set_fields(CANNOCK.encode(), {key: "1"}, "entries/x.md")


def test_correct_set_changes_votes_from_the_command_line(blog: BlogMaker) -> None:
    from click.testing import CliRunner

    from countnight.cli import main

    config = (REPO / "countnight.toml").read_text()
    root = blog(
        {"entries/0216-cannock.md": CANNOCK, "baseline.csv": (REPO / "baseline.csv").read_text()}, config=config
    )
    args = ["correct", "0216-cannock", "--note", "Figures as declared.", "--set", "candidates[1].votes=15671"]
    result = CliRunner().invoke(
        main, [*args, "--set", "candidates[2].votes=12,546", "--at", "02:41", "--root", str(root)]
    )
    assert result.exit_code == 0, result.output
    text = (root / "entries" / "0216-cannock.md").read_text()
    assert "votes: 15671}" in text and 'votes: "12,546"}' in text and 'updated: "02:41"' in text
    bad = CliRunner().invoke(main, ["correct", "0216-cannock", "--note", "x", "--set", "votes", "--root", str(root)])
    assert bad.exit_code == 2 and "'votes' is not FIELD=VALUE" in bad.output


def test_a_seat_the_candidates_file_lacks_gets_rows_to_fill_in(tmp_path: Path) -> None:
    from starlette.testclient import TestClient

    from countnight.desk.app import make_app
    from desk_support import add_reporter, clock, sign_in

    root = make_desk_blog(tmp_path / "night")
    client = TestClient(make_app(root, clock))
    sign_in(client, add_reporter(root, "Hannah Birch"))
    page = client.get("/new/result", params={"constituency": "Stoke-on-Trent Central"}).text
    assert page.count('<details class="spare" open>') == 10 and "Candidate 10" in page
    listed = client.get("/new/result", params={"constituency": "stafford"}).text
    assert "Result: Stafford" in listed and listed.count('<details class="spare">') == 1
    assert 'name="votes-7" value="" inputmode="numeric"' in listed
