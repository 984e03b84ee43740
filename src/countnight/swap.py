"""Replace a file only if it still holds what was read: an editor's command racing a reporter's save.

Checking the file and then renaming over it leaves a window between the two: a reporter's save that lands in
it is replaced, and lost. Where the kernel can exchange two names atomically (Linux ``renameat2`` with
``RENAME_EXCHANGE``), the new version is exchanged into place and what it displaced is checked afterwards:
if that is not what was read (a save, or a link, landed in the window), it is exchanged back, so the newest
save stays. Elsewhere the check just before the rename is all there is.
"""

from __future__ import annotations

import ctypes
import errno
import os
from collections.abc import Callable
from pathlib import Path

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _load() -> Callable[..., int] | None:
    try:
        return ctypes.CDLL(None, use_errno=True).renameat2  # type: ignore[no-any-return]
    except (OSError, AttributeError):
        return None


_renameat2 = _load()


def exchange(a: Path, b: Path) -> bool:
    """Exchange the names ``a`` and ``b`` atomically; False when this system or file system cannot."""
    if _renameat2 is None:
        return False
    if _renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), os.fspath(b))


def replace_if_unchanged(tmp: Path, path: Path, unchanged: Callable[[Path], bool]) -> bool:
    """Put ``tmp`` in place of ``path`` if ``path`` still holds what was read (``unchanged`` says so of a name);
    False, with ``path`` holding the newest save, when it did not. ``tmp`` holds something to discard after."""
    if not unchanged(path):
        return False
    ours = os.lstat(tmp).st_ino
    try:
        swapped = exchange(tmp, path)
    except FileNotFoundError:  # the entry was deleted meanwhile: that is a change too
        return False
    if not swapped:
        os.replace(tmp, path)
        return True
    if unchanged(tmp):  # what was displaced is what was read: done
        return True
    # A save (or a link) landed between the check and the exchange: put it back, unless a newer one has
    # already replaced our version (then that one is the newest, and stays).
    if os.lstat(path).st_ino == ours:
        exchange(tmp, path)
        if os.lstat(tmp).st_ino != ours:  # and yet another save landed in that instant: it is the newest
            exchange(tmp, path)
    return False
