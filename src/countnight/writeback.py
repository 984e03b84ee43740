"""Getting written files onto the disk: the file system's own flush (syncfs), and the same flush begun early.

A cold build writes ~10,500 files (90 MB at 10,000 entries) before it may rename a single one into place, and
each must be on the disk first (publish.py). Flushed only once all are written, the build waited ~0.1 s for
the disk with both cores idle. ``EarlyWriteback`` keeps the disk busy with the files already written while the
rest are made, so the last flush finds almost nothing left to do. It only starts the disk's work early: what
makes the site durable is still the one flush that follows the last file, as before.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import threading
from collections.abc import Callable
from pathlib import Path


def _load_syncfs() -> Callable[[int], int] | None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.syncfs  # type: ignore[no-any-return]
    except (OSError, AttributeError):
        return None


_syncfs = _load_syncfs()
# Between two early flushes: each one writes out what was staged since the one before (a few hundred files);
# the pause keeps the flushing thread from waking this process's pages' maker more than it must.
_PAUSE = 0.05


def flush(folder: str | Path) -> None:
    """Everything written to ``folder``'s file system onto the disk: syncfs(2) (Linux), else sync(2)."""
    if _syncfs is not None:
        fd = os.open(folder, os.O_RDONLY)
        try:
            if _syncfs(fd) == 0:
                return
        finally:
            os.close(fd)
    os.sync()


class EarlyWriteback:
    """A thread that flushes ``folder``'s file system over and over, from ``start`` until ``stop``: the files
    written meanwhile go to the disk while the others are still being made. Never raises: a flush that fails
    ends it, and the flush that follows the last file says why (where syncfs(2) is missing, it does nothing:
    sync(2) would flush every disk of the machine, over and over)."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = folder
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Begin (once). Called after any process is forked from this one: a fork copies only the thread that
        calls it, and a child must never hold a copy of a flush under way."""
        if self._thread is not None or _syncfs is None:
            return
        self._thread = threading.Thread(target=self._run, name="countnight-writeback", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """End it, once the flush under way (if any) is done."""
        self._stopped.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        with contextlib.suppress(OSError):
            fd = os.open(self.folder, os.O_RDONLY)
            try:
                while not self._stopped.is_set() and _syncfs is not None and _syncfs(fd) == 0:
                    self._stopped.wait(_PAUSE)
            finally:
                os.close(fd)
