"""The one writer: puts ``{path: bytes}`` into the output folder atomically, changing only what changed.

Each file goes to a temporary file in its own folder, is fsynced, made 0644 and renamed over the
old one, so a reader (or a web server) only ever sees a whole old file or a whole new one. Stale
files are pruned after everything new is in place, never before.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import threading
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path

from .changes import Content, write_order
from .errors import describe_os_error
from .fileio import fsync_file, fsync_folder, write_all
from .parallel import PARALLEL_MIN, map_forked, usable_cpus
from .staging import TreeWriter
from .themefault import fault
from .writeback import EarlyWriteback, flush

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
    digests: dict[str, str] = field(default_factory=dict)  # every file of the site → digest of its bytes, or ON_DISK
    # Into an empty folder: each file → (mtime_ns, size, inode) as staged, which moving the site into place keeps
    # (uptodate.outputs_digest: walking the folder for them again was ~0.035 s of a cold build at 10,000 entries)
    stats: dict[str, tuple[int, int, int]] = field(default_factory=dict)


def _safe(name: str) -> str:
    """``name`` if it stays inside the output folder (a relative path without ".."), else ValueError."""
    parts = name.split("/")
    if name.startswith("/") or ".." in parts or "\0" in name or all(part in ("", ".") for part in parts):
        raise ValueError(f"refusing to write outside the output folder: {name}")
    return name


def write_atomic(target: Path, data: bytes) -> None:
    """Temp file beside the target, fsync, chmod 0644, rename over it, fsync the folder."""
    tmp = _stage(target, data, sync=True)
    os.replace(tmp, target)
    fsync_folder(target.parent)


def _stage(target: str | Path, data: bytes, *, sync: bool, folders: set[str] | None = None) -> str:
    """Write ``data`` to a temp file beside ``target`` (mode 0644); the caller renames it into place. (A site
    staged whole into an empty folder is written by staging.TreeWriter instead.)

    ``folders``: the folders this caller already made (a build into a folder that holds a site stages thousands
    of files into update/).
    Plain strings, not Paths: a Path's parent, name and join were 15 of the 25 µs each file took.
    """
    folder, slash, name = os.fspath(target).rpartition("/")
    folder = folder or ("/" if slash else ".")
    if folders is None or folder not in folders:
        os.makedirs(folder, exist_ok=True)
        if folders is not None:
            folders.add(folder)
    tmp = f"{folder}/{temp_name(name)}"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            write_all(fd, data)
            if sync:
                os.fsync(fd)
            os.fchmod(fd, 0o644)  # whatever the umask
        finally:
            os.close(fd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return tmp


def temp_name(name: str) -> str:
    """The temp file a file named ``name`` is staged in: the name itself when the whole fits every file
    system's name limit, else a digest of it. (The prefix made a name that fitted too long by ~25 bytes,
    and that one file failed every build of the night.)"""
    tmp = f"{_TEMP_PREFIX}{os.getpid()}-{name}"
    if len(tmp.encode()) <= _SHORT_NAME_MAX:
        return tmp
    return f"{_TEMP_PREFIX}{os.getpid()}-{hashlib.sha256(name.encode()).hexdigest()[:32]}"


# Temp names are kept within the shortest name limit of the file systems in use (eCryptfs: 143 bytes).
_SHORT_NAME_MAX = 143


def _sync_filesystem(folder: Path, meanwhile: Callable[[], object] | None = None) -> None:
    """Flush every staged file at once: one syncfs(2) instead of an fsync per file (Linux), else sync(2).

    ``meanwhile`` runs in this thread while the disk works (a cold build's syncfs waits ~0.15 s on the disk,
    its journal lines take ~0.1 s to make); the sync's own error, if any, is raised once both are done.
    """
    if meanwhile is None:
        _flush(folder)
        return
    failed: list[BaseException] = []

    def flushing() -> None:
        try:
            _flush(folder)
        except BaseException as err:
            failed.append(err)

    # A plain thread: concurrent.futures (and the logging it imports) were ~7 ms of every start of the command
    synced = threading.Thread(target=flushing, name="countnight-sync", daemon=True)
    synced.start()
    try:
        meanwhile()
    finally:
        synced.join()
        if failed:
            raise failed[0]


_flush = flush  # (by this name, so a test can make the disk fail)
# Up to this many changed files are fsynced one by one; past it one syncfs is cheaper (a cold build writes
# thousands of files; a watch-mode rebuild a handful).
_SYNC_EACH_MAX = 16


def _same(path: str | Path, data: bytes) -> bool:
    try:
        if os.stat(path).st_size != len(data):
            return False
        with open(path, "rb") as handle:
            return handle.read() == data
    except OSError:
        return False


def digest(data: bytes) -> str:
    """What the writer remembers of a file it published (not its bytes: a watcher keeps 10,000 pages)."""
    return hashlib.sha256(data).hexdigest()


# The digest recorded for a file published into an empty folder: not worked out (hashing a cold build's 127 MB
# of pages took ~0.17 s, and a one-off build never needs them); a later publish compares that file with the disk.
ON_DISK = ""


@dataclass
class _Batch:
    """What staging some of a publish's files did: temp files written, digests, or the error that stopped it."""

    staged: list[tuple[str, str]] = field(default_factory=list)  # (name, temp file beside its target)
    digests: dict[str, str] = field(default_factory=dict)
    stats: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # see Published.stats
    unchanged: int = 0
    error: BaseException | None = None


