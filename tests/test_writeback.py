"""The disk set to work early on a cold build's files (writeback.py): it flushes while the pages are made, and
never stands in the way of the flush that makes the site durable."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import AFTER_THE_NIGHT, BlogMaker
from countnight import parallel, publish, writeback
from countnight.site import Site
from test_parallel_build import ENTRIES, _night

DEADLINE = 30.0


def _counting(real: Callable[[int], int] | None, result: int | None = None) -> tuple[Callable[[int], int], list[int]]:
    """A syncfs that counts its calls (and answers ``result``, else the real one's answer)."""
    calls: list[int] = []
    seen = threading.Event()

    def syncfs(fd: int) -> int:
        calls.append(fd)
        seen.set()
        if result is not None:
            return result
        assert real is not None
        return real(fd)

    syncfs.seen = seen  # type: ignore[attr-defined]
    return syncfs, calls


@pytest.mark.skipif(writeback._syncfs is None, reason="syncfs(2) is Linux's")
def test_it_flushes_until_stopped_then_its_thread_has_ended(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    syncfs, calls = _counting(writeback._syncfs)
    monkeypatch.setattr(writeback, "_syncfs", syncfs)
    early = writeback.EarlyWriteback(tmp_path)
    early.start()
    early.start()  # once: a second start adds no thread
    (tmp_path / "page.html").write_bytes(b"<p>written while the others are made</p>")
    assert syncfs.seen.wait(DEADLINE)  # type: ignore[attr-defined]
    early.stop()
    assert calls and early._thread is not None and not early._thread.is_alive()
    assert [t for t in threading.enumerate() if t.name == "countnight-writeback"] == []


def test_a_flush_that_fails_ends_it_quietly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    syncfs, calls = _counting(None, result=-1)
    monkeypatch.setattr(writeback, "_syncfs", syncfs)
    early = writeback.EarlyWriteback(tmp_path)
    early.start()
    assert early._thread is not None
    early._thread.join(DEADLINE)
    assert not early._thread.is_alive() and len(calls) == 1
    early.stop()


def test_a_folder_it_cannot_open_ends_it_quietly(tmp_path: Path) -> None:
    early = writeback.EarlyWriteback(tmp_path / "gone")
    early.start()
    early.stop()
    assert early._thread is None or not early._thread.is_alive()


def test_without_syncfs_it_does_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """sync(2) would flush every disk of the machine, over and over."""
    monkeypatch.setattr(writeback, "_syncfs", None)
    early = writeback.EarlyWriteback(tmp_path)
    early.start()
    assert early._thread is None
    early.stop()


@pytest.mark.skipif(writeback._syncfs is None, reason="syncfs(2) is Linux's")
def test_a_cold_build_on_every_core_flushes_early_and_still_flushes_after_its_last_file(
    blog: BlogMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _night(blog)
    monkeypatch.setattr(parallel, "usable_cpus", lambda: 2)
    early_calls: list[str] = []
    real_start = writeback.EarlyWriteback.start

    def start(self: writeback.EarlyWriteback) -> None:
        early_calls.append("start")
        real_start(self)

    final: list[str] = []
    real_flush = publish._flush

    def last_flush(folder: Path) -> None:
        final.append("flush")
        assert [t for t in threading.enumerate() if t.name == "countnight-writeback"] == []  # stopped first
        real_flush(folder)

    monkeypatch.setattr(writeback.EarlyWriteback, "start", start)
    monkeypatch.setattr(publish, "_flush", last_flush)
    report = Site(root, root / "site").build(AFTER_THE_NIGHT)
    assert report.built and len(report.published) == ENTRIES
    assert early_calls == ["start"] and final == ["flush"]


def test_a_failed_early_flush_leaves_the_last_one_to_say_what_is_wrong(
    blog: BlogMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The early flushes fail (a disk error): the build goes on, and the flush after the last file, which also
    fails, stops the publish with nothing renamed into place."""
    root = _night(blog)
    monkeypatch.setattr(parallel, "usable_cpus", lambda: 2)
    syncfs, _ = _counting(None, result=-1)
    monkeypatch.setattr(writeback, "_syncfs", syncfs)

    def failing(folder: Path) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(publish, "_flush", failing)
    report = Site(root, root / "site").build(AFTER_THE_NIGHT)
    assert not report.built and any("Input/output error" in w for w in report.warnings)
    assert not (root / "site" / "index.html").exists()
