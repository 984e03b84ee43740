"""A long-lived process's heap: kept near what it holds, not what it once held.

glibc's malloc serves a large block (a live.json of ~1 MB at 10,000 entries, a page, a message) from a
memory map, and frees the map at once, until the first such block is freed: it then raises its threshold to
that size (up to 32 MB) and serves later large blocks from the heap, where they fragment it. A watcher that
makes a live.json on one thread while its live channel reads the last one on another kept ~20 MB that way
(VmHWM 210 MB against 188 MB with the threshold fixed, 10,000 entries and 20 drops). Fixing the threshold at
glibc's own default stops the raising; blocks of 128 KB and more go back to the system when freed.
"""

from __future__ import annotations

import ctypes
import platform

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
