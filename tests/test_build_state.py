"""The build's state, part by part: the rules (rules.py), what was read (readstate.py), the stream
(stream.py), the pages' cache (pagecache.py) and what was written (folder.py). Real folders in tmp_path; each part is
driven the way Site.build drives it, so what each keeps between builds is seen on its own."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from conftest import AFTER_THE_NIGHT, BASELINE, CONFIG, DURING_THE_NIGHT, BlogMaker
from countnight.changes import Changes
from countnight.errors import InputError
from countnight.folder import FolderOutlet
from countnight.journal import Journal, Record
from countnight.models import Context
from countnight.pagecache import PageCache
from countnight.publish import MANIFEST, PublishError
from countnight.readstate import ReadState
from countnight.report import BuildReport
from countnight.rules import Rules, Setup
from countnight.stream import Stream

UPDATE = "---\ntitle: {title}\ntime: '{time}'\n{extra}---\nText.\n"


def update(title: str, time: str = "01:00", extra: str = "") -> str:
    return UPDATE.format(title=title, time=time, extra=extra)


def scan(read: ReadState, setup: Setup, journal: Journal, only: list[str] | None = None, grace: float = 0.0):
    report = BuildReport()
    touched = read.scan(Context(setup.event.window, setup.baseline), journal, report, grace, setup, only)
    return touched, report


# -- the rules ---------------------------------------------------------------------------------


def test_rules_are_read_again_only_when_their_files_change(blog: BlogMaker) -> None:
    root = blog({"baseline.csv": BASELINE}, config=CONFIG + 'baseline = "baseline.csv"\n')
    rules = Rules(root)
    first = rules.read()
    again = rules.read()
    assert again.key == first.key and again.theme is first.theme and again.baseline is first.baseline
    assert rules.theme_signatures and rules.input_signatures is not None
    (root / "countnight.toml").write_text(CONFIG.replace("Test night", "Another night") + 'baseline = "baseline.csv"\n')
    changed = rules.read()
    assert changed.key != first.key and changed.event.title == "Another night"
    assert changed.theme is first.theme and changed.baseline is first.baseline  # neither file changed


def test_a_missing_baseline_is_an_input_error_naming_it(blog: BlogMaker) -> None:
    root = blog({}, config=CONFIG + 'baseline = "gone.csv"\n')
    with pytest.raises(InputError) as caught:
        Rules(root).read()
    assert [(p.path, p.message) for p in caught.value.problems] == [
        ("gone.csv", "baseline file: No such file or directory")
    ]


# -- what was read -----------------------------------------------------------------------------


def test_what_was_read_is_kept_and_only_the_files_named_are_looked_at_again(blog: BlogMaker) -> None:
    root = blog({"entries/0100-a.md": update("A"), "entries/0110-b.md": update("B", "01:10")})
    setup, journal, read = Rules(root).read(), Journal.open(root), ReadState(root)
    touched, report = scan(read, setup, journal)
    assert touched == {"0100-a", "0110-b"} and not report.problems
    assert sorted(read.entries) == ["0100-a", "0110-b"]
    kept = read.parsed["entries/0110-b.md"]
    assert read.signatures() == [
        (name, *read.parsed[f"entries/{name}"].signature) for name in ("0100-a.md", "0110-b.md")
    ]

    (root / "entries/0100-a.md").write_text(update("A, corrected"))
    touched, _ = scan(read, setup, journal, only=["entries/0100-a.md"])
    assert touched == {"0100-a"}
    assert read.entries["0100-a"].title == "A, corrected"
    assert read.parsed["entries/0110-b.md"] is kept  # not named: not read again


def test_a_file_that_fails_is_reported_and_its_withdrawal_still_counts(blog: BlogMaker) -> None:
    root = blog({"entries/0100-a.md": update("A")})
    setup, journal, read = Rules(root).read(), Journal.open(root), ReadState(root)
    scan(read, setup, journal)
    (root / "entries/0100-a.md").write_text("---\ntime: '01:00'\nstatus: withdrawn\nbogus: 1\n---\n")
    touched, report = scan(read, setup, journal, only=["entries/0100-a.md"])
    assert touched == {"0100-a"} and "0100-a" not in read.entries
    assert read.taken_down == {"0100-a": "withdrawn"} and read.bad == {"entries/0100-a.md"}
    assert {p.path for p in report.problems} == {"entries/0100-a.md"}  # a title missing, a field unknown
    assert read.signatures() is None  # a rejected file: the build cannot vouch for what it was made from


def test_a_file_gone_is_held_through_the_grace_period(blog: BlogMaker) -> None:
    root = blog({"entries/0100-a.md": update("A")})
    setup, journal, read = Rules(root).read(), Journal.open(root), ReadState(root)
    scan(read, setup, journal)
    entry = read.entries["0100-a"]
    os.unlink(root / "entries/0100-a.md")
    touched, report = scan(read, setup, journal, only=["entries/0100-a.md"], grace=3600.0)
    assert touched == set() and read.entries["0100-a"] is entry and report.held == ["0100-a"]
    touched, report = scan(read, setup, journal, only=[], grace=0.0)  # held files are looked at every build
    assert touched == {"0100-a"} and read.entries == {} and report.held == []


def test_clear_forgets_everything_read(blog: BlogMaker) -> None:
    root = blog({"entries/0100-a.md": update("A"), "entries/0110-b.md": "---\nbroken\n"})
    setup, journal, read = Rules(root).read(), Journal.open(root), ReadState(root)
    scan(read, setup, journal)
    assert read.parsed and read.bad
    read.clear()
    assert not (read.parsed or read.outcomes or read.entries or read.bad or read.taken_down)


# -- the stream --------------------------------------------------------------------------------


def test_the_stream_holds_what_is_live_oldest_first_and_schedules_the_rest(blog: BlogMaker) -> None:
    root = blog(
        {
            "entries/0110-b.md": update("B", "01:10", "key: true\n"),
            "entries/0100-a.md": update("A"),
            "entries/0500-later.md": update("Later", "05:00"),
        }
    )
    setup, journal, read = Rules(root).read(), Journal.open(root), ReadState(root)
    touched, _ = scan(read, setup, journal)
    stream, report = Stream(read), BuildReport()
    assert stream.update(setup, journal, touched, DURING_THE_NIGHT, report, reset=True) is None  # all may have
    assert [v.id for v in stream.oldest_first] == ["0100-a", "0110-b"]
    assert list(stream.scheduled) == ["0500-later"] and report.live == 2
    assert report.next_due == read.entries["0500-later"].time
    night = stream.night(setup, DURING_THE_NIGHT, None)
    assert [v.id for v in night.shown] == ["0110-b", "0100-a"]  # newest first
    assert [v.id for v in night.key_events or ()] == ["0110-b"]
    assert night.fragments["0100-a"].startswith("<article")

    changed = stream.update(setup, journal, set(), AFTER_THE_NIGHT, BuildReport(), reset=False)
    assert changed == {"0500-later"}  # its time came
    assert [v.id for v in stream.oldest_first] == ["0100-a", "0110-b", "0500-later"] and not stream.scheduled


def test_an_entry_readers_saw_and_that_is_gone_is_marked_removed(blog: BlogMaker) -> None:
    root = blog({"entries/0100-a.md": update("A"), "entries/0110-b.md": update("B", "01:10")})
    setup, journal, read = Rules(root).read(), Journal.open(root), ReadState(root)
    touched, _ = scan(read, setup, journal)
    stream = Stream(read)
    stream.update(setup, journal, touched, AFTER_THE_NIGHT, BuildReport(), reset=True)
    journal.append([Record("shown", "0100-a", "2024-07-05T01:00:00+01:00", "h", "text", "entries/0100-a.md")])
    os.unlink(root / "entries/0100-a.md")
    touched, _ = scan(read, setup, journal, only=["entries/0100-a.md"])
    changed = stream.update(setup, journal, touched, AFTER_THE_NIGHT, BuildReport(), reset=False)
    assert changed == {"0100-a"}
    assert stream.removed == {"0100-a": "deleted"} and list(stream.live) == ["0110-b"]
    assert stream.night(setup, AFTER_THE_NIGHT, changed).withdrawn == ["0100-a"]


# -- the pages' cache --------------------------------------------------------------------------


def test_the_page_cache_takes_a_working_copy_only_when_committed() -> None:
    cache = PageCache()
    cache.pages["index.html"] = "made from 1"
    work = cache.working_copy()
    work.pages["index.html"] = "made from 2"
    work.share_paths.add("update/0100-a.html")
    assert cache.pages == {"index.html": "made from 1"} and not cache.share_paths  # a failed write keeps these
    cache.commit(work)
    assert cache.pages == {"index.html": "made from 2"} and cache.share_paths == {"update/0100-a.html"}
    cache.clear()
    assert not cache.pages and cache.paging is None and not cache.share_paths


# -- what was written ---------------------------------------------------------------------------


def folder_files(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file() and p.name != MANIFEST}


def test_the_folder_keeps_what_it_wrote_and_writes_only_what_changed(tmp_path: Path) -> None:
    out = tmp_path / "site"
    folder = FolderOutlet(out, workers=False)
    assert not folder.knows_the_folder
    files = {"assets/style.css": b"css", "index.html": lambda: b"index", "update/a.html": b"a"}
    first = folder.send(Changes(files, frozenset(files)))
    assert sorted(first.written) == sorted(files) and folder.knows_the_folder
    assert folder_files(out) == {"assets/style.css": b"css", "index.html": b"index", "update/a.html": b"a"}
    same = folder.send(Changes({"index.html": b"index"}, frozenset(files), frozenset(files)))
    assert same.written == [] and same.unchanged == 3  # known from what it wrote: not read back, not rewritten
    gone = folder.send(Changes({"index.html": b"index 2"}, frozenset({"assets/style.css", "index.html"})))
    assert gone.written == ["index.html"] and gone.removed == ["update/a.html"]
    assert folder_files(out) == {"assets/style.css": b"css", "index.html": b"index 2"}


def test_a_failed_write_makes_the_folder_forget_what_it_holds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "site"
    folder = FolderOutlet(out, workers=False)
    folder.send(Changes({"index.html": b"one"}, frozenset({"index.html"})))
    real_write = os.write

    def full(fd: int, data: bytes | memoryview) -> int:
        if os.readlink(f"/proc/self/fd/{fd}").startswith(str(out.resolve())):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", full)
    with pytest.raises(PublishError, match="the disk is full"):
        folder.send(Changes({"index.html": b"two"}, frozenset({"index.html"})))
    monkeypatch.setattr(os, "write", real_write)
    assert not folder.knows_the_folder and folder_files(out) == {"index.html": b"one"}  # the previous file intact
    again = folder.send(Changes({"index.html": b"two"}, frozenset({"index.html"})))
    assert again.written == ["index.html"] and folder_files(out) == {"index.html": b"two"}


def test_site_is_made_of_these_parts(tmp_path: Path, blog: BlogMaker) -> None:
    from countnight.site import Site

    root = blog({"entries/0100-a.md": update("A")})
    site = Site(root)
    report = site.build(AFTER_THE_NIGHT)
    assert report.built and site.stream.read is site.read
    assert list(site.stream.live) == ["0100-a"] and site.inputs_seen() is not None
