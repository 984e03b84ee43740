"""A helper process that ends with the process that started it, however that one ends.

A worker outliving a SIGKILLed (or OOM-killed) watcher would go on taking spans nobody will read, and writing
pages into the output folder that nobody will rename into place or clean up; the process drawing share cards
(cardpainter.py) would draw for nobody. Light on purpose: that process imports it, and little else.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal

_PR_SET_PDEATHSIG = 1  # prctl(2)


def die_with(parent: int) -> None:
    """End this process when ``parent`` ends (it is killed with SIGKILL); at once if it has ended already."""
    with contextlib.suppress(OSError, AttributeError):  # Linux only; elsewhere a helper may outlive a crash
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)
