"""Is the published site already what a build would make? Answered from file signatures alone.

After a clean build (nothing rejected, held or skipped) the build's caller records, in
``.countnight/published-*.json`` (one per output folder), what the site was made from and what it
is: the tool's version; the stat signatures (mtime, size, inode, ctime) of the config, the baseline, every
theme file, the journal and every entry file, exactly as the build saw them, and the digests of those that
changed just before the build read them (see ``RACY_NS``); a digest of the
signatures of every file in the output folder once written; and until when the output stays right
by itself (the next embargoed entry, the end of coverage). A restart compares these with the disk:
when nothing differs and that moment has not come, the site is up to date and there is nothing to
build. At 10,000 entries that answer takes a tenth of a second where a build from nothing takes
several, and it needs nothing but the standard library.

The record holds the signatures the build used, as it saw them, not as the disk has them afterwards:
a file changed during a build (after the build looked at it) makes the record not match the disk, as
any later change does (an entry, a template, a page in the output folder, the tool itself), and the
full build runs as always. So the record needs no second look at the entries once the build is done
(10,000 stats, ~0.05 s that the build's process spent alone after publishing).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import threading
from collections.abc import Mapping, Sequence, Sized
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from . import __version__
from .fileio import read_file, write_all
from .journal import JOURNAL, STATE_DIR  # the standard library only, like this module
from .names import CONFIG_NAME, default_theme, is_entry_name, is_picture_name, theme_files

# (mtime_ns, size, inode, ctime_ns). Size and mtime alone miss a rewrite of the same size that keeps its mtime
# (cp --preserve=timestamps, rsync -t, sync clients); the inode misses one made in place. The ctime is set by
# the kernel on every write, rename and utime, and no program can set it back: it changes whenever the bytes
# can have. It comes with the same stat, so it costs nothing.
Signature = tuple[int, int, int, int]

# A file whose ctime is this close to the moment its signature was taken may change again within the same
# tick of the file system's clock (coarse: a few ms on Linux, 1-2 s on some file systems) and keep its whole
# signature: the "racy" files of git's index. Their signature is not trusted: the build reads them again and
# compares their bytes, and the up-to-date record keeps their digests (see Inputs.racy).
RACY_NS = 2_000_000_000


def of_stat(info: os.stat_result) -> Signature:
    return (info.st_mtime_ns, info.st_size, info.st_ino, info.st_ctime_ns)


def picture_signature(path: str) -> Signature | None:
    """A picture file's signature, as ``disk_inputs`` takes it (through a link); None if it cannot be read."""
    try:
        return of_stat(os.stat(path))
    except OSError:
        return None


def racy(signature: Sequence[int], seen_ns: int) -> bool:
    """Whether a file with this signature, taken at ``seen_ns`` (time.time_ns()), may change unseen."""
    return signature[-1] >= seen_ns - RACY_NS


def signature(path: Path | str) -> Signature:
    """A file's (mtime_ns, size, inode, ctime_ns), or zeros when it is not there."""
    try:
        info = os.stat(path)
    except OSError:
        return (0, 0, 0, 0)
    return of_stat(info)


@dataclass(frozen=True)
class Inputs:
    """What a build is made from, as signatures: compared, never read."""

    config: Signature
    baseline: tuple[str, Signature] | None
    theme: Sequence[tuple[str, int, int, int, int]]  # (path, *Signature) of every theme file
    journal: Signature
    entries: Sequence[tuple[str, int, int, int, int]]  # (file name, *Signature), sorted by name
    # (path under the root, sha256 of the bytes the build read) of each racy input (see RACY_NS): their
    # signatures prove nothing, so the check reads them and compares their bytes
    racy: Sequence[tuple[str, str]] = ()

    def digest(self) -> str:
        head = json.dumps([__version__, self.config, self.baseline, [list(t) for t in self.theme], self.journal])
        lines = [head, *("\0".join(map(str, entry)) for entry in self.entries)]
        return hashlib.sha256("\n".join(lines).encode("utf-8", "surrogateescape")).hexdigest()


def theme_signatures(root: Path) -> list[tuple[str, int, int, int, int]]:
    """Every theme file (the blog's overrides, then the default theme) with its signature, as the build lists them."""
    found: list[tuple[str, int, int, int, int]] = []
    for folder in (root / "templates", default_theme()):
        for path in theme_files(folder):
            try:
                info = path.stat()
            except OSError:
                continue
            found.append((str(path), *of_stat(info)))
    return found


