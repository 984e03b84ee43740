"""A state or input path of the wrong kind is a clear error, never a traceback (issue 17, item 10).

``.countnight`` a file, ``journal.jsonl`` a folder or ``site`` a file gave tracebacks in ``build``,
``history`` and ``list``, and ``watch`` logged ~4 errors a second there. Every path the tool reads or keeps
is made the wrong kind in turn (a file where a folder must be, a folder where a file must be), and every
command is run on it: each says what is wrong, naming the path, and exits 1 where it needs that path; nothing
published is lost; the watcher says it once and backs off.
"""

from __future__ import annotations

import itertools
import os
import shutil
import time
from io import StringIO
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import AFTER_THE_NIGHT, BASELINE, CONFIG, run_countnight, write_blog
from countnight.cli import main
from countnight.console import Console
from countnight.site import Site
from countnight.watch import MAX_BACKOFF, Watcher

ENTRY = "---\ntime: '01:00'\ntitle: One\n---\nText.\n"


def _night(tmp_path: Path) -> Path:
    root = write_blog(
        tmp_path / "blog",
        {"entries/e1.md": ENTRY, "baseline.csv": BASELINE, "templates/.keep": ""},
        config=CONFIG + 'baseline = "baseline.csv"\n',
    )
    assert Site(root).build(AFTER_THE_NIGHT).built
    return root


