"""A restart over a site that is already up to date skips the build; any change at all means it builds.

uptodate.py records, after a clean build, the signatures of what the site was made from and of what
it is; ``countnight build`` (and ``watch``) started again compares them with the disk.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from conftest import AFTER_THE_NIGHT, DURING_THE_NIGHT, copy_sample
from countnight import launch, uptodate
from countnight.site import Site
from countnight.watch import Watcher


def _built(root: Path, now=AFTER_THE_NIGHT) -> Site:  # type: ignore[no-untyped-def]
    site = Site(root)
    report = site.build(now)
    assert report.built
    assert uptodate.record_build(site, report)
    return site


@pytest.fixture
def night(tmp_path: Path) -> Path:
    return copy_sample(tmp_path / "night")


def _later(path: Path) -> None:
    """Change a file's signature, not its bytes (mtime_ns one second later)."""
    info = path.stat()
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000_000))


def test_a_clean_build_is_recorded_and_found_up_to_date(night: Path) -> None:
    _built(night)
    found = uptodate.up_to_date(night, night / "site", AFTER_THE_NIGHT)
    assert found is not None and found.live == 47


@pytest.mark.parametrize(
    "change",
    [
        "an entry touched",
        "an entry added",
        "an entry deleted",
        "a page deleted",
        "a page touched",
        "a file added to the site",
        "the config touched",
        "the baseline touched",
        "a template added",
        "the journal touched",
    ],
)
def test_any_change_means_not_up_to_date(night: Path, change: str) -> None:
    _built(night)
    entry = night / "entries" / "0216-cannock-chase-result.md"
    match change:
        case "an entry touched":
            _later(entry)
        case "an entry added":
            (night / "entries" / "0700-late.md").write_text('---\ntime: "06:59"\ntitle: Late\n---\nLate.\n')
        case "an entry deleted":
            entry.unlink()
        case "a page deleted":
            (night / "site" / "live.json").unlink()
        case "a page touched":
            _later(night / "site" / "page" / "1.html")
        case "a file added to the site":
            (night / "site" / "extra.html").write_text("x")
        case "the config touched":
            _later(night / "countnight.toml")
        case "the baseline touched":
            _later(night / "baseline.csv")
        case "a template added":
            (night / "templates").mkdir()
            (night / "templates" / "entry.html").write_text("{{ e.id }}")
        case "the journal touched":
            _later(night / ".countnight" / "journal.jsonl")
    assert uptodate.up_to_date(night, night / "site", AFTER_THE_NIGHT) is None


def test_not_up_to_date_once_an_embargo_lifts_or_coverage_ends(night: Path) -> None:
    embargoed = night / "entries" / "0400-embargoed.md"
    embargoed.write_text('---\ntime: "03:45"\ntitle: Embargoed\n---\nNot yet.\n')
    _built(night, DURING_THE_NIGHT)
    assert uptodate.up_to_date(night, night / "site", DURING_THE_NIGHT) is not None
    assert uptodate.up_to_date(night, night / "site", DURING_THE_NIGHT + timedelta(minutes=15)) is None
    embargoed.unlink()
    morning = DURING_THE_NIGHT + timedelta(hours=4)  # 07:30: every sample entry is live; coverage ends at 12:00
    _built(night, morning)
    assert uptodate.up_to_date(night, night / "site", morning + timedelta(hours=4)) is not None
    assert uptodate.up_to_date(night, night / "site", AFTER_THE_NIGHT) is None


