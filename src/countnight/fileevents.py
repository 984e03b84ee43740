"""Where a watcher's file events come from: inotify (or polling, for network shares and synced folders),
and the handler that turns each into a path on the watcher's queue.

The handler only queues paths: watchdog's dispatcher thread dies on an uncaught exception, so the handler
does nothing that can raise.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    EventsLostEvent,
    FileAttribEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserverVFS

from .console import Console

# Writes, renames, deletions. Not opened/closed-without-writing: the build's own reads would wake it.
EVENTS: list[type[FileSystemEvent]] = [
    FileCreatedEvent,
    FileModifiedEvent,
    FileAttribEvent,
    FileClosedEvent,
    FileDeletedEvent,
    FileMovedEvent,
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    EventsLostEvent,  # the kernel's queue overflowed: events were lost, so everything is looked at again
]
OVERFLOW = "\0overflow"  # queued instead of a path: the kernel's queue overflowed


def native_observer() -> BaseObserver:
    """inotify with full events where there is inotify: a file renamed in from a folder not watched is then
    a move (complete, published at once), not a creation (which waits for its writes to go quiet)."""
    try:
        return Observer(generate_full_events=True)  # type: ignore[call-arg]
    except TypeError:  # pragma: no cover - another platform's observer
        return Observer()


def _stat_seeing_ctime(path: str) -> os.stat_result:
    """``os.stat`` for the polling observer, whose snapshots compare only mtime and size: with the ctime in
    the mtime it compares, a rewrite of the same size that keeps its mtime (cp --preserve=timestamps, rsync
    -t) is a modification too, as inotify reports it (see uptodate.Signature)."""
    info = os.stat(path)
    return os.stat_result(tuple(info), {"st_mtime": info.st_mtime + info.st_ctime})


def polling_observer(interval: float) -> BaseObserver:
    return PollingObserverVFS(_stat_seeing_ctime, os.scandir, polling_interval=interval)


class Handler(FileSystemEventHandler):
    """Only queues paths: watchdog runs this on its dispatcher thread, which an exception would kill."""

    def __init__(self, put: Callable[[str, bool], None], console: Console) -> None:
        self._put = put
        self._console = console

    def on_any_event(self, event: FileSystemEvent) -> None:
        try:
            if isinstance(event, EventsLostEvent):  # its path is the watched folder, not a changed file
                self._put(OVERFLOW, False)
                return
            if event.is_directory and event.event_type == "modified":
                return  # a file in it changed: that file's own event says which
            # A file closed after writing is complete; so is one renamed into place (the way SPEC asks
            # reporters' tools to deliver). Anything else may be followed by more writes.
            if event.src_path != "":  # empty for a file moved in from a folder not watched (full events)
                self._put(os.fsdecode(event.src_path), isinstance(event, FileClosedEvent))
            dest = getattr(event, "dest_path", "")
            if dest:  # a temp-then-rename save: the destination is the entry
                self._put(os.fsdecode(dest), not event.is_directory)
        except Exception as err:  # never let one out: see the class docstring
            with contextlib.suppress(Exception):
                self._console.error(f"could not queue a file event ({type(err).__name__}: {err}); the rescan will")
