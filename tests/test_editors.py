"""Issue 6, editors: correct, withdraw, delete, the record, restore, list, schedules, the end of coverage.

Driven through the CLI (click's CliRunner) and checked against real builds with a fixed clock.
"""

from __future__ import annotations

import html
import json
import os
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from xml.etree import ElementTree

import pytest
from click.testing import CliRunner

from conftest import AFTER_THE_NIGHT, DURING_THE_NIGHT, BlogMaker
from countnight import journal as journal_module
from countnight.cli import main
from countnight.journal import Journal
from countnight.listing import list_entries
from countnight.site import Site

if TYPE_CHECKING:
    from browser_support import Nginx, Watched

RESULT_ID = "0216-cannock-chase-result"
NIGHT = {
    "entries/0100-count-under-way.md": "---\ntitle: Count under way\ntime: '01:00'\n---\nBoxes are arriving.\n",
    f"entries/{RESULT_ID}.md": """\
        ---
        kind: result
        time: "02:16"   # declared
        constituency: Cannock Chase
        candidates:
          - {name: Josh Newbury, party: Lab, votes: 15671}
          - {name: Amanda Milling, party: Con, votes: 12546}
        ---
        Labour gain.
        """,
    "entries/0300-waiting.md": "---\ntitle: Waiting for Stafford\ntime: '03:00'\n---\nStill counting.\n",
}
NOTE = "Newbury's majority is 3,125: an earlier version said 3,215"
SOON = DURING_THE_NIGHT + timedelta(minutes=5)
ATOM = "{http://www.w3.org/2005/Atom}"
pytest_plugins = ["browser_support"]  # open_page (Chromium) and serve (nginx), for the browser test