def _replace(path: Path, kind: str) -> None:
    """Put a ``kind`` ("file" or "folder") where ``path`` is."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()
    if kind == "file":
        path.write_text("in the way\n")
    else:
        (path / "inner").mkdir(parents=True)


# (the path, what is put there, the commands that need it: those exit 1 naming it)
WRONG = [
    (".countnight", "file", {"build", "list", "history", "restore", "watch"}),
    (".countnight/journal.jsonl", "folder", {"build", "list", "history", "restore"}),
    (".countnight/lock", "folder", {"build", "watch"}),
    ("site", "file", {"build", "watch", "check"}),
    ("site/update", "file", {"build"}),
    ("site/index.html", "folder", {"build"}),
    ("site/.countnight-manifest", "folder", set()),
    ("entries", "file", {"build", "check", "list", "withdraw", "restore"}),
    ("countnight.toml", "folder", {"build", "check", "list", "withdraw", "restore"}),
    ("baseline.csv", "folder", {"build", "check", "list", "withdraw", "restore"}),
    ("templates", "file", set()),
]
COMMANDS = {
    "build": ["build"],
    "check": ["check"],
    "list": ["list"],
    "history": ["history", "e1"],
    "withdraw": ["withdraw", "e1"],
    "restore": ["restore", "e1", "--force"],
}


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize(("where", "kind", "needed"), WRONG, ids=[f"{w[0]}-a-{w[1]}" for w in WRONG])
def test_every_command_says_what_is_wrong_without_a_traceback(
    tmp_path: Path, where: str, kind: str, needed: set[str], command: str
) -> None:
    root = _night(tmp_path)
    _replace(root / where, kind)
    result = CliRunner().invoke(main, [*COMMANDS[command], "--root", str(root)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    assert result.exit_code in (0, 1), result.output
    if command in needed:
        assert result.exit_code == 1, result.output
        name = where.rpartition("/")[2] if kind == "folder" or where.count("/") == 0 else where.partition("/")[0]
        assert name in result.output, result.output


@pytest.mark.parametrize(("where", "kind", "needed"), WRONG[:4], ids=[f"{w[0]}-a-{w[1]}" for w in WRONG[:4]])
def test_the_real_command_never_prints_a_traceback(tmp_path: Path, where: str, kind: str, needed: set[str]) -> None:
    """Through the installed entry point (launch.py), which takes a plain build without click."""
    root = _night(tmp_path)
    _replace(root / where, kind)
    for args in (["build"], ["list"], ["history", "e1"], ["watch"] if "watch" in needed else ["check"]):
        done = run_countnight(*args, "--root", str(root))  # a hang fails at its deadline
        assert "Traceback" not in done.stderr, (args, done.stderr)
        assert done.returncode in (0, 1), (args, done.stderr)


def test_a_broken_record_keeps_every_published_page(tmp_path: Path) -> None:
    """The build that cannot read the record publishes nothing (the record holds each entry's last good
    version): the site stays as it was, and comes back once the record is readable again."""
    root = _night(tmp_path)
    before = {p: p.read_bytes() for p in (root / "site").rglob("*") if p.is_file()}
    journal = (root / ".countnight/journal.jsonl").read_bytes()
    _replace(root / ".countnight/journal.jsonl", "folder")
    (root / "entries/e1.md").unlink()  # would take e1 down, were the build to go on without the record
    report = Site(root).build(AFTER_THE_NIGHT)
    assert not report.built and report.problems[0].path == ".countnight/journal.jsonl"
    assert {p: p.read_bytes() for p in (root / "site").rglob("*") if p.is_file()} == before
    shutil.rmtree(root / ".countnight/journal.jsonl")
    (root / ".countnight/journal.jsonl").write_bytes(journal)
    (root / "entries/e1.md").write_text(ENTRY)
    assert Site(root).build(AFTER_THE_NIGHT).built


def test_the_watcher_says_it_once_and_backs_off(tmp_path: Path) -> None:
    """The record made a folder under a running watcher: one problem line, and the tries spread out (1 s, then
    doubling), where a fixed quarter second logged four errors a second. Fixed, it publishes at the next try."""
    root = _night(tmp_path)
    stream = StringIO()
    watcher = Watcher(
        Site(root, long_lived=True), console=Console(stream, colour=False), clock=lambda: AFTER_THE_NIGHT, retry=0.5
    )
    watcher.start()
    starts: list[float] = []
    try:
        _replace(root / ".countnight/journal.jsonl", "folder")
        builds = watcher.builds
        (root / "entries/e2.md").write_text(ENTRY.replace("One", "Two"))
        while len(starts) < 4:
            assert watcher.wait_for_build(builds, 60), "the watcher stopped trying"
            builds = watcher.builds
            assert watcher.last is not None and not watcher.last.built
            starts.append(time.monotonic())
        gaps = [b - a for a, b in itertools.pairwise(starts)]
        assert gaps[-1] >= 1.9, gaps  # backing off: 1 s, 1 s, 2 s, 4 s … (a loaded machine only widens them)
        shutil.rmtree(root / ".countnight/journal.jsonl")
        deadline = time.monotonic() + 60
        while not (watcher.last and watcher.last.built):
            assert time.monotonic() < deadline, "never recovered"
            watcher.wait_for_build(watcher.builds, 10)
        assert (root / "site/update/e2.html").exists()
    finally:
        watcher.stop()
    said = stream.getvalue()
    assert said.count("journal.jsonl: the record of what readers were shown cannot be read") == 1, said
    assert "Traceback" not in said


def test_a_build_that_keeps_raising_is_said_once_and_retried_ever_more_slowly(tmp_path: Path) -> None:
    """A fault the build does not expect (injected here by replacing the site's build) is retried with a
    doubling wait up to MAX_BACKOFF and said once, not on every try."""
    root = _night(tmp_path)
    stream = StringIO()
    site = Site(root, long_lived=True)
    watcher = Watcher(site, console=Console(stream, colour=False), clock=lambda: AFTER_THE_NIGHT, retry=0.01)
    watcher.start()
    tries: list[float] = []
    real_build = site.build

    def failing(*args: object, **kwargs: object) -> None:
        tries.append(time.monotonic())
        raise OSError(5, "Input/output error")

    try:
        site.build = failing  # type: ignore[method-assign]
        (root / "entries/e2.md").write_text(ENTRY.replace("One", "Two"))
        deadline = time.monotonic() + 60
        while len(tries) < 8:
            assert time.monotonic() < deadline, tries
            time.sleep(0.05)
        gaps = [b - a for a, b in itertools.pairwise(tries)]
        assert gaps[-1] >= 0.01 * 2**5, gaps
        assert watcher._backoff() <= MAX_BACKOFF
    finally:
        site.build = real_build  # type: ignore[method-assign]
        watcher.stop()
    assert stream.getvalue().count("build failed: OSError") == 1, stream.getvalue()


# the path, and the commands that need it (those exit 1 saying it is not a regular file)
SPECIAL = {
    "countnight.toml": {"build", "check", "list"},
    ".countnight/journal.jsonl": {"build", "list", "history"},
    "baseline.csv": {"build", "check", "list"},
    ".countnight/published-*.json": set(),  # only a restart's shortcut: a full build runs instead
}


@pytest.mark.parametrize("kind", ["a FIFO", "a link to /dev/zero"])
@pytest.mark.parametrize("where", list(SPECIAL))
def test_a_pipe_or_a_device_in_place_of_a_state_file_never_hangs(tmp_path: Path, where: str, kind: str) -> None:
    """A FIFO blocked the read until a writer came (the watcher, and every command, hung), and ``/dev/zero``
    never ended. Each is now "not a regular file", said in one line, within the deadline."""
    root = _night(tmp_path)
    CliRunner().invoke(main, ["build", "--root", str(root)])  # so that a published-*.json record exists
    path = next(root.glob(where)) if "*" in where else root / where
    path.unlink()
    if kind == "a FIFO":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")
    for args in (["build"], ["check"], ["list"], ["history", "e1"]):
        done = run_countnight(*args, "--root", str(root))  # a hang fails at its deadline
        assert "Traceback" not in done.stderr, (args, done.stderr)
        assert done.returncode in (0, 1), (args, done.stderr)
        if args[0] in SPECIAL[where]:
            assert done.returncode == 1 and "not a regular file" in done.stdout + done.stderr, (args, done)
