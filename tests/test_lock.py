"""One writer per blog folder (issue 17, item 8): a second ``watch``, ``serve`` or ``build`` refuses and names
the process that holds the folder; a crash (SIGKILL, no cleanup at all) never leaves a stale lock.

Two watchers on one folder used to run together silently and journal every version twice.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import COUNTNIGHT, run_countnight, write_blog
from countnight.lock import Busy, writer

CONFIG = """\
title = "Lock night"
timezone = "Europe/London"
coverage_start = "2024-07-04T22:00:00+01:00"
"""
ENTRY = '---\ntime: "2024-07-04T22:{minute:02d}:00+01:00"\ntitle: Entry {minute}\n---\nWords.\n'
DEADLINE = 60.0


def _start(root: Path, *args: str) -> subprocess.Popen[bytes]:
    log = (root.parent / f"{args[0]}-{time.monotonic_ns()}.log").open("wb")
    return subprocess.Popen([*COUNTNIGHT, *args, "--root", str(root)], stdout=log, stderr=subprocess.STDOUT)


def _wait(predicate, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + DEADLINE
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


def _holder(root: Path) -> int | None:
    try:
        return int(json.loads((root / ".countnight/lock").read_text())["pid"])
    except (OSError, ValueError, KeyError):
        return None


def _run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_countnight(*args, "--root", str(root), timeout=DEADLINE)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(DEADLINE)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(DEADLINE)


def test_a_second_writer_refuses_and_says_which_process_holds_the_folder(tmp_path: Path) -> None:
    root = write_blog(tmp_path / "blog", {"entries/e1.md": ENTRY.format(minute=1)}, config=CONFIG)
    first = _start(root, "watch", "-q")
    try:
        _wait(lambda: _holder(root) == first.pid and (root / "site/update/e1.html").exists(), "the first watcher")
        # (a build into another output folder: the record and journal are the blog folder's, one writer at a time)
        for args in (["watch"], ["serve", "--port", "0"], ["build", "--out", str(tmp_path / "other")]):
            second = _run(root, *args)
            assert second.returncode == 1, (args, second.stdout, second.stderr)
            assert f"process {first.pid}" in second.stderr and "countnight watch" in second.stderr
            assert "Traceback" not in second.stderr
        (root / "entries/e2.md").write_text(ENTRY.format(minute=2))
        _wait(lambda: (root / "site/update/e2.html").exists(), "the first watcher to publish e2")
        assert first.poll() is None
    finally:
        _stop(first)
    lines = (root / ".countnight/journal.jsonl").read_text().splitlines()
    shown = [json.loads(line)["id"] for line in lines if json.loads(line)["op"] == "shown"]
    assert sorted(shown) == ["e1", "e2"], "a version was journalled twice"


def test_a_crash_leaves_no_stale_lock(tmp_path: Path) -> None:
    """SIGKILL the holder: the next watcher starts at once (the kernel let the lock go with the process)."""
    root = write_blog(tmp_path / "blog", {"entries/e1.md": ENTRY.format(minute=1)}, config=CONFIG)
    for _ in range(3):
        holder = _start(root, "watch", "-q")
        try:
            _wait(lambda p=holder: _holder(root) == p.pid, "the watcher to hold the folder")  # type: ignore[misc]
        finally:
            holder.kill()  # no cleanup of any kind runs
            holder.wait(DEADLINE)
    assert (root / ".countnight/lock").exists()  # the file stays; the lock went with its process
    done = _run(root, "build")
    assert done.returncode == 0, done.stderr


def test_the_lock_is_free_again_after_a_clean_exit_and_refused_in_process(tmp_path: Path) -> None:
    root = write_blog(tmp_path / "blog", {}, config=CONFIG)
    with writer(root, "watch"), pytest.raises(Busy, match=f"process {os.getpid()}"), writer(root, "build"):
        pass
    with writer(root, "build"):
        pass


@pytest.mark.parametrize("wrong", ["state is a file", "lock is a folder", "lock is a link"])
def test_a_lock_that_cannot_be_made_is_a_clear_error(tmp_path: Path, wrong: str) -> None:
    root = write_blog(tmp_path / "blog", {"entries/e1.md": ENTRY.format(minute=1)}, config=CONFIG)
    if wrong == "state is a file":
        (root / ".countnight").write_text("")
    else:
        (root / ".countnight").mkdir()
        if wrong == "lock is a folder":
            (root / ".countnight/lock").mkdir()
        else:
            (root / ".countnight/lock").symlink_to(tmp_path / "elsewhere")
    for args in (["build"], ["watch"]):
        done = _run(root, *args)
        assert done.returncode == 1, (args, done.stderr)
        assert ".countnight" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "elsewhere").exists()