def run(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def live(root: Path) -> dict:
    return json.loads((root / "site/live.json").read_text())


def json_ld(root: Path) -> dict:
    page = (root / "site/index.html").read_text()
    match = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    assert match
    return json.loads(match[1])


def site_texts(root: Path) -> dict[str, str]:
    """Every text file readers can load, except live.json (its withdrawn list names gone ids on purpose); the
    share cards are pictures (test_sharecards: a withdrawn entry's goes too)."""
    site = root / "site"
    return {
        str(p.relative_to(site)): p.read_text()
        for p in site.rglob("*")
        if p.is_file() and p.name != "live.json" and not p.name.startswith(".") and p.suffix != ".png"
    }


def test_a_correction_keeps_its_place_and_carries_the_new_modified_time(blog: BlogMaker) -> None:
    root = blog(NIGHT)
    Site(root).build(DURING_THE_NIGHT)
    order = [e["id"] for e in live(root)["entries"]]
    original = (root / f"entries/{RESULT_ID}.md").read_text()

    code, out, err = run("correct", RESULT_ID, "--note", NOTE, "--at", "03:25", "--root", root)
    assert (code, err) == (0, "")
    assert out == f"entries/{RESULT_ID}.md: corrected; readers see it at the next build\n"
    corrected = (root / f"entries/{RESULT_ID}.md").read_text()
    assert corrected == original.replace("---\nLabour", f'updated: "03:25"\ncorrection: "{NOTE}"\n---\nLabour')

    report = Site(root).build(SOON)
    assert [v.id for v in report.published] == [RESULT_ID]
    modified = "2024-07-05T03:25:00+01:00"
    data = live(root)
    assert [e["id"] for e in data["entries"]] == order  # same id, same place
    entry = next(e for e in data["entries"] if e["id"] == RESULT_ID)
    assert entry["updated"] == modified
    assert NOTE in html.unescape(entry["html"])  # what an open page swaps in
    feed = ElementTree.parse(root / "site/atom.xml").getroot()
    assert feed.findtext(f"{ATOM}updated") == modified  # the feed itself was updated
    (item,) = [e for e in feed.iter(f"{ATOM}entry") if RESULT_ID in e.find(f"{ATOM}link").get("href", "")]
    assert (item.findtext(f"{ATOM}published"), item.findtext(f"{ATOM}updated")) == (
        "2024-07-05T02:16:00+01:00",
        modified,
    )
    ld = json_ld(root)
    assert ld["dateModified"] == modified
    update = next(u for u in ld["liveBlogUpdate"] if u["url"].endswith(f"#{RESULT_ID}"))
    assert (update["datePublished"], update["dateModified"]) == ("2024-07-05T02:16:00+01:00", modified)
    page = html.unescape((root / "site/index.html").read_text())
    assert f'Updated <time datetime="{modified}">03:25</time>' in page
    assert NOTE in page

    code, out, _ = run("history", RESULT_ID, "--root", root)
    assert code == 0
    assert re.findall(r"^== version (\d), live from (\S+)", out, re.M) == [
        ("1", DURING_THE_NIGHT.isoformat()),
        ("2", SOON.isoformat()),
    ]
    assert out.rstrip("\n").endswith(corrected.rstrip("\n"))


def test_correct_with_the_real_clock_writes_a_full_time_after_the_night(blog: BlogMaker) -> None:
    root = blog(NIGHT)
    code, _, _ = run("correct", "0300-waiting", "--note", "Typo fixed", "--root", root)
    assert code == 0
    text = (root / "entries/0300-waiting.md").read_text()
    stamp = re.search(r'^updated: "(.+)"$', text, re.M)
    assert stamp and abs(datetime.fromisoformat(stamp[1]) - datetime.now(UTC)) < timedelta(minutes=2)


TakeDown = Callable[[Path, str], str]


def _withdraw(root: Path, ident: str) -> str:
    code, out, _ = run("withdraw", ident, "--root", root)
    assert code == 0 and "withdrawn" in out
    return "withdrawn"


def _delete(root: Path, ident: str) -> str:
    (root / f"entries/{ident}.md").unlink()
    return "deleted"


def _break_and_withdraw(root: Path, ident: str) -> str:
    path = root / f"entries/{ident}.md"
    path.write_text(path.read_text().replace("candidates:", "votes: 12\ncandidates:"))  # a mistake...
    code, out, err = run("withdraw", ident, "--root", root)  # ...must not block a withdrawal
    assert code == 0 and "withdrawn" in out
    assert err.startswith(f"warning: entries/{ident}.md:5: votes: unknown field")
    return "withdrawn"


@pytest.mark.parametrize("take_down", [_withdraw, _delete, _break_and_withdraw])
def test_withdrawn_and_deleted_entries_leave_every_page(blog: BlogMaker, take_down: TakeDown) -> None:
    root = blog(NIGHT)
    Site(root).build(DURING_THE_NIGHT)
    assert any(RESULT_ID in text for text in site_texts(root).values())
    why = take_down(root, RESULT_ID)

    report = Site(root).build(SOON)
    assert report.removed == [(RESULT_ID, why)]
    assert [name for name, text in site_texts(root).items() if RESULT_ID in text] == []
    assert not list((root / "site").rglob(f"*{RESULT_ID}*"))
    data = live(root)
    assert data["withdrawn"] == [RESULT_ID]
    assert RESULT_ID not in {e["id"] for e in data["entries"]}
    assert json.loads((root / "site/results.json").read_text())["declared"] == 0

    records = Journal.open(root).versions(RESULT_ID)
    assert [(r.op, r.at) for r in records] == [("shown", DURING_THE_NIGHT.isoformat()), (why, SOON.isoformat())]
    assert records[0].text.startswith("---\nkind: result")  # the record keeps what readers saw
    _, out, _ = run("history", RESULT_ID, "--root", root)
    assert f"== {why} at {SOON.isoformat()}" in out
    rows = {r.id: r for r in list_entries(root, SOON)}
    assert rows[RESULT_ID].status == (why if why == "deleted" or take_down is _withdraw else "error")


def test_restore_writes_a_chosen_version_back(blog: BlogMaker) -> None:
    root = blog(NIGHT)
    path = root / f"entries/{RESULT_ID}.md"
    first = path.read_bytes()
    Site(root).build(DURING_THE_NIGHT)
    run("correct", RESULT_ID, "--note", NOTE, "--at", "03:25", "--root", root)
    second = path.read_bytes()
    Site(root).build(SOON)
    path.unlink()
    Site(root).build(SOON + timedelta(minutes=1))

    code, out, _ = run("restore", RESULT_ID, "--root", root)
    assert code == 0 and out.startswith(f"entries/{RESULT_ID}.md: restored version 2")
    assert path.read_bytes() == second
    code, _, err = run("restore", RESULT_ID, "--version", "1", "--root", root)
    assert (code, err) == (1, f"entries/{RESULT_ID}.md: exists: add --force to replace it with version 1\n")
    assert path.read_bytes() == second
    code, _, _ = run("restore", RESULT_ID, "--version", "1", "--force", "--root", root)
    assert code == 0 and path.read_bytes() == first
    code, _, err = run("restore", RESULT_ID, "--version", "3", "--root", root)
    assert code == 1 and "has versions 1 to 2" in err
    assert sorted(p.name for p in path.parent.iterdir()) == sorted(Path(n).name for n in NIGHT)  # no temp files

    report = Site(root).build(SOON + timedelta(minutes=2))
    assert [v.id for v in report.published] == [RESULT_ID]
    assert next(e for e in live(root)["entries"] if e["id"] == RESULT_ID)["updated"] is None
    assert live(root)["withdrawn"] == []
    ops = [r.op for r in Journal.open(root).versions(RESULT_ID)]
    assert ops == ["shown", "shown", "deleted", "shown"]


def test_a_torn_last_journal_line_is_tolerated_and_reported(blog: BlogMaker) -> None:
    root = blog(NIGHT)
    Site(root).build(DURING_THE_NIGHT)
    journal = root / ".countnight/journal.jsonl"
    whole = journal.read_bytes()
    journal.write_bytes(whole + b'{"op":"shown","id":"0300-waiting","at":"2024-07-05T03:3')  # killed mid-line
    torn = whole.count(b"\n") + 1

    code, out, err = run("history", "0100-count-under-way", "--root", root)
    assert code == 0 and "== version 1" in out
    assert f"journal.jsonl:{torn}: a torn last line (a crash mid-write); skipped" in err
    run("correct", "0300-waiting", "--note", "Counting resumed", "--at", "03:31", "--root", root)
    report = Site(root).build(SOON)
    assert any(f"journal.jsonl:{torn}: a torn last line" in w for w in report.warnings)
    assert [v.id for v in report.published] == ["0300-waiting"]
    lines = journal.read_bytes().split(b"\n")
    assert lines[torn - 1].endswith(b"03:3") and json.loads(lines[torn])["id"] == "0300-waiting"  # started clean
    reopened = Journal.open(root)
    assert [r.op for r in reopened.versions("0300-waiting")] == ["shown", "shown"]
    assert reopened.warnings == [f"{journal}:{torn}: not a record; skipped"]  # still reported, never fatal


class Crash(BaseException):
    """The process dying: nothing after it runs."""


def test_a_crash_in_the_middle_of_a_journal_append_loses_no_version(
    blog: BlogMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = blog(NIGHT)
    Site(root).build(DURING_THE_NIGHT)
    run("correct", RESULT_ID, "--note", NOTE, "--at", "03:25", "--root", root)

    def dying_write(fd: int, data: bytes) -> None:
        """The journal's write: half the record reaches the disk, then the power goes."""
        os.write(fd, data[: len(data) // 2])
        raise Crash

    monkeypatch.setattr(journal_module, "write_all", dying_write)  # the site's own writer is not touched
    with pytest.raises(Crash):
        Site(root).build(SOON)
    monkeypatch.undo()
    assert live(root)["entries"][1]["updated"] == "2024-07-05T03:25:00+01:00"  # readers already see it

    half = Journal.open(root)
    assert len(half.warnings) == 1 and "a torn last line (a crash mid-write)" in half.warnings[0]
    assert [r.op for r in half.versions(RESULT_ID)] == ["shown"]  # the torn record is not trusted

    later = SOON + timedelta(minutes=1)
    report = Site(root).build(later)  # the next build records the version readers were shown
    assert [v.id for v in report.published] == [RESULT_ID]
    healed = Journal.open(root).versions(RESULT_ID)
    assert [(r.op, r.at) for r in healed] == [("shown", DURING_THE_NIGHT.isoformat()), ("shown", later.isoformat())]
    assert "correction:" in healed[-1].text


SCHEDULED = {
    **NIGHT,
    "entries/2200-exit-poll.md": "---\ntitle: Exit poll\ntime: '22:30'\nbreaking: true\n---\nLabour landslide.\n",
    "entries/2130-preview.md": "---\ntitle: Preview\ntime: '2024-07-04T22:10:00+01:00'\n---\nSoon.\n",
}


def test_a_scheduled_entry_is_listed_as_scheduled_and_appears_on_time(blog: BlogMaker) -> None:
    root = blog(SCHEDULED)
    before = datetime.fromisoformat("2024-07-04T22:15:00+01:00")  # times fall in the window (SPEC), from 22:00
    rows = {r.id: r for r in list_entries(root, before)}
    assert (rows["2200-exit-poll"].status, rows["2130-preview"].status) == ("scheduled", "live")
    report = Site(root).build(before)
    assert report.scheduled[0].id == "2200-exit-poll"
    assert report.next_due == datetime.fromisoformat("2024-07-04T22:30:00+01:00")
    assert "2200-exit-poll" not in (root / "site/index.html").read_text()
    assert "2200-exit-poll" not in {e["id"] for e in live(root)["entries"]}

    on_time = datetime.fromisoformat("2024-07-04T22:30:00+01:00")
    report = Site(root).build(on_time)
    assert "2200-exit-poll" in [v.id for v in report.published]
    assert 'id="2200-exit-poll"' in (root / "site/index.html").read_text()
    assert live(root)["entries"][-1]["id"] == "2130-preview"
    assert Journal.open(root).versions("2200-exit-poll")[0].at == on_time.isoformat()  # when it went live
    assert {r.id: r.status for r in list_entries(root, on_time)}["2200-exit-poll"] == "live"


def test_list_shows_every_entry_with_its_status_flags_and_errors(blog: BlogMaker) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    config = (
        f'title = "Tonight"\ntimezone = "Europe/London"\ncoverage_start = "{(now - timedelta(hours=2)).isoformat()}"\n'
    )
    soon = (now + timedelta(hours=1)).isoformat()
    root = blog(
        {
            "entries/a-live.md": f"---\ntitle: On now\ntime: '{now.isoformat()}'\nkey: true\npinned: true\n---\n",
            "entries/b-soon.md": f"---\ntitle: Exit poll\ntime: '{soon}'\nbreaking: true\n---\n",
            "entries/c-draft.md": f"---\ntitle: Not yet\ntime: '{now.isoformat()}'\nstatus: draft\n---\n",
            "entries/d-broken.md": f"---\ntitle: Oops\ntime: '{now.isoformat()}'\nkye: true\n---\n",
            "entries/.e-swap.md": "not an entry",
        },
        config=config,
    )
    code, out, err = run("list", "--root", root)
    assert code == 0
    rows = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert list(rows) == ["a-live", "c-draft", "b-soon", "d-broken"]  # by time; errors last
    assert re.search(r"^a-live +update +\d\d:\d\d +live +-KP- +On now$", rows["a-live"])
    assert re.search(r"^b-soon +update +\d\d:\d\d +scheduled +B--- +Exit poll$", rows["b-soon"])
    assert " draft " in rows["c-draft"]
    assert rows["d-broken"].endswith(
        "error      ----   entries/d-broken.md:4: kye: unknown field (did you mean 'key'?)"
    )
    assert err == "4 entries: 1 draft, 1 error, 1 live, 1 scheduled\n"


def test_coverage_ended(blog: BlogMaker) -> None:
    root = blog(NIGHT)
    Site(root).build(DURING_THE_NIGHT)
    assert "Coverage has ended" not in (root / "site/index.html").read_text()
    assert live(root)["ended"] is False
    assert json_ld(root)["coverageEndTime"] == "2024-07-05T12:00:00+01:00"  # the end expected (Google asks for it)

    Site(root).build(AFTER_THE_NIGHT)
    assert "Coverage has ended" in (root / "site/index.html").read_text()
    assert live(root)["ended"] is True  # open pages read this and stop polling
    assert json_ld(root)["coverageEndTime"] == "2024-07-05T12:00:00+01:00"


def test_pin_and_key_change_one_line_and_the_page(blog: BlogMaker) -> None:
    root = blog(NIGHT)
    path = root / "entries/0300-waiting.md"
    original = path.read_text()
    assert run("pin", "0300-waiting", "--root", root)[:2] == (
        0,
        "entries/0300-waiting.md: pinned: true; readers see it at the next build\n",
    )
    assert run("key", "0300-waiting", "--root", root)[0] == 0
    assert path.read_text() == original.replace("---\nStill", "pinned: true\nkey: true\n---\nStill")
    assert run("pin", "0300-waiting", "--root", root)[1] == "entries/0300-waiting.md: unchanged\n"
    Site(root).build(DURING_THE_NIGHT)
    page = (root / "site/index.html").read_text()
    assert 'id="pinned-0300-waiting"' in page and "Key events" in page
    assert run("unpin", "0300-waiting", "--root", root)[0] == 0
    assert run("unkey", "0300-waiting", "--root", root)[0] == 0
    assert path.read_text() == original.replace("---\nStill", "pinned: false\nkey: false\n---\nStill")
    Site(root).build(SOON)
    page = (root / "site/index.html").read_text()
    assert 'id="pinned-0300-waiting"' not in page and "Key events" not in page


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("withdraw", "0216-cannock"), 2, f"no entry '0216-cannock' in entries/ (did you mean '{RESULT_ID}'?)"),
        (("history", "0216-cannock"), 1, f"'0216-cannock' was never shown to readers (did you mean '{RESULT_ID}'?)"),
        (("restore", "0300"), 2, "'0300' was never shown to readers: no version to restore (did you mean"),
        (("correct", RESULT_ID), 2, "Missing option '--note'"),
        (("correct", "0100-broken", "--note", "x"), 1, "entries/0100-broken.md:3: time: '25:00' is not a clock time"),
        (("correct", "0100-broken", "--note", "x"), 1, "entries/0100-broken.md: not changed: fix the problems above"),
        (("correct", RESULT_ID, "--note", "x", "--at", "13:00"), 1, "not changed: the edit would make this entry"),
    ],
)
def test_clean_errors_and_exit_codes(blog: BlogMaker, args: tuple[str, ...], code: int, message: str) -> None:
    root = blog({**NIGHT, "entries/0100-broken.md": "---\ntitle: Broken\ntime: '25:00'\n---\n"})
    Site(root).build(DURING_THE_NIGHT)
    before = {p.name: p.read_bytes() for p in (root / "entries").iterdir()}
    result, _, err = run(*args, "--root", root)
    assert result == code
    assert message in " ".join(err.split())
    assert {p.name: p.read_bytes() for p in (root / "entries").iterdir()} == before


@pytest.mark.browser
def test_a_correction_made_while_a_page_is_open_changes_it_in_place(
    blog: BlogMaker, open_page: Callable[..., Watched], serve: Callable[[Path], Nginx]
) -> None:
    """The editor runs ``countnight correct`` while a reader has the page open in Chromium (served by nginx)."""
    from playwright.sync_api import expect

    from countnight.channel import LiveChannel

    root = blog(NIGHT)
    site = Site(root)
    server = serve(site.out)
    channel = LiveChannel(site.out, publish_url=server.publish_url)  # nchan in nginx pushes each build's changes
    site.outlets = (channel,)
    site.build(DURING_THE_NIGHT)
    assert channel.flush()
    page = open_page(server.url).page
    page.goto(f"{server.url}index.html")
    expect(page.locator("main[data-live-mode=push]")).to_have_count(1)  # live.js is listening
    page.evaluate("window.__notReloaded = true")
    stream = page.locator("[data-stream] > article")
    before = stream.evaluate_all("(els) => els.map((e) => e.id)")
    article = page.locator(f'[data-stream] > article[id="{RESULT_ID}"]')
    expect(article.locator(".entry__correction")).to_have_count(0)

    assert run("correct", RESULT_ID, "--note", NOTE, "--at", "03:25", "--root", root)[0] == 0
    site.build(SOON)
    expect(article.locator(".entry__correction")).to_have_text(f"Updated 03:25: {NOTE}")
    expect(article.locator(".entry__correction time")).to_have_attribute("datetime", "2024-07-05T03:25:00+01:00")
    assert stream.evaluate_all("(els) => els.map((e) => e.id)") == before  # same id, same place

    assert run("withdraw", RESULT_ID, "--root", root)[0] == 0
    site.build(SOON + timedelta(minutes=1))
    expect(article).to_have_count(0)
    assert page.evaluate("window.__notReloaded") is True  # all of it in place, no reload
    channel.close()
