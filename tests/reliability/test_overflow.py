"""An inotify queue overflow loses file events; the watcher must rescan and publish everything.

Two ways: the kernel's own overflow, with ``fs.inotify.max_queued_events`` lowered to 16 for the moment
the watcher's inotify instance is created (root only; the limit is read then, and the old value is put
back at once), and an injected one (watchdog's ``EventsLostEvent``, with file events switched off).

The kernel test depends on the machine: it needs root to lower the limit and a kernel that then
overflows the queue. A probe (an inotify instance of its own, 100 files, nothing read) finds out
first, and the test skips with the probe's answer when the machine cannot produce an overflow.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import os
import struct
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from watch_harness import CONFIG, TIMEOUT, Dropper, count, missing, record, site_problems, wait_for
from watchdog.events import EventsLostEvent
from watchdog.observers import inotify_c
from watchdog.observers.api import BaseObserver

from conftest import write_blog
from countnight import fileevents
from countnight.console import VERBOSE, Console
from countnight.site import Site
from countnight.watch import Watcher

T = TypeVar("T")
BURST = count(300, 2000)
SYSCTL = Path("/proc/sys/fs/inotify/max_queued_events")
_IN_CREATE, _IN_Q_OVERFLOW = 0x100, 0x4000


def _kernel_overflows(limit: int) -> str | None:
    """Whether this kernel overflows an inotify queue of ``limit`` events: None if it does, else why not.
    An instance of our own is made with the lowered limit, 100 files are made, nothing is read until
    then, and the events are looked at for IN_Q_OVERFLOW. The caller has checked the sysctl is writable."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        init, add_watch = libc.inotify_init1, libc.inotify_add_watch
    except (OSError, AttributeError) as err:
        return f"no inotify in this C library ({err})"
    original = SYSCTL.read_text().strip()
    with tempfile.TemporaryDirectory() as folder:
        SYSCTL.write_text(str(limit))
        try:
            fd = init(os.O_NONBLOCK | os.O_CLOEXEC)
        finally:
            SYSCTL.write_text(original)
        if fd < 0:
            return f"inotify_init1 failed ({os.strerror(ctypes.get_errno())})"
        try:
            if add_watch(fd, os.fsencode(folder), _IN_CREATE) < 0:
                return f"inotify_add_watch failed ({os.strerror(ctypes.get_errno())})"
            for n in range(100):
                Path(folder, f"f{n}").touch()
            data = b""
            with contextlib.suppress(BlockingIOError):
                while chunk := os.read(fd, 65536):
                    data += chunk
        finally:
            os.close(fd)
    at = 0
    while at < len(data):
        _, mask, _, size = struct.unpack_from("iIII", data, at)
        if mask & _IN_Q_OVERFLOW:
            return None
        at += 16 + size
    return f"a {limit}-event queue took 100 creations without overflowing (the kernel does not honour the limit)"


def _burst(root: Path) -> tuple[Dropper, float]:
    """Stage BURST entries, then rename them all into entries/ at once; returns the dropper and the drop time."""
    dropper = Dropper(root)
    staged = [dropper.stage(n) for n in range(BURST)]
    began = time.monotonic()
    dropper.burst(staged)
    return dropper, began


QUEUE = 16  # events: the watcher's inotify queue for the kernel test


