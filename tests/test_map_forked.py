"""parallel.map_forked: every span made exactly once, in order, on forked workers that take their own spans.

The workers are real forked processes; each test checks that none is left behind.
"""

from __future__ import annotations

import errno
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from countnight import parallel


@pytest.fixture(autouse=True)
def forked(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """The workers each test forks; afterwards every one of them must have been waited for."""
    pids: list[int] = []
    real_fork = os.fork

    def fork() -> int:
        pid = real_fork()
        if pid:
            pids.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", fork)
    yield pids
    for pid in pids:
        with pytest.raises(ChildProcessError):  # reaped already: no zombie, no worker still running
            os.waitpid(pid, os.WNOHANG)


def _slow(start: int) -> None:
    """Spans that take a moment, so a worker has started before this process has done them all."""
    time.sleep(0.002)


def _spans(count: int, workers: int) -> int:
    return len(range(0, count, max(1, -(-count // (workers * parallel._CHUNKS_PER_WORKER)))))


@pytest.mark.parametrize("workers", [2, 3])
def test_every_span_once_in_order_and_the_workers_share_them(workers: int) -> None:
    parent = os.getpid()

    def work(start: int, stop: int) -> tuple[int, list[int]]:
        _slow(start)
        return os.getpid(), list(range(start, stop))

    count = 5000
    results = parallel.map_forked(work, count, workers)
    assert [n for _, numbers in results for n in numbers] == list(range(count))
    made_by = {pid for pid, _ in results}
    assert parent in made_by and len(made_by) > 1, "the spans were not shared with forked workers"


def test_results_bigger_than_the_pipe_arrive_whole() -> None:
    def work(start: int, stop: int) -> bytes:
        return bytes([start % 251]) * (3 << 20)  # 3 MB a span: the pipe holds 1

    results = parallel.map_forked(work, 8, 2)
    assert [len(r) for r in results] == [3 << 20] * len(results)
    assert [r[:1] for r in results] == [bytes([start % 251]) for start in range(len(results))]


def test_a_killed_worker_loses_nothing(tmp_path: Path) -> None:
    """A worker killed while it holds a span: this process makes that span, and every one after it."""
    parent = os.getpid()

    def work(start: int, stop: int) -> list[int]:
        if os.getpid() != parent:
            (tmp_path / "killed").touch()
            os.kill(os.getpid(), signal.SIGKILL)
        _slow(start)
        return list(range(start, stop))

    results = parallel.map_forked(work, 1000, 2)
    assert (tmp_path / "killed").exists(), "the worker never took a span"
    assert [n for numbers in results for n in numbers] == list(range(1000))


def test_a_worker_that_dies_with_the_lock_held_does_not_hang_the_build(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The counters' lock is held for microseconds; a worker killed inside it leaves it taken for good."""
    monkeypatch.setattr(parallel, "_LOCK_WAIT", 0.5)
    parent = os.getpid()
    real_take = parallel._Spans.take

    def take(self: parallel._Spans, *, front: bool) -> int | None:
        if os.getpid() != parent:
            (tmp_path / "killed").touch()
            self.lock.acquire()
            os.kill(os.getpid(), signal.SIGKILL)
        return real_take(self, front=front)

    monkeypatch.setattr(parallel._Spans, "take", take)

    def work(start: int, stop: int) -> list[int]:
        _slow(start)
        return list(range(start, stop))

    results = parallel.map_forked(work, 1000, 2)
    assert (tmp_path / "killed").exists(), "the worker never took the lock"
    assert [n for numbers in results for n in numbers] == list(range(1000))


def _unpicklable() -> Exception:
    class Local(Exception):  # a class defined in a function cannot be pickled
        pass

    return Local("the disk said no")


@pytest.mark.parametrize(
    ("error", "raised", "says"),
    [
        (lambda: KeyError("in a span"), KeyError, "in a span"),
        (_unpicklable, RuntimeError, "the disk said no"),  # its text still reaches the build
    ],
    ids=["picklable", "unpicklable"],
)
def test_an_error_in_a_worker_is_raised_here_once_all_have_stopped(
    error: Callable[[], Exception], raised: type[Exception], says: str
) -> None:
    parent = os.getpid()

    def work(start: int, stop: int) -> int:
        if os.getpid() != parent:
            raise error()
        _slow(start)
        return start

    with pytest.raises(raised, match=says):
        parallel.map_forked(work, 1000, 2)


def test_an_error_here_stops_the_workers_and_is_raised() -> None:
    parent = os.getpid()

    def work(start: int, stop: int) -> int:
        if os.getpid() == parent:
            raise ValueError("broken here")
        _slow(start)
        return start

    with pytest.raises(ValueError, match="broken here"):
        parallel.map_forked(work, 1000, 2)


def test_one_core_or_one_span_forks_nothing(forked: list[int]) -> None:
    parent = os.getpid()
    assert parallel.map_forked(lambda a, b: (os.getpid(), a, b), 10, 1) == [(parent, a, a + 1) for a in range(10)]
    assert _spans(1, 2) == 1
    assert parallel.map_forked(lambda a, b: (os.getpid(), a, b), 1, 2) == [(parent, 0, 1)]
    assert forked == []


def test_when_no_worker_can_be_forked_this_process_makes_every_span(monkeypatch: pytest.MonkeyPatch) -> None:
    """fork() can fail on a machine short of memory or processes: the build goes on in its own process."""

    def cannot_fork() -> int:
        raise OSError(errno.EAGAIN, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", cannot_fork)
    parent = os.getpid()
    results = parallel.map_forked(lambda start, stop: (os.getpid(), list(range(start, stop))), 1000, 3)
    assert [n for _, numbers in results for n in numbers] == list(range(1000))
    assert {pid for pid, _ in results} == {parent}


def _note(path: Path, value: str) -> None:
    path.write_text(f"{value} by {os.getpid()}")


def test_a_process_forked_aside_works_once_handed_its_work_and_is_reaped(tmp_path: Path) -> None:
    done = tmp_path / "done"
    aside = parallel.fork_aside(lambda value: _note(done, value))
    assert aside is not None
    aside.hand("cards")
    aside.wait()
    text, _, pid = done.read_text().partition(" by ")
    assert text == "cards" and int(pid) == aside.pid != os.getpid()


def test_a_process_forked_aside_and_handed_nothing_ends_even_while_a_later_fork_holds_its_pipe(
    tmp_path: Path,
) -> None:
    """Told by a frame, not by the pipe's end: a worker forked after it holds the pipe's end too."""
    done = tmp_path / "done"
    aside = parallel.fork_aside(lambda value: _note(done, value))
    assert aside is not None
    read, write = os.pipe()
    later = os.fork()
    if later == 0:  # holds every end this process held, until told to go
        os.close(write)
        os.read(read, 1)
        os._exit(0)
    os.close(read)
    try:
        started = time.monotonic()
        aside.wait()
        assert time.monotonic() - started < 30 and not done.exists()
    finally:
        os.close(write)
        os.waitpid(later, 0)


def test_a_process_forked_after_it_waits_for_the_work_aside_to_end(tmp_path: Path) -> None:
    """A cold build's page workers, forked after the process drawing cards ahead, wait for it to end (they cannot
    wait for another process's child) before they look for a card it draws."""
    done = tmp_path / "done"
    aside = parallel.fork_aside(lambda value: (time.sleep(0.2), _note(done, value)))
    assert aside is not None
    aside.hand("cards")
    worker = os.fork()
    if worker == 0:
        aside.wait()
        os._exit(0 if done.exists() else 1)
    _, status = os.waitpid(worker, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    aside.wait()
