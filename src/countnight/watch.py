"""Watch mode: file events → debounced batches → the same ``Site.build`` that ``countnight build`` runs.

The event handler only queues paths (watchdog's dispatcher thread dies on an uncaught exception, so the
handler does nothing that can raise). One builder thread drains the queue until it has been quiet for
``quiet`` seconds (at most ``max_wait`` under a continuous stream) and runs the incremental build. Timers
run the same build when a scheduled entry comes due, when a vanished file's grace period ends, to retry a
file caught half-written, and every ``rescan`` seconds as the safety net for lost events.
"""

from __future__ import annotations

import contextlib
import math
import os
import queue
import signal
import threading
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from watchdog.observers.api import BaseObserver, ObservedWatch

from . import uptodate
from .cardpainter import BATCH, CardPainter
from .config import CONFIG_NAME, load_config
from .console import VERBOSE, Console
from .errors import InputError
from .fileevents import EVENTS, OVERFLOW, Handler, native_observer, polling_observer
from .names import is_entry_name, is_picture_name, not_an_entry
from .report import BuildReport
from .site import ENTRIES, Site

TEMPLATES = "templates"
# The longest wait between tries while builds keep failing (a state path of the wrong kind, a full disk): the
# wait doubles from ``retry`` up to this, where a fixed quarter second logged four errors a second all night.
MAX_BACKOFF = 30.0
# Seconds after a build that left share cards to draw before the next draws a few more (site.CARDS_PER_WATCH_BUILD),
# where they are not drawn aside (cardpainter.py): a reporter's save in the meantime is built at once as ever.
CARDS_AFTER = 0.25
# Cards drawn aside (cardpainter.py) are named by a build once the watcher has been this many seconds without
# one, NAMED_PER_BUILD at most (~2.4 ms of the builder's each on a slow machine, against ~11 ms drawn and named
# in a build): while reporters' saves keep coming, none of those builds is in their way, and when one lands
# during one, it waits ~0.1 s at most.
CARDS_QUIET = 1.0
NAMED_PER_BUILD = 32
_WAKE = "\0wake"
_PAINTED = "\0painted"  # cards drawn aside: a build names them
_MARKS = {OVERFLOW: "overflow", _WAKE: None, _PAINTED: "painted"}  # queued instead of a path: what each is


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _identity(folder: Path) -> tuple[int, int] | None:
    """Which folder is at this path now (a folder replaced by another has a new identity)."""
    try:
        info = folder.stat()
    except OSError:
        return None
    return (info.st_dev, info.st_ino) if os.path.isdir(folder) else None


def _ignored_name(name: str) -> bool:
    """Editors' swap, backup and lock files and sync tools' partial copies (SPEC), wherever they are."""
    return name.startswith((".", "_")) or name.endswith(("~", ".swp", ".tmp"))