def _stage_batch(
    out: Path,
    names: Sequence[str],
    files: Mapping[str, Content],
    known: Mapping[str, str] | None,
    tree: str | None = None,
) -> _Batch:
    """Make and stage each named file that differs from what is published; never raises (see map_forked).

    ``tree``: the output folder is empty, and every file is written under its own name into this folder
    instead (see publish).
    """
    batch = _Batch()
    folders: set[str] = set()
    base = os.fspath(out)
    writer = TreeWriter(tree) if tree is not None else None
    try:
        for name in names:
            content = files[name]
            data = content() if callable(content) else content
            if writer is not None:
                batch.digests[name] = ON_DISK
                tmp, batch.stats[name] = writer.write(_safe(name), data)
                batch.staged.append((name, tmp))
                continue
            target = os.path.join(base, _safe(name))
            batch.digests[name] = made = digest(data)
            recorded = known.get(name) if known is not None else ON_DISK
            if recorded == made and os.path.exists(target) if recorded != ON_DISK else _same(target, data):
                batch.unchanged += 1
            else:
                batch.staged.append((name, _stage(target, data, sync=False, folders=folders)))
    except BaseException as err:  # handed to the caller, which cleans up and raises it
        _unlink(tmp for _, tmp in batch.staged)
        batch.staged = []
        batch.error = fault(err) or err  # a template's, with its file and line (a worker's traceback stays here)
    finally:
        if writer is not None:
            writer.close()
    return batch


def _unlink(paths: Iterable[str | Path]) -> None:
    for path in paths:
        with contextlib.suppress(OSError):
            os.unlink(path)


def _stage_all(
    out: Path,
    files: Mapping[str, Content],
    known: Mapping[str, str] | None,
    *,
    workers: bool = True,
    tree: str | None = None,
    alongside: _Once | None = None,
    writeback: EarlyWriteback | None = None,
) -> _Batch:
    """Stage every file; many files still to be made are made and staged on every core (unless not ``workers``),
    and ``alongside`` is done in this process meanwhile (else not: the caller does it later), as is ``writeback``
    (else not: on one core it would only take turns with the files' making)."""
    names = sorted(files)
    cores = usable_cpus() if workers else 1
    made_here = sum(1 for content in files.values() if callable(content))
    if cores < 2 or made_here < PARALLEL_MIN:
        batches = [_stage_batch(out, names, files, known, tree)]
    else:

        def part(start: int, stop: int) -> _Batch:
            return _stage_batch(out, names[start:stop], files, known, tree)

        def besides() -> None:  # once the workers are forked (see EarlyWriteback.start)
            if writeback is not None:
                writeback.start()
            if alongside is not None:
                alongside()

        batches = map_forked(part, len(names), cores, alongside=besides)
    merged = _Batch()
    for batch in batches:
        merged.staged += batch.staged
        merged.digests.update(batch.digests)
        merged.stats.update(batch.stats)
        merged.unchanged += batch.unchanged
        merged.error = merged.error or batch.error
    merged.error = merged.error or (alongside.error if alongside is not None else None)
    if merged.error is not None:
        _unlink(tmp for _, tmp in merged.staged)
        merged.staged = []
    return merged


@dataclass
class _Once:
    """publish's ``alongside``: done once, its error kept for publish to raise (map_forked's work never raises)."""

    work: Callable[[], object]
    done: bool = False
    error: BaseException | None = None

    def __call__(self) -> None:
        if self.done:
            return
        self.done = True
        try:
            self.work()
        except BaseException as err:
            self.error = err


