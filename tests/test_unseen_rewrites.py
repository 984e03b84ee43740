"""A file rewritten to the same size with its mtime kept is seen: by ``build``, by a rebuild, by a running watcher.

``cp --preserve=timestamps``, rsync and sync clients keep a file's modification time; a correction of the
same length then left size and mtime as they were, and the build said "up to date". Each way of rewriting a
file so is tried here on an entry, a template, the config and the baseline.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import AFTER_THE_NIGHT, BASELINE, CONFIG, write_blog
from countnight import uptodate
from countnight.console import VERBOSE, Console
from countnight.site import Site
from countnight.watch import Watcher

TIMEOUT = 15.0
ENTRY = "entries/0300-count.md"
FIRST = '---\ntime: "03:00"\ntitle: Count at Stafford\n---\nLabour ahead by 1,204 votes.\n'
SECOND = '---\ntime: "03:00"\ntitle: Count at Stafford\n---\nLabour ahead by 7,921 votes.\n'  # same length
assert len(FIRST) == len(SECOND)
TEMPLATE = "templates/entry.html"
THEME_A = '<article id="{{ e.id }}">AAAA {{ e.headline }} {{ body }}</article>\n'
THEME_B = '<article id="{{ e.id }}">BBBB {{ e.headline }} {{ body }}</article>\n'
OTHER = '---\ntime: "03:10"\ntitle: Other\n---\nOther words.\n'


def _rewrite(path: Path, text: str, how: str) -> None:
    """Give ``path`` the bytes of ``text`` (same size) and its old mtime back, as ``how`` does."""
    before = path.stat()
    match how:
        case "cp --preserve=timestamps":
            source = path.with_name(f".source-{path.name}")
            source.write_text(text)
            os.utime(source, ns=(before.st_atime_ns, before.st_mtime_ns))
            subprocess.run(["cp", "--preserve=timestamps", str(source), str(path)], check=True)
            source.unlink()
        case "sync client temp then rename":  # what rsync -t does: a temp file, its times set, renamed over
            temp = path.with_name(f".{path.name}.sync")
            temp.write_text(text)
            os.utime(temp, ns=(before.st_atime_ns, before.st_mtime_ns))
            os.replace(temp, path)
        case "in place, then touch -d back":
            with path.open("r+b") as handle:
                handle.write(text.encode())
            os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
        case "truncate and rewrite, then touch -r":
            path.write_text(text)
            os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
        case _:
            raise AssertionError(how)
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)


HOWS = [
    "cp --preserve=timestamps",
    "sync client temp then rename",
    "in place, then touch -d back",
    "truncate and rewrite, then touch -r",
]


def _night(tmp_path: Path) -> Path:
    root = write_blog(
        tmp_path / "blog",
        {ENTRY: FIRST, "entries/0310-other.md": OTHER, TEMPLATE: THEME_A, "baseline.csv": BASELINE},
        config=CONFIG + 'baseline = "baseline.csv"\n',
    )
    return root


def _index(root: Path) -> str:
    return (root / "site" / "index.html").read_text()


def _build_command(root: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", "from countnight.launch import main; main()", "build", "--root", str(root)]
    return subprocess.run(command, capture_output=True, text=True)


@pytest.mark.parametrize("how", HOWS)
def test_build_sees_an_entry_rewritten_with_its_size_and_mtime_kept(tmp_path: Path, how: str) -> None:
    root = _night(tmp_path)
    first = _build_command(root)
    assert first.returncode == 0 and "1,204" in _index(root)
    assert _build_command(root).stdout.strip().endswith("up to date")
    _rewrite(root / ENTRY, SECOND, how)
    again = _build_command(root)
    assert again.returncode == 0 and "up to date" not in again.stdout, again.stdout
    assert "7,921" in _index(root) and "1,204" not in _index(root)


@pytest.mark.parametrize("how", HOWS)
@pytest.mark.parametrize("what", ["template", "config", "baseline"])
def test_build_sees_the_theme_config_and_baseline_rewritten_so(tmp_path: Path, how: str, what: str) -> None:
    root = _night(tmp_path)
    assert _build_command(root).returncode == 0
    assert _build_command(root).stdout.strip().endswith("up to date")
    match what:
        case "template":
            _rewrite(root / TEMPLATE, THEME_B, how)
        case "config":
            text = (root / "countnight.toml").read_text()
            _rewrite(root / "countnight.toml", text.replace("Test night", "Best night"), how)
        case "baseline":
            _rewrite(root / "baseline.csv", BASELINE.replace("76974", "76975"), how)
    again = _build_command(root)
    assert "up to date" not in again.stdout, (what, again.stdout)
    if what == "template":
        assert "BBBB" in _index(root) and "AAAA" not in _index(root)
    if what == "config":
        assert "Best night" in _index(root)


@pytest.mark.parametrize("how", HOWS)
def test_a_rebuild_in_the_same_process_sees_it(tmp_path: Path, how: str) -> None:
    root = _night(tmp_path)
    site = Site(root)
    site.build(AFTER_THE_NIGHT)
    _rewrite(root / ENTRY, SECOND, how)
    site.build(AFTER_THE_NIGHT, changed=[ENTRY])  # as a file event names it
    assert "7,921" in _index(root)
    _rewrite(root / ENTRY, FIRST, how)
    site.build(AFTER_THE_NIGHT)  # as the rescan looks at every file
    assert "1,204" in _index(root)


@pytest.mark.parametrize("how", HOWS)
@pytest.mark.parametrize("poll", [False, True], ids=["inotify", "poll"])
def test_a_running_watcher_sees_it(tmp_path: Path, how: str, poll: bool) -> None:
    """Within its poll, not at the rescan (set here far beyond the test's deadline)."""
    root = _night(tmp_path)
    out = io.StringIO()
    console = Console(out, verbosity=VERBOSE, colour=False)
    watcher = Watcher(Site(root), console=console, quiet=0.03, grace=0.3, poll=poll, poll_interval=0.05, rescan=600)
    watcher.start()
    try:
        assert "1,204" in _index(root)
        for text, figure in ((SECOND, "7,921"), (FIRST, "1,204")):
            _rewrite(root / ENTRY, text, how)
            deadline = time.monotonic() + TIMEOUT
            while figure not in _index(root):
                assert time.monotonic() < deadline, f"the watcher never published {figure}\n{out.getvalue()}"
                time.sleep(0.01)
    finally:
        watcher.stop()


def test_a_change_within_one_tick_of_the_clock_is_not_trusted_to_its_signature(tmp_path: Path) -> None:
    """Two writes within one tick of the file system's clock can leave even the ctime as it was. A file read
    that soon after it changed is read again at the next look, whatever its signature says."""
    root = _night(tmp_path)
    site = Site(root)
    site.build(AFTER_THE_NIGHT)
    assert not site.read.parsed[ENTRY].settled  # just written: racy
    (root / ENTRY).write_text(SECOND)
    site.read.parsed[ENTRY].signature = uptodate.signature(root / ENTRY)  # as if the write had kept every field
    site.build(AFTER_THE_NIGHT, changed=[ENTRY])
    assert "7,921" in _index(root)


def test_the_record_keeps_the_digests_of_racy_inputs_and_checks_them(tmp_path: Path) -> None:
    root = _night(tmp_path)
    site = Site(root)
    report = site.build(AFTER_THE_NIGHT)
    assert uptodate.record_build(site, report)
    (record_path,) = (root / ".countnight").glob("published-*.json")
    record = json.loads(record_path.read_text())
    assert [ENTRY, hashlib.sha256(FIRST.encode()).hexdigest()] in record["racy"]
    assert uptodate.up_to_date(root, root / "site", AFTER_THE_NIGHT) is not None
    # a same-tick rewrite: the signatures match the record (forged here), the bytes do not
    (root / ENTRY).write_text(SECOND)
    record["inputs"] = uptodate.disk_inputs(root, "baseline.csv").digest()
    record_path.write_text(json.dumps(record))
    assert uptodate.up_to_date(root, root / "site", AFTER_THE_NIGHT) is None


def test_files_long_unchanged_are_trusted_to_their_signature(tmp_path: Path) -> None:
    """The cost stays where it was: a file that changed well before the build is settled, never read again
    while its signature holds, and the record keeps no digest of it for the up-to-date check to read."""
    root = _night(tmp_path)
    newest = max(p.stat().st_ctime_ns for p in root.rglob("*") if p.is_file())
    deadline = time.monotonic() + TIMEOUT
    while time.time_ns() <= newest + uptodate.RACY_NS:  # the clock must pass the racy window: a condition
        assert time.monotonic() < deadline
        time.sleep(0.05)
    site = Site(root)
    report = site.build(AFTER_THE_NIGHT)
    assert all(parsed.settled for parsed in site.read.parsed.values())
    assert uptodate.record_build(site, report)
    (record_path,) = (root / ".countnight").glob("published-*.json")
    assert json.loads(record_path.read_text())["racy"] == []
