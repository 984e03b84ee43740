"""An inotify queue overflow loses file events; the watcher must rescan and publish everything.

Two ways: the kernel's own overflow, with ``fs.inotify.max_queued_events`` lowered to 16 for the moment
the watcher's inotify instance is created (root only; the limit is read then, and the old value is put
back at once), and an injected one (watchdog's warning, with file events switched off) where no root.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from watch_harness import CONFIG, Dropper, count, missing, record, site_problems, wait_for

from conftest import write_blog
from countnight import watch
from countnight.console import VERBOSE, Console
from countnight.site import Site
from countnight.watch import Watcher

BURST = count(300, 2000)
SYSCTL = Path("/proc/sys/fs/inotify/max_queued_events")


def _burst(root: Path) -> tuple[Dropper, float]:
    """Stage BURST entries, then rename them all into entries/ at once; returns the dropper and the drop time."""
    dropper = Dropper(root)
    staged = [dropper.stage(n) for n in range(BURST)]
    began = time.monotonic()
    for path in staged:
        dropper.commit(path)
    return dropper, began


@pytest.fixture
def small_inotify_queue(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """The watcher's inotify instance gets a 16-event queue (restored before the test goes on)."""
    try:
        original = SYSCTL.read_text().strip()
        SYSCTL.write_text(original)  # can we write it at all?
    except OSError as err:
        pytest.skip(f"cannot set fs.inotify.max_queued_events here ({err.strerror}); the injected overflow covers it")
    real = watch.Observer

    def observer():  # type: ignore[no-untyped-def]
        SYSCTL.write_text("16")
        try:
            return real()  # inotify_init reads the limit now, and keeps it for this instance
        finally:
            SYSCTL.write_text(original)  # other processes' watchers never see 16 beyond this moment

    monkeypatch.setattr(watch, "Observer", observer)
    yield 16
    assert SYSCTL.read_text().strip() == original


@pytest.mark.slow
def test_a_real_kernel_queue_overflow_rescans_and_publishes_everything(
    tmp_path: Path, small_inotify_queue: int
) -> None:
    root = write_blog(tmp_path / "blog", {}, config=CONFIG.format(page_size=20))
    out = io.StringIO()
    watcher = Watcher(Site(root), console=Console(out, verbosity=VERBOSE, colour=False))
    watcher.start()
    try:
        dropper, began = _burst(root)
        wait_for(lambda: "the inotify queue overflowed" in out.getvalue(), "the overflow", detail=out.getvalue)
        wait_for(lambda: not missing(root / "site", dropper.dropped), "every entry", detail=out.getvalue)
        seconds = time.monotonic() - began
    finally:
        watcher.stop()
    assert not site_problems(root / "site")
    record(
        "inotify_overflow_kernel",
        {
            "max_queued_events": small_inotify_queue,
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
        logging.getLogger("watchdog.observers.inotify_c").warning(
            "Inotify queue overflowed; filesystem events were lost"
        )
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
