"""``countnight build`` and ``check`` end to end: real folders, real files, the CLI's exit codes."""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from conftest import AFTER_THE_NIGHT, BASELINE, CONFIG, DURING_THE_NIGHT, BlogMaker
from countnight.cli import main
from countnight.site import Site

UPDATE = "---\ntitle: {title}\ntime: '{time}'\n---\n{body}\n"
RESULT = """\
---
kind: result
time: "02:16"
constituency: Cannock Chase
candidates:
  - {name: Josh Newbury, party: Lab, votes: 15671}
  - {name: Amanda Milling, party: Con, votes: 12546}
  - {name: Paul Allen, party: Reform UK, votes: 11570}
---
"""


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def update(title: str, time: str = "01:00", body: str = "Text.") -> str:
    return UPDATE.format(title=title, time=time, body=body)


def test_sample_night_checks_clean_and_builds(sample_night: Path) -> None:
    code, out, err = run("check", "--root", str(sample_night))
    # The sample night's small parties (MRLP, HPUK, WEP, PCFIRG) stood in 2024: no warning for them.
    assert (code, out) == (0, "")
    assert err == "no problems: checked countnight.toml, baseline.csv (14 constituencies) and 47 entry files\n"
    code, out, err = run("build", "--root", str(sample_night))
    assert code == 0, err
    assert re.fullmatch(r"published 47, rejected 0, scheduled 0, 47 live \(\d+\.\d\d s\)\n", out)
    site = sample_night / "site"
    for name in ("index.html", "live.json", "results.json", "atom.xml"):
        assert (site / name).is_file()


def test_minimal_folder_builds_with_the_default_theme(blog: BlogMaker) -> None:
    root = blog({"entries/0100-hello.md": update("Hello")})
    code, _, _ = run("build", "--root", str(root), "--out", str(root / "public"))
    assert code == 0
    html = (root / "public" / "index.html").read_text()
    assert 'id="0100-hello"' in html
    assert '<time datetime="2024-07-05T01:00:00+01:00">01:00 BST 5 July</time>' in html


def test_invalid_entry_is_reported_and_the_rest_published(blog: BlogMaker) -> None:
    root = blog({"entries/0100-good.md": update("Good"), "entries/0101-bad.md": "---\ntitle: x\n---\n"})
    code, out, err = run("build", "--root", str(root))
    assert code == 1
    assert "entries/0101-bad.md:2: time: required" in err
    assert out.startswith("published 1, rejected 1, scheduled 0, 1 live")
    assert 'id="0100-good"' in (root / "site/index.html").read_text()


def test_a_published_entry_keeps_its_last_good_version(blog: BlogMaker) -> None:
    root = blog({"entries/0100-story.md": update("First version", body="Good words.")})
    Site(root).build(AFTER_THE_NIGHT)
    (root / "entries/0100-story.md").write_text("---\ntitle: Second\ntime: 99:99\n---\nBroken edit.\n")
    report = Site(root).build(AFTER_THE_NIGHT)  # a new process: the journal, not memory, keeps it
    assert [str(p) for p in report.problems] == [
        "entries/0100-story.md:3: time: '99:99' is not a clock time (use 24-hour HH:MM, like 03:17)"
    ]
    html = (root / "site/index.html").read_text()
    assert "First version" in html and "Good words." in html and "Broken edit" not in html
    live = json.loads((root / "site/live.json").read_text())
    assert [e["id"] for e in live["entries"]] == ["0100-story"]
    assert live["withdrawn"] == []


def test_an_entry_s_version_tag_follows_the_text_it_was_read_from(blog: BlogMaker) -> None:
    """Each view carries the digest of the text its entry was read from (its version tag hashes it): the file's,
    or the journal's for a last good version. The same text gives the same tag in a new process; a correction
    a new one; a broken edit keeps the last good version's."""
    text = update("First version", body="Good words.")
    root = blog({"entries/0100-story.md": text})
    site = Site(root)
    site.build(AFTER_THE_NIGHT)
    view = site.stream.views["0100-story"][1]
    assert view.source == hashlib.sha256(text.encode()).hexdigest()

    def tag() -> str:
        return json.loads((root / "site/live.json").read_text())["entries"][0]["rev"]

    first = tag()
    Site(root).build(AFTER_THE_NIGHT)
    assert tag() == first
    (root / "entries/0100-story.md").write_text("---\ntitle: Second\ntime: 99:99\n---\nBroken edit.\n")
    again = Site(root)
    again.build(AFTER_THE_NIGHT)
    assert again.stream.views["0100-story"][1].source == view.source and tag() == first
    (root / "entries/0100-story.md").write_text(update("First version, corrected", body="Good words."))
    site.build(AFTER_THE_NIGHT)
    assert tag() != first