def disk_inputs(root: Path, baseline: str | None) -> Inputs:
    entries: list[tuple[str, int, int, int, int]] = []
    with contextlib.suppress(OSError):
        for item in os.scandir(root / "entries"):
            if is_entry_name(item.name) or is_picture_name(item.name):  # a picture replaced changes the site too
                try:
                    info = item.stat()  # follows a link, as the build's read does
                except OSError:
                    entries.append((item.name, 0, 0, 0, 0))
                    continue
                entries.append((item.name, *of_stat(info)))
    entries.sort()
    return Inputs(
        config=signature(root / CONFIG_NAME),
        baseline=(baseline, signature(root / baseline)) if baseline else None,
        theme=theme_signatures(root),
        journal=signature(root / STATE_DIR / JOURNAL),
        entries=entries,
    )


LIVE_FOLDER = "live"  # channel.FOLDER (not imported: the launcher's quick path loads this module alone)


def disk_outputs(out: Path) -> str:
    """A digest of every file under ``out`` with its signature: any file added, removed or touched changes it."""
    return _outputs_digest(_output_lines(out))


def _output_lines(out: Path) -> list[str]:
    lines: list[str] = []
    folders = [""]  # relative to out, with a trailing "/"
    while folders:
        folder = folders.pop()
        try:
            items = list(os.scandir(os.path.join(out, folder) if folder else out))
        except OSError:
            continue
        for item in items:
            if item.is_dir(follow_symlinks=False):
                if not folder and item.name == LIVE_FOLDER:  # the live channel's messages: not made by the build
                    continue
                folders.append(f"{folder}{item.name}/")
                continue
            try:
                info = item.stat(follow_symlinks=False)
            except OSError:
                continue
            # Not the ctime: moving a cold build's staged site into place changes it, and these are files
            # the build wrote itself (the inputs are where a rewrite that keeps mtime and size must be seen).
            lines.append(f"{folder}{item.name}\0{info.st_mtime_ns}\0{info.st_size}\0{info.st_ino}")
    return lines


class _OutputsAside:
    """``disk_outputs(out)`` worked out by a forked process while this one looks at the inputs: each half of the
    quick check is ~0.1 s of ``stat`` calls at 10,000 entries on a slow machine, and two threads were slower than
    one (the interpreter lock went back and forth at every call). The process sends its lines, sorted; the digest
    is taken here. Worked out here instead where this process runs other threads (a lock one of them held
    would never be let go in the fork) or cannot fork."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self._pid: int | None = None
        self._pipe = -1
        if threading.active_count() > 1 or not hasattr(os, "fork"):
            return
        read, write = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            os.close(read)
            os.close(write)
            return
        if pid == 0:  # the forked process: its lines, then out, with no clean-up of this process's state
            code = 1
            try:
                os.close(read)
                write_all(write, _outputs_text(_output_lines(out)))
                code = 0
            finally:
                os._exit(code)
        os.close(write)
        self._pid, self._pipe = pid, read

    def digest(self) -> str:
        if self._pid is None:
            return disk_outputs(self.out)
        with os.fdopen(self._pipe, "rb") as pipe:
            data = pipe.read()
        _, status = os.waitpid(self._pid, 0)
        self._pid = None
        return hashlib.sha256(data).hexdigest() if status == 0 else disk_outputs(self.out)

    def cancel(self) -> None:
        """Not needed after all (the inputs differ): ended now, and waited for."""
        if self._pid is not None:
            with contextlib.suppress(OSError):
                os.kill(self._pid, signal.SIGKILL)
            os.close(self._pipe)
            os.waitpid(self._pid, 0)
            self._pid = None


def outputs_digest(files: Mapping[str, tuple[int, int, int]]) -> str:
    """``disk_outputs`` of a folder that holds exactly ``files`` (path → mtime_ns, size, inode), the live
    channel's messages aside (a cold build's site as it staged it: publish.Published.stats)."""
    live = LIVE_FOLDER + "/"
    return _outputs_digest(
        [
            f"{name}\0{mtime}\0{size}\0{inode}"
            for name, (mtime, size, inode) in files.items()
            if not name.startswith(live)
        ]
    )


def _outputs_digest(lines: list[str]) -> str:
    return hashlib.sha256(_outputs_text(lines)).hexdigest()


def _outputs_text(lines: list[str]) -> bytes:
    """What the outputs' digest is taken of: the lines sorted (in place), one a line."""
    lines.sort()
    return "\n".join(lines).encode("utf-8", "surrogateescape")


