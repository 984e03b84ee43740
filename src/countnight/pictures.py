"""Pictures beside entries: found safely in entries/, made by worker processes, kept by digest in
``.countnight/pictures/``.

An entry that names a picture goes live once its picture is made (an entry never shows without the picture
it names, and a text entry never waits for one). Making is picturemake.py's work, done in a pool of worker
processes at a lower priority than the build, so 50 photos dropped at once never hold up a text entry's
build: the build asks ``figures_for``, gets the made picture, a ``Waiting``, or the problems to report, and
goes on. When a picture is made, ``on_ready`` names the entry files to look at again (the watcher queues
them as if they had changed). A one-off build or ``check`` (``blocking``) waits for its pictures instead.

Made files are kept by the digest of the reporter's file, in ``.countnight/pictures/<sha256>/`` (a
``manifest.json`` written last, with the files made or the problem found), and which digest a file's
signature had in ``seen.json``: a restart or another build reads neither the picture nor its made files
again until the file changes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import multiprocessing
import os
import queue
import stat
import struct
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import InputError, Problem
from .figures import MEDIA, MadePicture, Rendition
from .frontmatter import read_entry
from .models import Entry
from .names import MAX_PICTURE_BYTES
from .uptodate import Signature, of_stat

if TYPE_CHECKING:  # the pool is loaded with the first picture (concurrent.futures: ~7 ms of every start)
    import concurrent.futures

STATE = ".countnight/pictures"
ENTRIES = "entries"
_VERSION = 2  # of the made files: a change to how pictures are made makes them again
MANIFEST = "manifest.json"
SEEN = "seen.json"
SHOWN = "shown.json"  # id → the digests of the pictures it was last shown with (for its last good version)


@dataclass(frozen=True)
class Waiting:
    """An entry whose pictures are still being made."""

    names: tuple[str, ...]


def _cache_folder(root: str, digest: str) -> str:
    return os.path.join(root, STATE, f"v{_VERSION}", digest)


def _write_atomic(path: str, data: bytes) -> None:
    """Whole or not at all, but not synced: everything here is a cache, checked when read (a file of the
    wrong size, a record that does not parse: made again). Ten fsyncs a photo in the workers were ten waits
    on the disk the build syncs the site to."""
    temp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
    with open(temp, "wb") as handle:
        handle.write(data)
    os.replace(temp, path)


def process(root: str, path: str, limit: int) -> tuple[str, dict[str, object]]:
    """In a worker: read the picture at ``path``, make its files (or find them made), keep them by digest.

    (its digest, its manifest). The manifest says the files made, or ``error``: what is wrong with it."""
    from .picturemake import PictureProblem, make  # Pillow: in the workers only

    with open(path, "rb") as handle:  # the build checked it is a regular file inside entries/
        data = handle.read(min(limit, MAX_PICTURE_BYTES) + 1)
    digest = hashlib.sha256(data).hexdigest()
    folder = _cache_folder(root, digest)
    manifest_path = os.path.join(folder, MANIFEST)
    with contextlib.suppress(OSError, ValueError), open(manifest_path, "rb") as handle:
        return digest, json.loads(handle.read())
    try:
        made = make(data)
    except PictureProblem as problem:
        manifest: dict[str, object] = {"error": str(problem)}
    except (MemoryError, RecursionError, RuntimeError, TypeError, IndexError, KeyError, struct.error) as err:
        # a decoder's own failure on a file it should have refused: said, and kept, like any refusal
        manifest = {"error": f"could not be read ({type(err).__name__}): it may be damaged; drop it again"}
    else:
        os.makedirs(folder, exist_ok=True)
        for name, _, _, _, encoded in made.files:
            _write_atomic(os.path.join(folder, name), encoded)
        manifest = {
            "width": made.width,
            "height": made.height,
            "read_as": made.read_as,
            "notes": list(made.notes),
            "files": [[name, fmt, w, h, len(data)] for name, fmt, w, h, data in made.files],
        }
    os.makedirs(folder, exist_ok=True)
    _write_atomic(manifest_path, json.dumps(manifest).encode())
    return digest, manifest


def picture_notes(entry: Entry, made: tuple[MadePicture, ...], display: str, text: str) -> tuple[Problem, ...]:
    """What is worth a look in how an entry's pictures were read (an animated GIF shows its first frame), as
    notices at the line of its image field."""
    if not any(m.notes for m in made):
        return ()
    try:
        source = read_entry(text.encode(), display)
    except InputError:  # pragma: no cover - the entry was read from this very text
        return ()
    one = not isinstance(source.front.get("image"), list)
    return tuple(
        Problem(display, source.line_of(("image",) if one else ("image", n)), f"image: '{picture.file}' {note}")
        for n, (picture, m) in enumerate(zip(entry.image, made, strict=False))
        for note in m.notes
    )


def _lower_priority() -> None:
    """A picture worker gives way to the build: the text entries of the night come first."""
    with contextlib.suppress(OSError, AttributeError):
        os.nice(10)


def _workers() -> int:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return max(1, min(4, cores - 1))


_Result = tuple[str, dict[str, object]]  # (digest, manifest): what ``process`` gives
_Job = tuple[str, int, "concurrent.futures.Future[_Result]"]


def _pass_on(done: concurrent.futures.Future[_Result], future: concurrent.futures.Future[_Result]) -> None:
    """A worker's answer, handed to the future the build holds."""
    import concurrent.futures

    error = done.exception() if not done.cancelled() else concurrent.futures.CancelledError()
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(done.result())


