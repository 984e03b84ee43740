"""The one writer: puts ``{path: bytes}`` into the output folder atomically, changing only what changed.

Each file goes to a temporary file in its own folder, is fsynced, made 0644 and renamed over the
old one, so a reader (or a web server) only ever sees a whole old file or a whole new one. Stale
files are pruned after everything new is in place, never before.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import hashlib
import os
from collections.abc import Callable, Collection, Mapping
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
    digests: dict[str, str] = field(default_factory=dict)  # every file of the site → digest of its bytes


def _safe(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise ValueError(f"refusing to write outside the output folder: {name}")
    return path


def write_atomic(target: Path, data: bytes) -> None:
    """Temp file beside the target, fsync, chmod 0644, rename over it, fsync the folder."""
    tmp = _stage(target, data, sync=True)
    os.replace(tmp, target)
    _fsync_dir(target.parent)


def _stage(target: Path, data: bytes, *, sync: bool) -> Path:
    """Write ``data`` to a temp file beside ``target`` (mode 0644); the caller renames it into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f"{_TEMP_PREFIX}{os.getpid()}-{target.name}"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if sync:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.chmod(tmp, 0o644)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return tmp


def _sync_filesystem(folder: Path) -> None:
    """Flush every staged file at once: one syncfs(2) instead of an fsync per file (Linux), else sync(2)."""
    if _syncfs is not None:
        fd = os.open(folder, os.O_RDONLY)
        try:
            if _syncfs(fd) == 0:
                return
        finally:
            os.close(fd)
    os.sync()


def _load_syncfs() -> Callable[[int], int] | None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.syncfs  # type: ignore[no-any-return]
    except (OSError, AttributeError):
        return None


_syncfs = _load_syncfs()
# Up to this many changed files are fsynced one by one; past it one syncfs is cheaper (a cold build writes
# thousands of files; a watch-mode rebuild a handful).
_SYNC_EACH_MAX = 16


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


def digest(data: bytes) -> str:
    """What the writer remembers of a file it published (not its bytes: a watcher keeps 10,000 pages)."""
    return hashlib.sha256(data).hexdigest()


def publish(
    out: Path,
    files: Mapping[str, bytes],
    paths: Collection[str] | None = None,
    *,
    known: Mapping[str, str] | None = None,
) -> Published:
    """Make ``out`` hold exactly ``paths`` (plus anything we did not write, which is left alone).

    ``files`` holds the bytes of the files made anew; every other name in ``paths`` (default: the names
    in ``files``) must be in ``known``, the digests of what this process published last time, which also
    spares reading unchanged files back from disk. Without ``known`` every file is compared with the disk.
    Pages are written before the files that point at them change: assets first, then pages, then
    ``live.json`` (what open pages poll) and ``index.html`` last.
    """
    names = set(files) if paths is None else set(paths)
    unknown = names - files.keys() - (known.keys() if known is not None else set())
    if unknown:
        raise ValueError(f"no bytes and no record for {sorted(unknown)[:3]}")
    out.mkdir(parents=True, exist_ok=True)
    report = Published()
    digests = dict(known) if known is not None else {}
    changed: list[tuple[str, Path]] = []
    for name, data in files.items():
        target = out / _safe(name)
        digests[name] = made = digest(data)
        unchanged = known.get(name) == made and target.exists() if known is not None else _same(target, data)
        if unchanged:
            report.unchanged += 1
        else:
            changed.append((name, target))
    report.unchanged += len(names) - len(files)
    changed.sort(key=lambda pair: _write_order(pair[0]))
    listing = known is None or known.keys() != names  # which files exist may have changed
    previous = _read_manifest(out) if listing else set()
    manifest = "\n".join(sorted(names)).encode() + b"\n"
    staged: list[tuple[Path, Path]] = []
    try:
        # Stage everything first, the manifest too: a full disk fails here, before a single published
        # file has changed. (Written after the renames, a manifest that hit a full disk left the new site
        # up while the build said the previous one was intact and the journal missed what readers saw.)
        sync_each = len(changed) <= _SYNC_EACH_MAX
        for name, target in changed:
            staged.append((_stage(target, files[name], sync=sync_each), target))
        if listing and not _same(out / MANIFEST, manifest):
            staged.append((_stage(out / MANIFEST, manifest, sync=sync_each), out / MANIFEST))
        if staged and not sync_each:
            _sync_filesystem(out)
        folders: dict[Path, None] = {}
        for tmp, target in staged:
            os.replace(tmp, target)
            folders[target.parent] = None
        staged = []
        for folder in folders:
            _fsync_dir(folder)
        report.written = [name for name, _ in changed]
        for name in sorted(previous - names):  # prune what the previous build wrote and this one did not
            with contextlib.suppress(FileNotFoundError, ValueError):
                (out / _safe(name)).unlink()
                report.removed.append(name)
    except OSError as err:
        for tmp, _ in staged:  # nothing of this build was renamed into place: leave no temp files
            with contextlib.suppress(OSError):
                tmp.unlink()
        what = "the disk is full" if err.errno == errno.ENOSPC else err.strerror or str(err)
        raise PublishError(f"{out}: could not write the site ({what}); the previous files are intact") from err
    for name in digests.keys() - names:
        del digests[name]
    report.digests = digests
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
