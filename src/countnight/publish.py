"""The one writer: puts ``{path: bytes}`` into the output folder atomically, changing only what changed.

Each file goes to a temporary file in its own folder, is fsynced, made 0644 and renamed over the
old one, so a reader (or a web server) only ever sees a whole old file or a whole new one. Stale
files are pruned after everything new is in place, never before.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

# Files the writer itself leaves behind while working: never served, never pruned by mistake.
_TEMP_PREFIX = ".countnight-tmp-"
MANIFEST = ".countnight-manifest"


class PublishError(Exception):
    """Writing the site failed (a full disk, a read-only folder); what was there before is intact."""


@dataclass
class Published:
    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0


def _safe(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise ValueError(f"refusing to write outside the output folder: {name}")
    return path


def write_atomic(target: Path, data: bytes) -> None:
    """Temp file beside the target, fsync, chmod 0644, rename over it, fsync the folder."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f"{_TEMP_PREFIX}{os.getpid()}-{target.name}"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(target.parent)


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _same(path: Path, data: bytes) -> bool:
    try:
        if path.stat().st_size != len(data):
            return False
        return path.read_bytes() == data
    except OSError:
        return False


def publish(out: Path, files: Mapping[str, bytes], *, known: Mapping[str, bytes] | None = None) -> Published:
    """Make ``out`` hold exactly ``files`` (plus anything we did not write, which is left alone).

    ``known`` is what the previous publish in this process wrote, to skip reading unchanged files
    back from disk. Pages are written before the files that point at them change: assets first,
    then pages, then ``live.json`` (what open pages poll) and ``index.html`` last.
    """
    out.mkdir(parents=True, exist_ok=True)
    report = Published()
    order = sorted(files, key=_write_order)
    try:
        for name in order:
            data = files[name]
            target = out / _safe(name)
            if known is not None and known.get(name) == data and target.exists():
                report.unchanged += 1
                continue
            if known is None and _same(target, data):
                report.unchanged += 1
                continue
            write_atomic(target, data)
            report.written.append(name)
        previous = _read_manifest(out)
        for name in sorted(previous - set(files)):
            with contextlib.suppress(FileNotFoundError, ValueError):
                (out / _safe(name)).unlink()
                report.removed.append(name)
        manifest = "\n".join(sorted(files)).encode() + b"\n"
        if not _same(out / MANIFEST, manifest):
            write_atomic(out / MANIFEST, manifest)
    except OSError as err:
        what = "the disk is full" if err.errno == errno.ENOSPC else err.strerror or str(err)
        raise PublishError(f"{out}: could not write the site ({what}); the previous files are intact") from err
    return report


def _write_order(name: str) -> tuple[int, str]:
    if name.startswith("assets/"):
        return (0, name)
    if name == "live.json":
        return (3, name)
    if name == "index.html":
        return (4, name)
    return (2, name)


def _read_manifest(out: Path) -> set[str]:
    try:
        return {line for line in (out / MANIFEST).read_text().split("\n") if line}
    except (OSError, UnicodeDecodeError):
        return set()


def clean_temp_files(out: Path) -> int:
    """Remove temp files a killed writer left behind (they are never served: readers ask for real names)."""
    removed = 0
    if not out.is_dir():
        return 0
    for tmp in out.rglob(f"{_TEMP_PREFIX}*"):
        with contextlib.suppress(OSError):
            tmp.unlink()
            removed += 1
    return removed