@dataclass(frozen=True)
class Record:
    """What a ``published-*.json`` record holds."""

    root: str
    out: str
    baseline: str | None
    inputs: str
    outputs: str
    valid_until: str | None  # ISO 8601 UTC; None: nothing changes with time alone
    live: int
    scheduled: int
    version: str = __version__
    racy: list[list[str]] = field(default_factory=list)  # Inputs.racy: [path under the root, sha256]


def _record_path(root: Path, out: Path) -> Path:
    """One record per output folder: building into site/ and into /var/www in turn keeps both answered."""
    tag = hashlib.sha256(os.path.realpath(out).encode()).hexdigest()[:12]
    return root / STATE_DIR / f"published-{tag}.json"


def record(
    root: Path,
    out: Path,
    inputs: Inputs,
    *,
    valid_until: datetime | None,
    live: int,
    scheduled: int,
    outputs: str | None = None,
) -> bool:
    """Record a clean build: its ``inputs`` as the build saw them, and its outputs.

    Whether those inputs are still what is on disk is asked when the record is read (``up_to_date``), where
    an input changed since the build looked makes it not match. ``outputs``: ``disk_outputs(out)`` as the
    build took it of the site it published (see ``BuildReport.outputs_digest``), instead of walking ``out``
    again. Should anything in ``out`` have changed since, the record does not match the disk either.
    """
    path = _record_path(root, out)
    forget(root, out)  # whatever happens next, an old record must not outlive the site it described
    data = Record(
        root=os.path.realpath(root),
        out=os.path.realpath(out),
        baseline=inputs.baseline[0] if inputs.baseline else None,
        inputs=inputs.digest(),
        outputs=outputs if outputs is not None else disk_outputs(out),
        valid_until=valid_until.astimezone(UTC).isoformat() if valid_until else None,
        live=live,
        scheduled=scheduled,
        racy=[list(pair) for pair in inputs.racy],
    )
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(data.__dict__, indent=1))
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
        return False
    return True


def up_to_date(root: Path, out: Path, now: datetime | None = None) -> Record | None:
    """The record, when the site in ``out`` is what a build of ``root`` would make right now; else None."""
    try:
        raw: dict[str, Any] = json.loads(read_file(_record_path(root, out)))
        data = Record(**raw)
    except (OSError, ValueError, TypeError):
        return None
    if data.version != __version__ or data.root != os.path.realpath(root) or data.out != os.path.realpath(out):
        return None
    now = now or datetime.now(UTC)
    if data.valid_until is not None and now >= datetime.fromisoformat(data.valid_until):
        return None
    outputs, inputs = _OutputsAside(out), None
    try:
        inputs = disk_inputs(root, data.baseline).digest()
    finally:
        if inputs != data.inputs:  # changed, or the look failed: the outputs are not needed
            outputs.cancel()
    if inputs != data.inputs:
        return None
    if outputs.digest() != data.outputs:
        return None
    for name, digest in data.racy:  # changed since without a trace in their signature? their bytes say
        try:
            if hashlib.sha256((root / name).read_bytes()).hexdigest() != digest:
                return None
        except (OSError, TypeError):
            return None
    return data


class BuildReport(Protocol):
    """What ``record_build`` reads of a build's report (report.BuildReport). Described here, not imported:
    the build's modules are heavy and sit above this one, which must stay light for the quick check."""

    built: bool
    problems: Sized
    warnings: Sized
    held: Sized
    valid_until: datetime | None
    live: int
    scheduled: Sized
    outputs_digest: str | None


class Site(Protocol):
    """What ``record_build`` asks of the build (site.Site), for the same reason."""

    root: Path
    out: Path

    def inputs_seen(self) -> Inputs | None: ...


def record_build(site: Site, report: BuildReport) -> bool:
    """After a clean build (nothing rejected, held or skipped), record what the site was made from."""
    inputs = site.inputs_seen()
    if not report.built or report.problems or report.warnings or report.held or inputs is None:
        forget(site.root, site.out)
        return False
    return record(
        site.root,
        site.out,
        inputs,
        valid_until=report.valid_until,
        live=report.live,
        scheduled=len(report.scheduled),
        outputs=report.outputs_digest,
    )


def forget(root: Path, out: Path) -> None:
    with contextlib.suppress(OSError):
        _record_path(root, out).unlink()
