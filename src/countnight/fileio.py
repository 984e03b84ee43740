"""Writing bytes to a file descriptor, all of them: what the writer, the journal and the editor commands share."""

from __future__ import annotations

import os


def write_all(fd: int, data: bytes) -> None:
    """Write every byte of ``data``: a nearly full disk takes part of a write, and the rest must follow (or
    ``os.write`` raise, ENOSPC), never be dropped silently."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def write_synced(path: str | os.PathLike[str], data: bytes, mode: int = 0o644) -> None:
    """Create or truncate ``path``, write every byte of ``data`` and fsync it (a temp file about to be renamed)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        write_all(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
