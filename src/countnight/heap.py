"""A process's heap: a long-lived one's kept near what it holds, not what it once held; a one-off build's left
to reference counting alone (``collector_paused``).

glibc's malloc serves a large block (a live.json of ~1 MB at 10,000 entries, a page, a message) from a
memory map, and frees the map at once, until the first such block is freed: it then raises its threshold to
that size (up to 32 MB) and serves later large blocks from the heap, where they fragment it. A watcher that
makes a live.json on one thread while its live channel reads the last one on another kept ~20 MB that way
(VmHWM 210 MB against 188 MB with the threshold fixed, 10,000 entries and 20 drops). Fixing the threshold at
glibc's own default stops the raising; blocks of 128 KB and more go back to the system when freed.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import platform
from collections.abc import Iterator

M_MMAP_THRESHOLD = -3  # malloc.h
MMAP_THRESHOLD = 128 * 1024  # glibc's default before it starts raising it


def keep_heap_small() -> bool:
    """Fix malloc's map threshold for the rest of this process (glibc only; elsewhere a no-op); True if set."""
    if platform.libc_ver()[0] != "glibc":
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))


@contextlib.contextmanager
def collector_paused(paused: bool) -> Iterator[None]:
    """A one-off build's objects (entries, views, fragments) live until it exits, and the cyclic collector
    walked them again and again as they piled up, to find next to nothing: four full passes, ~0.35 s of
    the build's own process at 10,000 entries. Its builds make few cycles, and reference counting frees
    everything else, so a one-off build runs without it (its peak memory is unchanged). The watcher,
    which runs all night, keeps it."""
    if not paused or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