def test_only_changed_files_are_rewritten(blog: BlogMaker) -> None:
    root = blog({f"entries/01{i:02}-e.md": update(f"Entry {i}", time=f"01:{i:02}") for i in range(30)})
    site = Site(root)
    first = site.build(AFTER_THE_NIGHT)
    assert "index.html" in first.written and "page/1.html" in first.written
    assert Site(root).build(AFTER_THE_NIGHT).written == []  # a fresh process compares bytes on disk
    (root / "entries/0129-e.md").write_text(update("Entry 29, corrected", time="01:29"))
    again = site.build(AFTER_THE_NIGHT)
    assert "page/1.html" not in again.written  # the oldest entries' page did not change
    assert {"index.html", "live.json", "atom.xml"} <= set(again.written)


def test_every_file_is_whole_and_world_readable(blog: BlogMaker) -> None:
    root = blog({"entries/0100-a.md": update("A")})
    Site(root).build(AFTER_THE_NIGHT)
    for path in (root / "site").rglob("*"):
        if path.is_file():
            assert stat.S_IMODE(path.stat().st_mode) == 0o644, path
            assert "countnight-tmp" not in path.name


def test_deleted_and_withdrawn_entries_leave_every_page(blog: BlogMaker) -> None:
    root = blog({"entries/0100-a.md": update("Alpha"), "entries/0101-b.md": update("Beta", time="01:01")})
    Site(root).build(AFTER_THE_NIGHT)
    (root / "entries/0100-a.md").unlink()
    (root / "entries/0101-b.md").write_text(update("Beta", time="01:01").replace("---\nText", "---\nText"))
    (root / "entries/0101-b.md").write_text("---\ntitle: Beta\ntime: '01:01'\nstatus: withdrawn\n---\n")
    report = Site(root).build(AFTER_THE_NIGHT)
    assert sorted(report.removed) == [("0100-a", "deleted"), ("0101-b", "withdrawn")]
    live = json.loads((root / "site/live.json").read_text())
    assert live["entries"] == [] and live["withdrawn"] == ["0100-a", "0101-b"]
    html = (root / "site/index.html").read_text()
    assert "Alpha" not in html and "Beta" not in html


def test_drafts_and_scheduled_entries_wait(blog: BlogMaker) -> None:
    root = blog(
        {
            "entries/0100-draft.md": "---\ntitle: Draft\ntime: '01:00'\nstatus: draft\n---\n",
            "entries/0500-later.md": update("Embargoed", time="05:00"),
        }
    )
    report = Site(root).build(DURING_THE_NIGHT)  # 03:30
    assert report.live == 0 and [e.id for e in report.scheduled] == ["0500-later"]
    assert report.next_due is not None and report.next_due.isoformat() == "2024-07-05T05:00:00+01:00"
    assert "Embargoed" not in (root / "site/index.html").read_text()
    assert Site(root).build(AFTER_THE_NIGHT).live == 1


def test_a_broken_config_keeps_the_last_site(blog: BlogMaker) -> None:
    root = blog({"entries/0100-a.md": update("Alpha")})
    assert run("build", "--root", str(root))[0] == 0
    before = (root / "site/index.html").read_bytes()
    (root / "countnight.toml").write_text(CONFIG + "colour = 1\n")
    code, out, err = run("build", "--root", str(root))
    assert code == 1
    assert "countnight.toml:6: colour: unknown setting" in err
    assert "the previous site is unchanged" in out
    assert (root / "site/index.html").read_bytes() == before


def test_results_json_follows_the_spec(blog: BlogMaker) -> None:
    root = blog(
        {"baseline.csv": BASELINE, "entries/0216-cannock-chase-result.md": RESULT},
        config=CONFIG + 'baseline = "baseline.csv"\n',
    )
    Site(root).build(AFTER_THE_NIGHT)
    data = json.loads((root / "site/results.json").read_text())
    (record,) = data["results"]
    assert record["constituency"] == "Cannock Chase" and record["id"] == "0216-cannock-chase-result"
    assert record["winner"] == {"name": "Josh Newbury", "party": "Lab", "votes": 15671}
    assert record["majority"] == 3125 and record["previous_winner"] == "Con" and record["gain"] is True
    assert record["swing"]["from"] == "Con" and record["swing"]["to"] == "Lab"
    assert [c["party"] for c in record["candidates"]] == ["Lab", "Con", "RUK"]
    assert data["seats"] == {"Lab": 1} and data["gains"] == {"Lab": 1} and data["losses"] == {"Con": 1}
    assert (data["declared"], data["total"]) == (1, 2)


