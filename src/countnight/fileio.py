"""Writing bytes to a file descriptor, all of them, and flushing files and folders to the disk: what the writer,
the journal, the desk and the editor commands share."""

from __future__ import annotations

import contextlib
import errno
import os
import stat

# A folder opened to work on the files in it by name (openat(2) and the like): one name looked up a file
FOLDER_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)


def write_all(fd: int, data: bytes) -> None:
    """Write every byte of ``data``: a nearly full disk takes part of a write, and the rest must follow (or
    ``os.write`` raise, ENOSPC), never be dropped silently."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def fsync_file(path: str | os.PathLike[str]) -> None:
    """Flush a file already written (a temp file about to be renamed into place) to the disk."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_folder(folder: str | os.PathLike[str]) -> None:
    """Flush a folder's names (a file created or renamed in it survives a crash); best effort: a file system that
    cannot sync a folder still has the files."""
    with contextlib.suppress(OSError):
        fsync_file(folder)


def write_synced(path: str | os.PathLike[str], data: bytes, mode: int = 0o644) -> None:
    """Create or truncate ``path``, write every byte of ``data`` and fsync it (a temp file about to be renamed)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        write_all(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def read_file(path: str | os.PathLike[str]) -> bytes:
    """The bytes of a regular file (a link to one is followed). Anything else is an OSError that says what it
    is, never a hang: a FIFO put where the config, the baseline or the record belongs blocked the read until
    a writer came, and a device (``/dev/zero``) never ended. Opened non-blocking, checked with fstat."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(errno.EISDIR, "is a folder, not a file", os.fspath(path))
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, "is not a regular file (a pipe, a socket or a device)", os.fspath(path))
        chunks = []
        while chunk := os.read(fd, max(info.st_size + 1, 1 << 16)):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)