@pytest.fixture
def small_inotify_queue(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """The watcher's inotify instance gets a 16-event queue (the limit restored before the test goes on), and
    nothing reads it until the test sets the event it is given.

    watchdog (7.x) shares one inotify instance among every watcher of a process and made it once, at the first
    one: a test before this one in the same process left an instance with the full queue, and this test's
    watcher took that one. A fresh one is made for it here. And its reader thread now drains the kernel's queue
    into one of its own as fast as it can: on a quick machine it kept up with the burst, the kernel's queue
    never overflowed, and the test waited in vain. The queue still overflows for real, in the kernel, as it does
    when a watcher falls behind; the reads are only held back until the burst is in."""
    try:
        original = SYSCTL.read_text().strip()
        SYSCTL.write_text(original)  # can we write it at all?
    except OSError as err:
        pytest.skip(f"cannot set fs.inotify.max_queued_events here ({err.strerror}); the injected overflow covers it")
    why_not = _kernel_overflows(QUEUE)
    if why_not is not None:
        pytest.skip(f"this machine cannot produce a kernel queue overflow: {why_not}; the injected overflow covers it")
    real = fileevents.Observer

    def lowered(method: Callable[..., T]) -> Callable[..., T]:
        def call(*args: object, **kwargs: object) -> T:
            SYSCTL.write_text(str(QUEUE))
            try:
                return method(*args, **kwargs)  # inotify_init reads the limit now, and keeps it for this instance
            finally:
                SYSCTL.write_text(original)  # other processes' watchers never see 16 beyond this moment

        return call

    def observer(*args: object, **kwargs: object) -> BaseObserver:
        made = real(*args, **kwargs)
        # watchdog makes its inotify instance when an emitter starts: in schedule() on a running observer,
        # else in start()
        made.schedule = lowered(made.schedule)  # type: ignore[method-assign]
        made.start = lowered(made.start)  # type: ignore[method-assign]
        return made

    monkeypatch.setattr(fileevents, "Observer", observer)
    held = threading.Event()
    real_read = inotify_c.InotifyFD._read_event_buffer

    def read_when_let(fd: inotify_c.InotifyFD, *args: object, **kwargs: object) -> bytes:
        held.wait(TIMEOUT)
        return real_read(fd, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(inotify_c.InotifyFD, "_read_event_buffer", read_when_let)
    shared = inotify_c.InotifyFD._instance
    monkeypatch.setattr(inotify_c.InotifyFD, "_instance", None)  # this watcher's own, made with the small queue
    try:
        yield held
    finally:
        held.set()
        made = inotify_c.InotifyFD._instance
        if made is not None and made is not shared:
            made.stop()
    assert SYSCTL.read_text().strip() == original


@pytest.mark.slow
def test_a_real_kernel_queue_overflow_rescans_and_publishes_everything(
    tmp_path: Path, small_inotify_queue: threading.Event
) -> None:
    root = write_blog(tmp_path / "blog", {}, config=CONFIG.format(page_size=20))
    out = io.StringIO()
    watcher = Watcher(Site(root), console=Console(out, verbosity=VERBOSE, colour=False))
    watcher.start()
    try:
        dropper, began = _burst(root)
        small_inotify_queue.set()  # the watcher reads its queue from here: 16 events, and the kernel's overflow
        wait_for(lambda: "the inotify queue overflowed" in out.getvalue(), "the overflow", detail=out.getvalue)
        wait_for(lambda: not missing(root / "site", dropper.dropped), "every entry", detail=out.getvalue)
        seconds = time.monotonic() - began
    finally:
        watcher.stop()
    assert not site_problems(root / "site")
    record(
        "inotify_overflow_kernel",
        {
            "max_queued_events": QUEUE,
            "files": BURST,
            "overflows_reported": out.getvalue().count("the inotify queue overflowed"),
            "lost": len(missing(root / "site", dropper.dropped)),
            "published_s": round(seconds, 2),
            "builds": watcher.builds,
        },
    )


@pytest.mark.slow
def test_an_injected_overflow_is_the_only_way_the_burst_is_seen_and_it_publishes_everything(tmp_path: Path) -> None:
    root = write_blog(tmp_path / "blog", {}, config=CONFIG.format(page_size=20))
    out = io.StringIO()
    watcher = Watcher(Site(root), console=Console(out, verbosity=VERBOSE, colour=False), rescan=3600)
    watcher.start()
    try:
        assert watcher.observer is not None
        watcher.observer.unschedule_all()  # every file event of the burst is lost, as in an overflow
        dropper, _ = _burst(root)
        assert len(missing(root / "site", dropper.dropped)) == BURST  # nothing else will build: rescan is an hour off
        builds = watcher.builds
        began = time.monotonic()
        # what watchdog's inotify observer delivers when the kernel says IN_Q_OVERFLOW
        watcher._handler.dispatch(EventsLostEvent(str(root / "entries"), is_directory=True))
        wait_for(lambda: not missing(root / "site", dropper.dropped), "the rescan", detail=out.getvalue)
        seconds = time.monotonic() - began
    finally:
        watcher.stop()
    assert "the inotify queue overflowed: file events were lost; rescanning everything" in out.getvalue()
    assert not site_problems(root / "site")
    record(
        "inotify_overflow_injected",
        {
            "files": BURST,
            "lost": len(missing(root / "site", dropper.dropped)),
            "published_s": round(seconds, 2),
            "builds_after_overflow": watcher.builds - builds,
        },
    )