def test_without_a_baseline_total_and_gain_are_null(blog: BlogMaker) -> None:
    root = blog({"entries/0216-cannock-chase-result.md": RESULT})
    Site(root).build(AFTER_THE_NIGHT)
    data = json.loads((root / "site/results.json").read_text())
    assert data["total"] is None
    assert (data["results"][0]["gain"], data["results"][0]["swing"], data["results"][0]["previous_winner"]) == (
        None,
        None,
        None,
    )


def test_only_the_newest_result_of_a_constituency_counts(blog: BlogMaker) -> None:
    # A made-up seat: a first count and a recount that changes the winner.
    first = (
        '---\nkind: result\ntime: "02:16"\nconstituency: Testshire North\ncandidates:\n'
        "  - {name: Candidate A, party: Lab, votes: 101}\n  - {name: Candidate B, party: Con, votes: 99}\n---\n"
    )
    recount = first.replace('"02:16"', '"03:40"').replace("101}", "98}") + "recount\n"
    root = blog({"entries/0216-cannock.md": first, "entries/0340-cannock-recount.md": recount})
    Site(root).build(AFTER_THE_NIGHT)
    data = json.loads((root / "site/results.json").read_text())
    assert data["declared"] == 1 and data["seats"] == {"Con": 1}
    assert data["results"][0]["id"] == "0340-cannock-recount"


def test_older_pages_keep_their_addresses(blog: BlogMaker) -> None:
    config = CONFIG + "page_size = 5\n"
    files = {f"entries/00{i:02}-e.md": update(f"Entry {i}", time=f"00:{i:02}") for i in range(12)}
    root = blog(files, config=config)
    Site(root).build(AFTER_THE_NIGHT)
    first = (root / "site/page/1.html").read_text()
    ids = re.findall(r'<article id="([^"]+)"', first)
    assert ids == [f"00{i:02}-e" for i in range(4, -1, -1)]  # the night's first five, newest first
    for i in range(12, 40):
        (root / f"entries/00{i:02}-e.md").write_text(update(f"Entry {i}", time=f"00:{i:02}"))
    Site(root).build(AFTER_THE_NIGHT)
    assert re.findall(r'<article id="([^"]+)"', (root / "site/page/1.html").read_text()) == ids
    index = (root / "site/index.html").read_text()
    assert re.findall(r'<article id="([^"]+)"', index.split("data-stream")[1])[:5] == [
        f"00{i:02}-e" for i in range(39, 34, -1)
    ]


def test_ids_are_unique_in_every_page(sample_night: Path) -> None:
    Site(sample_night).build(AFTER_THE_NIGHT)
    for page in (sample_night / "site").rglob("*.html"):
        ids = re.findall(r'\sid="([^"]+)"', page.read_text())
        assert len(ids) == len(set(ids)), (page, [i for i in ids if ids.count(i) > 1])


def test_new_writes_a_ready_to_fill_file(blog: BlogMaker) -> None:
    start = (datetime.now(UTC) - timedelta(hours=2)).isoformat(timespec="seconds")  # on the night
    config = f'title = "Tonight"\ntimezone = "Europe/London"\ncoverage_start = "{start}"\nbaseline = "baseline.csv"\n'
    root = blog({"baseline.csv": BASELINE}, config=config)
    code, out, err = run("new", "turnout", "--constituency", "Stafford", "--root", str(root))
    assert code == 0 and err == ""
    path = root / out.strip()
    assert path.parent == root / "entries" and path.name.endswith("-stafford-turnout.md")
    text = path.read_text()
    assert "kind: turnout\n" in text and 'constituency: "Stafford"\n' in text
    code, out, _ = run("check", "--root", str(root))
    assert code == 1 and "turnout: give the percent" in out  # ready to fill, not yet filled


def test_new_refuses_a_result_without_a_constituency(blog: BlogMaker) -> None:
    root = blog()
    code, _, err = run("new", "result", "--root", str(root))
    assert code == 1 and "--constituency: a result entry needs --constituency NAME" in err
    assert os.listdir(root / "entries") == []