def publish(
    out: Path,
    files: Mapping[str, Content],
    paths: Collection[str] | None = None,
    *,
    known: Mapping[str, str] | None = None,
    workers: bool = True,
    while_syncing: Callable[[str | None], object] | None = None,
    alongside: Callable[[], object] | None = None,
) -> Published:
    """Make ``out`` hold exactly ``paths`` (plus anything we did not write, which is left alone).

    ``files`` holds the files made anew: their bytes, or a function that makes them (a cold build's
    thousands of pages are then made and written on every core, and never all held in memory at once).
    Every other name in ``paths`` (default: the names in ``files``) must be in ``known``, the digests of
    what this process published last time, which also spares reading unchanged files back from disk
    (a file recorded as ``ON_DISK`` is compared with the disk). Without ``known`` every file is compared
    with the disk. Pages are written before the files that point at them change: assets first, then
    pages, then ``live.json`` (what open pages poll) and ``index.html`` last. ``workers``: whether many
    pages may be made in forked workers (the watcher says no: memory).
    ``while_syncing``: called once everything is staged, before anything is renamed into place, while the
    disk syncs the staged files (an error from it stops the publish as a write error would). It is given
    the staging folder that holds the whole site as it will be (into an empty folder), else None.
    ``alongside``: more work of the caller's, done once in this process: while forked workers make and stage
    the files, if they do (it then costs the build half its time: they take the pages this process would have
    made meanwhile), else while the disk syncs, before ``while_syncing``. An error from it stops the publish as
    ``while_syncing``'s does.
    """
    names = set(files) if paths is None else paths if isinstance(paths, set | frozenset) else set(paths)
    unknown = (names - known.keys() if known is not None else names) - files.keys()  # the small set first
    if unknown:
        raise ValueError(f"no bytes and no record for {sorted(unknown)[:3]}")
    # Into an empty folder nothing is on disk to compare with, and nothing can be replaced: the whole site is
    # staged in one hidden folder inside it, under the files' own names, and moved into place a top-level
    # name at a time (a cold build's update/ is one rename, not 10,000). A reader sees no page or all of
    # them, index.html still last.
    empty = known is None and not _holds_files(out)
    base = os.fspath(out)
    tree: str | None = None
    report = Published()
    digests = dict(known) if known is not None else {}
    staged: list[tuple[str, str]] = []
    renamed = 0
    if os.path.lexists(out) and not os.path.isdir(out):
        raise PublishError(f"{out}: is a file, not a folder: move it away; nothing was written")
    try:
        out.mkdir(parents=True, exist_ok=True)
        if empty:
            tree = _new_tree(base)
        # Stage everything first, the manifest too: a full disk fails here, before a single published
        # file has changed. (Written after the renames, a manifest that hit a full disk left the new site
        # up while the build said the previous one was intact and the journal missed what readers saw.)
        once = _Once(alongside) if alongside is not None else None
        # A whole site written anew goes to the disk as it is written (see writeback.py), not all at the end
        writeback = EarlyWriteback(out) if tree is not None and len(files) > _SYNC_EACH_MAX else None
        try:
            batch = _stage_all(out, files, known, workers=workers, tree=tree, alongside=once, writeback=writeback)
        finally:
            if writeback is not None:
                writeback.stop()
        if batch.error is not None:
            raise batch.error
        staged = sorted(batch.staged, key=lambda pair: write_order(pair[0]))
        digests.update(batch.digests)
        report.unchanged = batch.unchanged + len(names) - len(files)
        report.written = [name for name, _ in staged]
        listing = known is None or known.keys() != names  # which files exist may have changed
        previous: AbstractSet[str] = (_read_manifest(out) if known is None else known.keys()) if listing else set()
        if listing:
            manifest = "\n".join(names).encode() + b"\n"  # any order: only prune reads it (sorting cost ms a build)
            if tree is not None:
                writer = TreeWriter(tree)
                try:
                    tmp, batch.stats[MANIFEST] = writer.write(MANIFEST, manifest)
                finally:
                    writer.close()
                staged.append((MANIFEST, tmp))
            elif known is not None or not _same(out / MANIFEST, manifest):
                staged.append((MANIFEST, _stage(out / MANIFEST, manifest, sync=False)))
        meanwhile = _while_syncing(once, while_syncing, tree)
        if len(staged) > _SYNC_EACH_MAX:
            _sync_filesystem(out, meanwhile)
        else:
            for _, tmp in staged:
                fsync_file(tmp)
            if tree is not None:  # the folders made inside it, too (syncfs covers them)
                for folder in {os.path.dirname(tmp) for _, tmp in staged}:
                    fsync_folder(folder)
            if meanwhile is not None:
                meanwhile()
        if tree is not None:
            _move_tree(tree, base, [name for name, _ in staged])
            renamed = len(staged)
        # Every staged name passed _safe when it was staged: the targets are plain strings (a Path a file
        # was ~5 µs of a cold build's 10,500 renames, all in this one process).
        folders: dict[str, None] = {}
        for name, tmp in staged[renamed:]:
            target = os.path.join(base, name)
            os.replace(tmp, target)
            renamed += 1
            folders[os.path.dirname(target)] = None
        for folder in folders:
            fsync_folder(folder)
        for name in sorted(previous - names):  # prune what the previous build wrote and this one did not
            with contextlib.suppress(FileNotFoundError, ValueError):
                (out / _safe(name)).unlink()
                report.removed.append(name)
    except OSError as err:
        _discard(staged[renamed:], tree)  # what was not renamed into place: leave no temp files
        where = err.filename2 if isinstance(err.filename2, str) else err.filename  # a rename: its target
        what = describe_os_error(err, where)
        if isinstance(where, str) and os.path.abspath(where) != os.path.abspath(base):
            what = f"{os.path.relpath(where, base)}: {what}"  # which file or folder of the site
        raise PublishError(f"{out}: could not write the site ({what}); the previous files are intact") from err
    except BaseException:
        _discard(staged[renamed:], tree)
        raise
    for name in digests.keys() - names:
        del digests[name]
    report.digests = digests
    report.stats = batch.stats
    return report