class Watcher:
    """Keeps ``site.out`` up to date with the blog folder until stopped.

    ``start()`` builds once and starts watching (returns the first report); ``stop()`` ends it;
    ``run_forever()`` does both around a wait for Ctrl-C or SIGTERM. All times are in seconds.
    """

    def __init__(
        self,
        site: Site,
        *,
        console: Console | None = None,
        poll: bool = False,
        poll_interval: float = 1.0,
        quiet: float = 0.025,
        settle: float = 0.002,
        max_wait: float = 1.0,
        grace: float = 0.5,
        rescan: float = 30.0,
        health: float = 1.0,
        record_after: float = 2.0,
        retry: float = 0.25,
        clock: Callable[[], datetime] = _utc_now,
        paint_cards: bool = True,
    ) -> None:
        self.site = site
        self.console = console or Console()
        self.poll, self.poll_interval = poll, poll_interval
        self.quiet, self.settle, self.max_wait, self.grace = quiet, settle, max_wait, grace
        self.rescan, self.health, self.retry, self.record_after = rescan, health, retry, record_after
        self.clock = clock
        self.root = Path(os.path.abspath(site.root))
        self.out = Path(os.path.abspath(site.out))
        self.builds = 0  # how many builds have run (tests wait on it)
        self.last: BuildReport | None = None  # the newest report
        self.last_built: BuildReport | None = None  # the newest report of a build that wrote the site
        self._queue: queue.SimpleQueue[tuple[float, str, bool]] = queue.SimpleQueue()
        self._handler = Handler(self._put, self.console)
        self._observer: BaseObserver | None = None
        self._watches: dict[Path, tuple[ObservedWatch, tuple[int, int]]] = {}
        self._gone: set[Path] = set()  # watched folders found missing, reported once
        self._baseline: Path | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._stop_requested = threading.Event()
        self._changed = threading.Condition()
        self._trouble: str | None = None  # a watcher-level error the preview banner shows
        self._now_at = _utc_now()  # the clock at the previous build: to tell entries come due from missed ones
        self._timers = dict.fromkeys(("rescan", "due", "hold", "retry", "record", "cards"), math.inf)
        self._health_at = 0.0
        self._failures = 0  # builds in a row that failed or could not build the site: the retry backs off
        folder = site.cards.folder
        self._painter = CardPainter(folder, lambda: self._put(_PAINTED, True)) if paint_cards and folder else None
        self._unnamed = 0  # cards drawn aside that no build has named yet (about)
        self._built_at = 0.0  # when the last build ended (time.monotonic)

    # -- life cycle ------------------------------------------------------------------------------

    @property
    def observer(self) -> BaseObserver | None:
        return self._observer

    def start(self) -> BuildReport | None:
        """Watch first, then build (a change made during the first build is not lost), then run the builder."""
        if self._thread is not None:
            return self.last
        # A picture made by a worker: the entry files that name it are looked at again, as if they had changed.
        self.site.read.pictures.on_ready = self._pictures_made
        self.site.read.pictures.blocking = False  # a text entry never waits for a picture: see pictures.py
        if self._painter is not None:  # (its process starts with the first cards to draw)
            self._painter.start()
        self._observer = polling_observer(self.poll_interval) if self.poll else native_observer()
        self._check_folders(initial=True)
        self._observer.start()
        self._build({"start"}, {})
        self._thread = threading.Thread(target=self._loop, name="countnight-builder", daemon=True)
        self._thread.start()
        how = f"polling every {self.poll_interval:g} s" if self.poll else "watching"
        self.console.info(f"{how} {self.root} (Ctrl-C to stop)")
        return self.last

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the build under way (writes are atomic either way), then stop watching."""
        self._stopping.set()
        self._stop_requested.set()
        self._put(_WAKE, True)
        if self._thread is not None:
            self._thread.join(timeout)
            if not self._thread.is_alive() and self._timers["record"] != math.inf:
                self._record()  # a clean build not yet recorded: a restart can then skip the build
        if self._painter is not None:  # after the builder: it hands the painter batches
            self._painter.stop()
        if self._observer is not None:
            with contextlib.suppress(Exception):
                self._observer.stop()
                self._observer.join(timeout)
        self.site.read.pictures.on_ready = None
        with contextlib.suppress(Exception):
            self.site.read.pictures.close()

    def _pictures_made(self, displays: set[str]) -> None:
        """From the picture pool's thread: only queues, like a file event."""
        for display in displays:
            self._put(str(self.root / display), True)

    def request_stop(self) -> None:
        """Ask ``run_forever`` to return (from a signal handler or another thread)."""
        self._stop_requested.set()

    def run_forever(self) -> None:
        """Start, then block until Ctrl-C or SIGTERM, then stop cleanly."""
        restore = None
        if threading.current_thread() is threading.main_thread():
            restore = signal.signal(signal.SIGTERM, lambda *_: self.request_stop())
        try:
            self.start()
            while not self._stop_requested.wait(0.2):  # a timed wait, so Ctrl-C is seen at once
                pass
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()
            if restore is not None:
                signal.signal(signal.SIGTERM, restore)
            self.console.info("stopped")

    def wait_for_build(self, after: int, timeout: float) -> bool:
        """Block until more than ``after`` builds have run; False on timeout."""
        with self._changed:
            return self._changed.wait_for(lambda: self.builds > after, timeout)

    def outstanding(self) -> list[str]:
        """Every error not yet fixed, as shown in the preview banner."""
        gone = sorted(list(self._gone))  # list() first: one atomic copy while the builder thread may change it
        lines = [f"{folder}: gone; the last good site stays live" for folder in gone]
        lines += [self._trouble] if self._trouble else []
        report = self.last
        return lines + ([str(p) for p in report.problems] if report is not None else [])

    # -- the builder thread ----------------------------------------------------------------------

    def _put(self, path: str, complete: bool = False) -> None:
        self._queue.put((time.monotonic(), path, complete))

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                self._step()
            except Exception as err:  # never stop watching: say so, and go on with the last good site
                self._failed(f"watch: {type(err).__name__}: {err}", "still watching")
                self._stopping.wait(min(self._backoff(), 1.0))

    def _step(self) -> None:
        deadline = min(self._health_at, *self._timers.values())
        marks = self._collect(max(0.0, deadline - time.monotonic()))
        if self._stopping.is_set():
            return
        why: set[str] = set()
        touched: dict[str, float] = {}
        for at, path, kind in marks:
            if kind == "entry":
                touched.setdefault(f"{ENTRIES}/{Path(path).name}", at)
            if kind:
                why.add(kind)
        now = time.monotonic()
        if ("folder" in why or now >= self._health_at) and self._check_folders():
            why.add("back")
        why |= {name for name, at in self._timers.items() if now >= at}
        if "overflow" in why:
            self.console.warning("the inotify queue overflowed: file events were lost; rescanning everything")
        if "painted" in why:  # a batch drawn aside: the next handed at once, named once things are quiet
            why.discard("painted")
            self._cards_wait(self._built_at)
        if self._paused():
            self._timers = dict.fromkeys(self._timers, math.inf) | {"rescan": now + self.rescan}
        elif why == {"record"}:
            self._timers["record"] = math.inf
            self._record()
        elif why:
            self._build(why - {"record"}, touched)

    def _collect(self, wait: float) -> list[tuple[float, str, str | None]]:
        """The first mark within ``wait``, then every mark until the queue is quiet (or ``max_wait``); each
        as (when, path, what it is: see _classify, or "overflow").

        Quiet means ``quiet`` seconds without a mark, unless every file the batch names is complete
        (renamed into place, or closed after writing): then only ``settle`` seconds, enough to take the
        rest of a burst along, so a dropped entry is published at once.
        """
        try:
            first_mark = self._queue.get(timeout=wait) if wait > 0 else self._queue.get_nowait()
        except queue.Empty:
            return []
        first = time.monotonic()
        marks: list[tuple[float, str, str | None]] = []
        open_files: set[str] = set()  # files with a write not yet followed by a close or a rename
        relevant = False  # a mark the build acts on has come
        at, path, complete = first_mark
        while True:  # a continuous stream is cut at max_wait: what is left goes in the next batch
            kind = _MARKS[path] if path in _MARKS else self._classify(path)
            marks.append((at, path, kind))
            relevant = relevant or kind is not None
            if kind not in (None, "overflow"):
                if complete:
                    open_files.discard(path)
                else:
                    open_files.add(path)
            pause = self.settle if relevant and not open_files else self.quiet
            left = min(pause, first + self.max_wait - time.monotonic())
            if left <= 0:
                return marks
            try:
                at, path, complete = self._queue.get(timeout=left)
            except queue.Empty:
                return marks

    def _classify(self, raw: str) -> str | None:
        """'entry', 'setup' (config, baseline, templates: everything is rebuilt), 'folder', or None."""
        path = Path(os.path.abspath(raw))
        if path == self.out or self.out in path.parents:
            return None  # our own output
        if path in (self.root, self.root / ENTRIES, self.root / TEMPLATES):
            return "folder"
        if path.parent == self.root / ENTRIES:
            # a file that looks meant as an entry (X.MD, x.md.txt) too: the build says it is not read, once
            # a picture too: the entries that name it are looked at again (never read as an entry itself)
            named = is_entry_name(path.name) or is_picture_name(path.name) or not_an_entry(path.name)
            return "entry" if named else None
        if _ignored_name(path.name):
            return None
        if path in (self.root / CONFIG_NAME, self._baseline) or (self.root / TEMPLATES) in path.parents:
            return "setup"
        return None

    def _build(self, why: set[str], touched: dict[str, float]) -> None:
        started = time.monotonic()
        for name in ("due", "hold", "retry", "record", "cards"):
            self._timers[name] = math.inf
        if why & {"start", "rescan", "overflow", "back"} or self._timers["rescan"] == math.inf:
            self._timers["rescan"] = started + self.rescan
        if "setup" in why:
            self._find_baseline()
        now = self.clock()
        # Only entry events, due entries and held files: the build looks at just the files named. Anything
        # else (the first build, the rescan, an overflow, the config or theme, a folder back) looks at all.
        partial = not why - {"entry", "due", "hold", "cards"}
        try:
            changed, aside = touched.keys() if partial else None, self._painting()
            naming = NAMED_PER_BUILD if aside and "cards" in why else 0  # (of the cards drawn aside)
            report = self.site.build(
                now, grace=self.grace, changed=changed, draw=0 if aside else "default", name_kept=naming
            )
        except Exception as err:  # a bug, or the disk: the last good site stays; try again shortly
            self._failed(f"build failed: {type(err).__name__}: {err}", "the last good site stays live; retrying")
            return
        self._trouble = None
        self._failures = 0 if report.built else self._failures + 1
        self._unnamed = max(0, self._unnamed - naming) if report.built else self._unnamed
        done = self._built_at = time.monotonic()
        live = report.live if report.built or self.last_built is None else self.last_built.live
        self.console.build(
            report, self.last, touched=touched, latency={p: done - at for p, at in touched.items()}, live=live
        )
        if "rescan" in why and not why & {"entry", "setup", "overflow", "back", "hold", "due"}:
            missed = [v.id for v in report.published if v.entry.time <= self._now_at]
            missed += [ident for ident, _ in report.removed]
            if missed:
                self.console.warning(f"the rescan found {len(missed)} change(s) no file event announced: {missed[:5]}")
        self._schedule(report, now, touched, why)
        self._now_at = now
        with self._changed:
            self.last = report
            if report.built:
                self.last_built = report
            self.builds += 1
            self._changed.notify_all()

    def _cards_wait(self, since: float) -> None:
        """Share cards wait. Drawn aside (cardpainter.py): the next batch handed if it is idle, and a build to
        name those drawn (or kept from before) CARDS_QUIET seconds after ``since``. Else a few drawn by a
        build CARDS_AFTER seconds after it."""
        painter = self._painter
        if not self._painting() or painter is None:
            self._timers["cards"] = since + CARDS_AFTER
            return
        wanted = [] if painter.busy else self.site.cards_to_draw(BATCH)
        handed = painter.paint(wanted)
        if not (handed or painter.busy):
            painter.rest()  # nothing left to draw: its process ends until there is
        if self._unnamed or not (handed or painter.busy):
            self._timers["cards"] = since + CARDS_QUIET

    def _painting(self) -> bool:
        """Whether the share cards are drawn aside (the store told of those drawn); said once when that stops."""
        painter = self._painter
        if painter is None:
            return False
        drawn = painter.take_drawn()
        self.site.cards.note_drawn(drawn)
        self._unnamed += len(drawn)
        if painter.trouble is not None:
            self.console.warning(painter.trouble)
            painter.stop(0)
            self._painter = None
            return False
        return painter.working

    def _backoff(self) -> float:
        """Seconds to wait before the next try: ``retry``, doubled with every failure in a row, at most MAX_BACKOFF."""
        return min(self.retry * 2 ** max(self._failures - 1, 0), MAX_BACKOFF)

    def _failed(self, trouble: str, then: str) -> None:
        """A build or a step raised: said once (again only when it changes), then retried, backing off."""
        self._failures += 1
        if trouble != self._trouble:
            self.console.error(f"{trouble}; {then}")
            if self.console.verbosity >= VERBOSE:
                self.console.info(traceback.format_exc().rstrip(), VERBOSE)
        elif self._failures in (10, 100, 1000):
            self.console.error(f"{trouble} (still, {self._failures} tries in a row); {then}")
        self._trouble = trouble
        self._timers["retry"] = time.monotonic() + self._backoff()

    def _record(self) -> None:
        """Record the site as up to date (uptodate.py), once the watcher has been idle ``record_after`` s."""
        report = self.last
        if report is None or not report.built:
            return
        try:
            uptodate.record_build(self.site, report)
        except Exception as err:  # only a restart's shortcut is lost: say so, and go on watching
            self.console.warning(f"could not record the published site ({type(err).__name__}: {err})")

    def _schedule(self, report: BuildReport, now: datetime, touched: dict[str, float], why: set[str]) -> None:
        """Set the timers this report asks for: the next scheduled entry, a grace period, a retry."""
        mono = time.monotonic()
        if report.next_due is not None:
            self._timers["due"] = mono + max(0.0, (report.next_due - now).total_seconds()) + 0.001
        if report.hold_until is not None:
            self._timers["hold"] = report.hold_until + 0.001
        if report.built and report.cards_pending:  # share cards still to draw
            self._cards_wait(mono)
        elif report.built and self._painter is not None:
            self._painter.rest()
        rejected = set(report.rejected)
        if "retry" not in why and rejected & set(touched):  # caught half-written? read it once more
            self._timers["retry"] = mono + self.retry
        if not report.built:  # backing off while it stays so (a file event still builds at once)
            self._timers["rescan"] = min(self._timers["rescan"], mono + max(self._backoff(), 1.0))
        elif not report.problems and not report.warnings and not report.held:
            self._timers["record"] = mono + self.record_after

    # -- the watched folders ---------------------------------------------------------------------

    def _find_baseline(self) -> None:
        with contextlib.suppress(InputError, OSError):
            name = load_config(self.root).baseline
            self._baseline = Path(os.path.abspath(self.root / name)) if name else None

    def _plan(self) -> dict[Path, bool]:
        """Folder → recursive? The root is watched flat, so the site's own writes wake nothing."""
        plan = {self.root: False, self.root / ENTRIES: False, self.root / TEMPLATES: True}
        if self._baseline is not None and self._baseline.parent not in plan:
            plan[self._baseline.parent] = False
        return plan

    def _check_folders(self, initial: bool = False) -> bool:
        """(Re)watch each folder whose identity changed; True if one appeared, came back or was replaced."""
        assert self._observer is not None
        self._health_at = time.monotonic() + self.health
        if initial:
            self._find_baseline()
        came_back = False
        for folder, recursive in self._plan().items():
            identity = _identity(folder)
            current = self._watches.get(folder)
            if current is not None and current[1] == identity:
                continue
            if current is not None:
                with contextlib.suppress(Exception):
                    self._observer.unschedule(current[0])
                del self._watches[folder]
            if identity is None:
                vital = folder in (self.root, self.root / ENTRIES)
                if vital and folder not in self._gone and (current is not None or folder == self.root):
                    self._gone.add(folder)
                    self.console.error(f"{folder} is gone (deleted or moved away); watching for it to come back")
                continue
            try:
                watch = self._observer.schedule(self._handler, str(folder), recursive=recursive, event_filter=EVENTS)
            except OSError as err:  # inotify limits, permissions: polling catches up at the next rescan
                self.console.error(f"cannot watch {folder}: {err.strerror or err} (try --poll)")
                continue
            self._watches[folder] = (watch, identity)
            came_back = True  # files may be in it already, written before the watch began
            if folder in self._gone:
                self._gone.discard(folder)
                self.console.info(f"{folder} is back; watching again")
        return came_back and not initial

    def _paused(self) -> bool:
        """The blog folder or entries/ vanished (a share unmounted, a sync mid-replace): keep the last good site."""
        return bool(self._gone & {self.root, self.root / ENTRIES})