def _has_size(path: str, size: int) -> bool:
    try:
        return os.stat(path).st_size == size
    except OSError:
        return False


class PictureWork:
    """The pictures of one blog folder: what is made, what is being made, which entries wait for which."""

    def __init__(self, root: Path, *, blocking: bool = False, workers: int | None = None) -> None:
        self.root = os.path.abspath(root)
        self.entries = os.path.join(self.root, ENTRIES)
        self.blocking = blocking
        self.workers = workers or _workers()
        self.on_ready: Callable[[set[str]], None] | None = None
        self.users: dict[str, set[str]] = {}  # picture file name → entry files that name it
        self._lock = threading.Lock()
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()  # for the submitting thread
        self._submitter: threading.Thread | None = None
        self._running: dict[tuple[str, Signature], concurrent.futures.Future[tuple[str, dict[str, object]]]] = {}
        self._digests: dict[str, tuple[Signature, str]] = {}  # picture file name → (signature, digest)
        self._made: dict[str, MadePicture | str] = {}  # digest → made, or the problem found
        self._failed: dict[tuple[str, Signature], str] = {}  # a worker's own failure (it died): said, not kept
        self._seen_loaded = False
        self._shown: dict[str, list[str]] | None = None  # see SHOWN; read when first asked
        self._shown_dirty = False

    # -- what the build asks ----------------------------------------------------------------------

    def figures_for(self, entry: Entry, display: str, text: str) -> tuple[MadePicture, ...] | Waiting | list[Problem]:
        """The made pictures of ``entry`` (read from ``display``, whose ``text`` gives the lines), in its order."""
        self._load_seen()
        made: list[MadePicture] = []
        waiting: list[str] = []
        problems: list[tuple[int, str]] = []
        for number, picture in enumerate(entry.image):
            name = picture.file
            with self._lock:
                self.users.setdefault(name, set()).add(display)
            found = self._look_up(name)
            if isinstance(found, MadePicture):
                made.append(found)
            elif isinstance(found, str):
                problems.append((number, f"'{name}' {found}"))
            else:
                waiting.append(name)
        if problems:
            return self._problems(entry, display, text, problems)
        if waiting:
            return Waiting(tuple(waiting))
        return tuple(made)

    def _look_up(self, name: str) -> MadePicture | str | None:
        """The made picture; the problem with the file (a sentence after its name); None: being made."""
        path = os.path.join(self.entries, name)
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            return "is not in entries/: drop the picture beside the entry file (or check the name's spelling)"
        except OSError as err:
            return f"cannot be read ({err.strerror})"
        if stat.S_ISLNK(info.st_mode):
            real = os.path.realpath(path)
            if os.path.commonpath([real, os.path.realpath(self.entries)]) != os.path.realpath(self.entries):
                return "is a link to a file outside entries/: put the picture itself in entries/"
            try:
                info = os.stat(path)
            except OSError:
                return "is a link to nothing: put the picture itself in entries/"
        if not stat.S_ISREG(info.st_mode):
            return "is not a regular file (a folder, a pipe or a device)"
        if info.st_size > MAX_PICTURE_BYTES:  # (Pillow is loaded by the picture workers only, never by the build)
            return f"is {info.st_size / 1e6:,.1f} MB: a picture must be under {MAX_PICTURE_BYTES // 2**20} MB"
        if info.st_size == 0:
            return "is empty (0 bytes): the file did not arrive whole; drop it again"
        signature = of_stat(info)
        key = (name, signature)
        with self._lock:
            known = self._digests.get(name)
            if known is not None and known[0] == signature:
                made = self._made.get(known[1])
                if made is None:
                    made = self._read_manifest(known[1])
                if made is not None:
                    return made
            if key in self._failed:
                return self._failed[key]
            if key not in self._running:
                self._start(key, path, info.st_size)
        return None

    def _problems(self, entry: Entry, display: str, text: str, found: list[tuple[int, str]]) -> list[Problem]:
        try:
            source = read_entry(text.encode(), display)
        except InputError:  # pragma: no cover - the entry was read from this very text
            source = None
        one = source is None or not isinstance(source.front.get("image"), list)  # `image: NAME` or `{file: …}`
        problems = []
        for number, message in found:
            where = ("image",) if one else ("image", number)
            line = source.line_of(where) if source is not None else 0
            label = "image" if one else f"image[{number + 1}]"
            problems.append(Problem(display, line, f"{label}: {message}"))
        return problems

    # -- the workers ------------------------------------------------------------------------------

    def _start(self, key: tuple[str, Signature], path: str, size: int) -> None:
        """Queue a picture for the workers (called with the lock held). The build never waits here: the
        first picture starts the pool, which starts a process (~0.2-0.5 s), so the pool is started and
        handed its work by a thread of its own."""
        import concurrent.futures

        future: concurrent.futures.Future[tuple[str, dict[str, object]]] = concurrent.futures.Future()
        self._running[key] = future
        future.add_done_callback(lambda done: self._done(key, done))
        self._jobs.put((path, size, future))
        if self._submitter is None or not self._submitter.is_alive():
            self._submitter = threading.Thread(target=self._submit_all, name="countnight-pictures", daemon=True)
            self._submitter.start()

    def _submit_all(self) -> None:
        """The submitting thread: each queued picture handed to the pool (made anew when a worker died)."""
        while (job := self._jobs.get()) is not None:
            path, size, future = job
            try:
                try:
                    made = self._ensure_pool().submit(process, self.root, path, size)
                except RuntimeError:  # a pool broken by a worker that died (or shut down): a new one
                    self._pool = None
                    made = self._ensure_pool().submit(process, self.root, path, size)
            except Exception as err:  # never leave the build waiting on a picture no worker will make
                future.set_exception(err)
                continue
            made.add_done_callback(lambda done, future=future: _pass_on(done, future))

    def _ensure_pool(self) -> concurrent.futures.ProcessPoolExecutor:
        import concurrent.futures

        if self._pool is None:
            self._pool = concurrent.futures.ProcessPoolExecutor(
                self.workers, mp_context=multiprocessing.get_context("forkserver"), initializer=_lower_priority
            )
        return self._pool

    def _done(
        self, key: tuple[str, Signature], future: concurrent.futures.Future[tuple[str, dict[str, object]]]
    ) -> None:
        name, signature = key
        with self._lock:
            self._running.pop(key, None)
            try:
                digest, manifest = future.result()
            except OSError as err:
                self._failed[key] = f"cannot be read ({err.strerror or err})"
            except Exception as err:  # the worker died (killed, out of memory): said; a new file tries again
                self._failed[key] = (
                    f"could not be made: the picture worker failed ({type(err).__name__}); drop it again"
                )
            else:
                self._digests[name] = (signature, digest)
                self._made[digest] = self._from_manifest(digest, manifest)
                self._save_seen()
            users = set(self.users.get(name, ()))
        if self.on_ready is not None and users:
            with contextlib.suppress(Exception):  # the watcher's queue: never let a callback kill the pool's thread
                self.on_ready(users)

    def wait(self, timeout: float | None = None) -> bool:
        """Until no picture is being made (a one-off build, ``check``); False on timeout."""
        while True:
            with self._lock:
                running = list(self._running.values())
            if not running:
                return True
            import concurrent.futures  # (loaded already: a picture is being made)

            done, _ = concurrent.futures.wait(running, timeout=timeout)
            if len(done) < len(running) and timeout is not None:
                return False

    @property
    def busy(self) -> bool:
        with self._lock:
            return bool(self._running)

    def close(self) -> None:
        """Stop the workers (pictures being made are made again by the next run, from the file)."""
        submitter, self._submitter = self._submitter, None
        if submitter is not None:
            self._jobs.put(None)
            submitter.join()
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    # -- the cache --------------------------------------------------------------------------------

    def _from_manifest(self, digest: str, manifest: dict[str, object]) -> MadePicture | str:
        error = manifest.get("error")
        if isinstance(error, str):
            return error
        folder = _cache_folder(self.root, digest)
        files = manifest.get("files")
        if not isinstance(files, list):
            return "could not be made (its record in .countnight/pictures is damaged); drop it again"
        try:
            renditions = tuple(
                Rendition(f"{MEDIA}/{digest[:12]}-{name}", str(fmt), int(w), int(h), int(size))
                for name, fmt, w, h, size in files
            )
        except (TypeError, ValueError):
            return "could not be made (its record in .countnight/pictures is damaged); drop it again"
        notes = manifest.get("notes")
        return MadePicture(digest, renditions, folder, tuple(map(str, notes)) if isinstance(notes, list) else ())

    def _read_manifest(self, digest: str) -> MadePicture | str | None:
        """The made picture kept on disk (its files all there), or None: make it again."""
        folder = _cache_folder(self.root, digest)
        try:
            with open(os.path.join(folder, MANIFEST), "rb") as handle:
                manifest = json.loads(handle.read())
        except (OSError, ValueError):
            return None
        made = self._from_manifest(digest, manifest)
        if isinstance(made, MadePicture) and not all(_has_size(made.source(r), r.size) for r in made.renditions):
            return None  # a file missing or cut short (the cache is not synced): made again
        self._made[digest] = made
        return made

    def _load_seen(self) -> None:
        if self._seen_loaded:
            return
        self._seen_loaded = True
        try:
            with open(os.path.join(self.root, STATE, SEEN), "rb") as handle:
                seen = json.loads(handle.read())
            for name, (signature, digest) in seen.items():
                self._digests[name] = (tuple(signature), digest)  # type: ignore[assignment]
        except (OSError, ValueError, TypeError, AttributeError):
            return  # none yet, or damaged: each picture is read once more

    def _save_seen(self) -> None:
        folder = os.path.join(self.root, STATE)
        data = json.dumps({name: [list(sig), digest] for name, (sig, digest) in sorted(self._digests.items())})
        with contextlib.suppress(OSError):  # only a restart's shortcut is lost: it reads the pictures again
            os.makedirs(folder, exist_ok=True)
            _write_atomic(os.path.join(folder, SEEN), data.encode())

    # -- what each entry was shown with ----------------------------------------------------------

    def remember(self, ident: str, made: tuple[MadePicture, ...]) -> None:
        """The pictures an entry is shown with now: its last good version keeps them, across a restart too,
        when the file is later broken or its picture refused (the made files stay in the cache)."""
        digests = [m.digest for m in made]
        shown = self._load_shown()
        if shown.get(ident) != digests:
            shown[ident] = digests
            self._shown_dirty = True

    def shown(self, ident: str) -> tuple[MadePicture, ...]:
        """The pictures ``ident`` was last shown with, as made (none if their files are gone)."""
        found = []
        for digest in self._load_shown().get(ident, []):
            with self._lock:
                made = self._made.get(digest) or self._read_manifest(digest)
            if not isinstance(made, MadePicture):
                return ()
            found.append(made)
        return tuple(found)

    def save_shown(self) -> None:
        """Keep what each entry is shown with (after a build published it); OSError if it cannot be written."""
        if not self._shown_dirty or self._shown is None:
            return
        folder = os.path.join(self.root, STATE)
        os.makedirs(folder, exist_ok=True)
        _write_atomic(os.path.join(folder, SHOWN), json.dumps(self._shown, sort_keys=True).encode())
        self._shown_dirty = False

    def _load_shown(self) -> dict[str, list[str]]:
        if self._shown is None:
            self._shown = {}
            with contextlib.suppress(OSError, ValueError):
                with open(os.path.join(self.root, STATE, SHOWN), "rb") as handle:
                    loaded = json.loads(handle.read())
                if isinstance(loaded, dict):
                    self._shown = {k: v for k, v in loaded.items() if isinstance(v, list)}
        return self._shown

    def forget(self, names: Iterable[str]) -> set[str]:
        """Picture files that changed (file events): the entry files that name them, to be looked at again."""
        users: set[str] = set()
        with self._lock:
            for name in names:
                users |= self.users.get(name, set())
                # read again, whatever its signature says: two saves within one tick of the file system's clock
                # can keep it (uptodate.racy); reading it again finds its made files by digest, a few ms
                self._digests.pop(name, None)
        return users