def _while_syncing(
    once: _Once | None, while_syncing: Callable[[str | None], object] | None, tree: str | None
) -> Callable[[], None] | None:
    """What publish does while the disk syncs: ``alongside``, if the workers did not make room for it, then
    ``while_syncing``."""
    if (once is None or once.done) and while_syncing is None:
        return None

    def meanwhile() -> None:
        if once is not None and not once.done:
            once()
            if once.error is not None:
                raise once.error
        if while_syncing is not None:
            while_syncing(tree)

    return meanwhile


def _new_tree(base: str) -> str:
    """The hidden folder a publish into an empty output folder stages the whole site in."""
    tree = f"{base}/{_TEMP_PREFIX}{os.getpid()}-site"
    _remove_tree(tree)  # left by a process of the same id that was killed; clean_temp_files takes the others
    os.mkdir(tree)
    return tree


def _move_tree(tree: str, base: str, names: Sequence[str]) -> None:
    """Each top-level file and folder of ``tree`` into ``base`` (empty when it was staged), in the order the
    files were written: assets, then pages, then live.json, then index.html."""
    tops: dict[str, None] = {}
    for name in names:  # already in write order; a folder goes in with its first file
        tops[name.partition("/")[0]] = None
    for top in tops:
        os.rename(f"{tree}/{top}", f"{base}/{top}")
    fsync_folder(base)
    _remove_tree(tree)  # empty now; were it not, the site is out all the same: no reason to fail the publish


def _remove_tree(tree: str) -> None:
    shutil.rmtree(tree, ignore_errors=True)  # not there, or a link in its place: nothing removed, nothing raised


def _discard(staged: Sequence[tuple[str, str]], tree: str | None) -> None:
    """Staged files a failed publish did not put in place: their temp files, or what is left of the tree."""
    if tree is None:
        _unlink(tmp for _, tmp in staged)
    else:
        _remove_tree(tree)


def _holds_files(out: Path) -> bool:
    """Whether the output folder exists and holds anything (a cold build into a new folder: no)."""
    try:
        with os.scandir(out) as listing:
            return next(listing, None) is not None
    except FileNotFoundError:
        return False
    except OSError:  # unreadable: compare each file with the disk, and let the writes say what is wrong
        return True


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
    for tmp in list(out.rglob(f"{_TEMP_PREFIX}*")):
        with contextlib.suppress(OSError):
            if tmp.is_dir() and not tmp.is_symlink():  # a whole site staged for an empty folder (publish)
                shutil.rmtree(tmp)
            else:
                tmp.unlink()
            removed += 1
    return removed
