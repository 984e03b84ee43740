"""Reading entry files carefully: regular files only, a size cap, a FIFO never waited on, and the
withdrawal a file that fails validation still says it is."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError
from .fileio import FOLDER_FLAGS
from .frontmatter import MAX_BYTES, read_entry


@dataclass(frozen=True)
class FilePath:
    """What ``_read_one`` uses of an ``os.DirEntry``, for a file named by a file event."""

    path: str
    link: bool

    @classmethod
    def at(cls, path: Path) -> FilePath | None:
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            return None
        except OSError:  # the stat in _read_one reports it
            return cls(str(path), False)
        return cls(str(path), stat.S_ISLNK(info.st_mode))

    def stat(self, *, follow_symlinks: bool = True) -> os.stat_result:
        return os.stat(self.path, follow_symlinks=follow_symlinks)

    def is_symlink(self) -> bool:
        return self.link


def open_folder(path: str | os.PathLike[str]) -> int | None:
    """A folder opened to read the files in it by name (``read_regular_stat``'s ``dir_fd``); None where it cannot
    be (its files are then read by their paths, which say what is wrong). The caller closes it."""
    try:
        return os.open(path, FOLDER_FLAGS)
    except OSError:
        return None


def read_regular(path: str) -> bytes | None:
    """Read at most MAX_BYTES + 1 bytes of a regular file; None if it is not one."""
    found = read_regular_stat(path)
    return found[0] if found is not None else None


def read_regular_stat(path: str, *, dir_fd: int | None = None) -> tuple[bytes, os.stat_result] | None:
    """``read_regular``, with the file's stat as it was opened (before any of it was read). ``dir_fd``: ``path``
    is a name within that open folder (a cold build's workers read 10,000 files of entries/ so: the kernel
    looks up one name a file, not each folder of the path again).

    O_NONBLOCK: the file was a regular file when stat-ed, but a FIFO put in its place since then must not
    hang the build (opening a FIFO for reading blocks until a writer comes; non-blocking, it returns at once).
    The first read asks for the size the file has (plus one, to see it grow), not for MAX_BYTES + 1: os.read
    allocates what it is asked for, and a 1 MiB buffer for a 1 KB entry made reading a file 13-20 µs, not 6.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0), dir_fd=dir_fd)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None
        chunks: list[bytes] = []
        left = MAX_BYTES + 1
        ask = info.st_size + 1
        while left > 0:
            chunk = os.read(fd, min(left, ask))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
            ask = 1 << 16  # it grew since: read on in 64 KiB steps, up to the limit
        return b"".join(chunks), info
    finally:
        os.close(fd)


def taken_down(data: bytes, path: str) -> str | None:
    """'withdrawn' or 'draft' when a file that fails validation still says so in readable front matter."""
    try:
        status = read_entry(data, path).front.get("status")
    except InputError:
        return None
    word = status.strip().lower() if isinstance(status, str) else ""
    return word if word in ("withdrawn", "draft") else None