def test_another_version_of_the_tool_builds(night: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _built(night)
    monkeypatch.setattr(uptodate, "__version__", "9.9.9")
    assert uptodate.up_to_date(night, night / "site", AFTER_THE_NIGHT) is None


def test_a_build_with_problems_is_not_recorded(night: Path) -> None:
    _built(night)
    (night / "entries" / "0300-broken.md").write_text("---\nkind: [unclosed\n---\n")
    site = Site(night)
    report = site.build(AFTER_THE_NIGHT)
    assert report.problems
    assert not uptodate.record_build(site, report)
    assert not list((night / ".countnight").glob("published-*.json"))


def test_a_file_changed_after_the_build_looked_is_never_taken_as_up_to_date(night: Path) -> None:
    site = Site(night)
    report = site.build(AFTER_THE_NIGHT)
    _later(night / "entries" / "0216-cannock-chase-result.md")  # between the build and the record
    uptodate.record_build(site, report)  # records what the build saw, which the disk no longer is
    assert uptodate.up_to_date(night, night / "site", AFTER_THE_NIGHT) is None
    again = site.build(AFTER_THE_NIGHT)  # the next build sees the change, and its record matches
    assert uptodate.record_build(site, again)
    assert uptodate.up_to_date(night, night / "site", AFTER_THE_NIGHT) is not None


def test_the_command_skips_an_up_to_date_build_and_builds_after_a_change(night: Path) -> None:
    command = [sys.executable, "-c", "from countnight.launch import main; main()", "build", "--root", str(night)]
    first = subprocess.run(command, capture_output=True, text=True, check=True)
    assert first.stdout.startswith("published 47,")
    again = subprocess.run(command, capture_output=True, text=True, check=True)
    assert again.stdout.strip().endswith("up to date")
    (night / "entries" / "0700-late.md").write_text('---\ntime: "06:59"\ntitle: Late\n---\nLate.\n')
    third = subprocess.run(command, capture_output=True, text=True, check=True)
    assert third.stdout.startswith("published 1,")
    assert b"0700-late" in (night / "site" / "index.html").read_bytes()


def test_the_build_command_says_everything_and_exits_with_its_status_when_it_ends_early(night: Path) -> None:
    """A one-off build ends its process without tearing the night down (launch._exit_now): what it printed
    still arrives through pipes, and the status is the build's."""
    command = [sys.executable, "-c", "from countnight.launch import main; main()", "build", "--root", str(night)]
    (night / "entries" / "0300-bad.md").write_text('---\ntime: "03:00"\nkind: result\n---\nNo candidates.\n')
    failed = subprocess.run(command, capture_output=True, text=True)
    assert failed.returncode == 1
    assert failed.stdout.startswith("published 47,")
    assert "entries/0300-bad.md:" in failed.stderr
    (night / "entries" / "0300-bad.md").unlink()
    passed = subprocess.run(command, capture_output=True, text=True)
    assert passed.returncode == 0, passed.stderr
    assert passed.stdout.startswith("published 0,")
    usage = subprocess.run([*command, "--bogus"], capture_output=True, text=True)
    assert usage.returncode == 2
    assert "No such option" in usage.stderr


def test_a_plain_build_skips_the_command_line_and_says_the_same(night: Path, tmp_path: Path) -> None:
    """launch builds a plain ``build`` itself (oneoff.py) without loading click; the command line's ``build``
    does the same work: the same output and status. Folders unfit to build still get click's usage error."""
    launcher = [sys.executable, "-c", "from countnight.launch import main; main()", "build"]
    through_click = [sys.executable, "-c", "from countnight.cli import main; main()", "build"]
    (night / "entries" / "0300-bad.md").write_text('---\ntime: "03:00"\nkind: result\n---\nNo candidates.\n')
    quick = subprocess.run(
        [*launcher, "--root", str(night), "--out", str(tmp_path / "a")], capture_output=True, text=True
    )
    full = subprocess.run(
        [*through_click, "--root", str(night), "--out", str(tmp_path / "b")], capture_output=True, text=True
    )
    assert quick.returncode == full.returncode == 1
    assert quick.stderr == full.stderr and "entries/0300-bad.md:" in quick.stderr
    assert quick.stdout.startswith("published 47, rejected 1, scheduled 0, 47 live (")
    assert full.stdout.startswith("published 0, rejected 1, scheduled 0, 47 live (")  # the journal had them
    assert (tmp_path / "a" / "index.html").read_bytes() == (tmp_path / "b" / "index.html").read_bytes()
    spy = (  # what the launcher had loaded when it ended the process
        "import sys; import countnight.launch as launch; end = launch._exit_now;"
        "launch._exit_now = lambda code: (print('click loaded:', 'click' in sys.modules), end(code)); launch.main()"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", spy, "build", "--root", str(night), "--out", str(tmp_path / "c")],
        capture_output=True,
        text=True,
    )
    assert loaded.returncode == 1 and loaded.stdout.endswith("click loaded: False\n"), loaded.stdout
    (tmp_path / "file").write_text("")
    for args in (
        ["--root", str(tmp_path / "missing")],
        ["--root", str(night), "--out", str(night)],
        ["--root", str(night), "--out", str(tmp_path / "file")],
    ):
        unfit = subprocess.run([*launcher, *args], capture_output=True, text=True)
        assert unfit.returncode == 2, args
        assert unfit.stderr == subprocess.run([*through_click, *args], capture_output=True, text=True).stderr
        assert "Usage:" in unfit.stderr


@pytest.mark.parametrize(
    ("args", "handled"),
    [
        (["build"], True),
        (["build", "--root", "R"], True),
        (["build", "--root=R", "--out", "O"], True),
        (["watch", "--root", "R", "-q"], True),
        (["build", "--help"], False),
        (["build", "--root"], False),
        (["build", "--root", "R", "--root", "S"], False),
        (["watch", "--rescan", "5"], False),
        (["serve"], False),
        ([], False),
    ],
)
def test_only_plain_build_and_watch_take_the_quick_path(args: list[str], handled: bool) -> None:
    assert (launch._parse(args) is not None) is handled


def test_the_watcher_records_once_idle_and_on_stop(night: Path) -> None:
    watcher = Watcher(Site(night), record_after=0.05, clock=lambda: AFTER_THE_NIGHT)
    watcher.start()
    try:
        deadline = time.monotonic() + 10
        while uptodate.up_to_date(night, night / "site", AFTER_THE_NIGHT) is None:
            assert time.monotonic() < deadline, "never recorded"
            time.sleep(0.02)
        (night / "entries" / "0700-late.md").write_text('---\ntime: "06:59"\ntitle: Late\n---\nLate.\n')
        while b"0700-late" not in (night / "site" / "index.html").read_bytes():
            assert time.monotonic() < deadline, "never published"
            time.sleep(0.02)
    finally:
        watcher.stop()
    assert uptodate.up_to_date(night, night / "site", AFTER_THE_NIGHT) is not None


def test_each_output_folder_has_its_own_record(night: Path) -> None:
    for out in (night / "site", night / "elsewhere"):
        site = Site(night, out)
        assert uptodate.record_build(site, site.build(AFTER_THE_NIGHT))
    assert uptodate.up_to_date(night, night / "site", AFTER_THE_NIGHT) is not None
    assert uptodate.up_to_date(night, night / "elsewhere", AFTER_THE_NIGHT) is not None


def test_a_cold_build_takes_the_signatures_of_its_site_as_it_stages_it(night: Path) -> None:
    """Into an empty folder the site is staged whole and moved in: the build takes the digest of its files'
    signatures as it stages them, and it is what the folder holds once they are in place."""
    site = Site(night)
    report = site.build(AFTER_THE_NIGHT)
    assert report.outputs_digest is not None
    assert report.outputs_digest == uptodate.disk_outputs(night / "site")
    assert uptodate.record_build(site, report)
    assert uptodate.up_to_date(night, night / "site", AFTER_THE_NIGHT) is not None
    (night / "entries" / "0700-late.md").write_text('---\ntime: "06:59"\ntitle: Late\n---\nLate.\n')
    again = site.build(AFTER_THE_NIGHT)
    assert again.built and again.outputs_digest is None  # over a site: record_build looks at the folder
    assert uptodate.record_build(site, again)
    assert uptodate.up_to_date(night, night / "site", AFTER_THE_NIGHT) is not None


def test_a_file_put_in_the_site_during_a_cold_build_means_not_up_to_date(
    night: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer's file, put in the output folder after the build took its digest: the record it
    writes does not match the folder, so the next start builds."""
    from countnight import publish

    real_move = publish._move_tree

    def move_then_someone_writes(tree: str, base: str, names: list[str]) -> None:
        real_move(tree, base, names)
        (Path(base) / "stranger.html").write_text("not ours")

    monkeypatch.setattr(publish, "_move_tree", move_then_someone_writes)
    _built(night)
    assert uptodate.up_to_date(night, night / "site", AFTER_THE_NIGHT) is None


# In a process of its own with no other thread (pytest's may have some): the outputs are looked at by a fork.
_ASIDE = r"""
import os, sys, threading
from pathlib import Path
from countnight import uptodate
out = Path(sys.argv[1])
aside = uptodate._OutputsAside(out)
assert aside._pid is not None, "not forked"
assert aside.digest() == uptodate.disk_outputs(out), "the fork's digest differs"
cancelled = uptodate._OutputsAside(out)
pid = cancelled._pid
cancelled.cancel()
try:
    os.waitpid(pid, os.WNOHANG)
    raise AssertionError("left a zombie")
except ChildProcessError:
    pass
threading.Thread(target=threading.Event().wait, args=(5,), daemon=True).start()
assert uptodate._OutputsAside(out)._pid is None, "forked beside another thread"
assert uptodate._OutputsAside(out).digest() == uptodate.disk_outputs(out)
print("ok")
"""


def test_the_outputs_are_looked_at_by_a_fork_with_the_same_digest_unless_other_threads_run(night: Path) -> None:
    """A restart's quick check looks at the inputs and, in a forked process meanwhile, the outputs (~0.1 s
    each at 10,000 entries): the same digest as looked at here; a fork not needed is ended and waited for; and
    a process running other threads (whose locks the fork would copy held) looks at them itself."""
    _built(night)
    (night / "site" / "odd name ü.txt").write_bytes(b"x")  # (a name that is not ASCII: the same bytes either way)
    done = subprocess.run(
        [sys.executable, "-c", _ASIDE, str(night / "site")], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
