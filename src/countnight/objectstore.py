"""The object-store outlet: every build's changes mirrored into an S3-compatible store, beside the build.

An outlet (changes.Outlet) is sent what a build changed and never looks at the build's state. It keeps
only the paths (``take(written, removed)``) and reads the bytes from the output folder, which is the source
of truth and has them first, when it uploads them. The build only adds the paths to a set and goes on;
one thread of the outlet's own uploads them, so a slow, failing or absent store never slows the local
site. When the store fails, the paths stay in the set, later builds' paths join them, and the thread tries
again with backoff (1, 2, 4 … 30 s), saying how far behind the store is. Each try reads the folder as it
is then, so a store that was away catches up in one ordered round, however many builds it missed.

Within a round the order is storeplan's: what a file names goes up before it, ``index.html`` and
``live.json`` last, deletions after every upload (so a withdrawal reaches live.json before its share page
goes). The first round of a run lists the store and compares it with the folder (storerecord.py): a
store emptied or edited by hand is repaired, and a restart uploads only what differs. So does the first
round after the store was unreachable.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from . import storerecord
from .changes import Changes
from .console import VERBOSE, Console
from .s3store import Store, StoreError
from .storeplan import ObjectMeta, body, is_site_file, named_by, object_meta, references, upload_waves

_MD5 = re.compile(r"^[0-9a-f]{32}$")
_SCANNED = (".html", ".json", ".xml", ".css", ".svg")  # the kinds of file that name others
_REREADS = 3  # a file read mid-build may name one the build has not written yet: read again, this often
_HOLD_MAX = 5.0  # seconds a file naming a missing one waits for it before it goes up all the same


@dataclass(frozen=True)
class OutletState:
    """How the store stands, for the console, the preview banner and tests."""

    behind: int  # builds taken whose changes are not all in the store yet
    failures: int  # tries in a row that failed
    error: str | None  # why the last try failed
    lasting: bool  # that error needs someone to act (credentials, the bucket)
    retry_in: float | None  # seconds to the next try while failing
    uploaded: int  # objects put since start
    deleted: int  # objects deleted since start
    rounds: int  # rounds done since start


@dataclass
class _Upload:
    payload: bytes
    meta: ObjectMeta
    md5: str
    names: set[str]  # the site's files it names


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def plural(count: int, word: str, words: str | None = None) -> str:
    """``1 build``, ``3 builds``; ``words`` where adding an s is wrong."""
    return f"{count} {word if count == 1 else words or word + 's'}"


class ObjectStoreOutlet:
    """Mirrors ``out`` into ``store`` after every build; ``start()``, then ``send()`` per build, ``stop()``."""

    needs: frozenset[str] = frozenset()  # it uploads from the folder: no file of a build's changes need be made

    def __init__(
        self,
        out: Path,
        store: Store,
        record: Path,
        *,
        console: Console | None = None,
        max_age: int = 10,
        compress: bool = False,
        base_url: str | None = None,
        purge: Callable[[list[str]], None] | None = None,
        workers: int = 8,
        backoff: float = 1.0,
        backoff_max: float = 30.0,
    ) -> None:
        self.out = out
        self.store = store
        self.record = record
        self.console = console or Console()
        self.max_age, self.compress, self.base_url = max_age, compress, base_url
        self.purge = purge
        self.backoff, self.backoff_max = backoff, backoff_max
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="countnight-upload")
        self._cond = threading.Condition()
        self._dirty: dict[str, None] = {}  # paths to look at again (insertion-ordered: a set that keeps order)
        self._full = True  # list the store and compare everything: at start, and after the store failed
        self._busy = False
        self._stopping = False
        self._taken = 0  # builds taken
        self._done = 0  # builds whose changes are all in the store
        self._failures = 0
        self._error: str | None = None
        self._lasting = False
        self._retry_at: float | None = None
        self._uploaded = self._deleted = self._rounds = 0
        self._have: dict[str, storerecord.Entry] = {}  # name → (md5, ETag): what the store holds, as far as known
        self._foreign: set[str] = set()  # objects under the prefix that countnight did not put there
        self._dangling_since: dict[str, float] = {}  # a file naming a missing one → when it was first held back
        self._record_due = False  # the store changed since the record was last written
        self._lacking: dict[str, set[str]] = {}  # a stored file → the files it names the store lacks (_unsound)
        self._thread: threading.Thread | None = None

    # -- what the build and the commands call ------------------------------------------------------

    def take(self, written: Iterable[str], removed: Iterable[str], *, build: bool = True) -> None:
        """One build's changes: the paths it wrote and removed, in order. Returns at once. ``build=False``:
        files another outlet wrote into the folder after the build (the live channel's messages and head),
        which go up like the build's but are not a build the store can be behind by."""
        with self._cond:
            for name in written:
                self._dirty[name] = None
            for name in removed:
                self._dirty[name] = None
            self._taken += build
            self._cond.notify_all()

    def send(self, changes: Changes) -> None:
        """changes.Outlet: a build's changes. Only their paths are used; the bytes are read from the output
        folder when they go up (the folder has them first, and a store that fell behind sends the newest)."""
        if changes.complete:  # no previous build to compare with: list the store and compare everything
            with self._cond:
                self._full = True
        self.take(changes.ordered(), sorted(changes.deleted))

    def start(self) -> None:
        if self._thread is None:
            self.console.info(f"publishing to {self.store.target} at {self.store.where}")
            self._thread = threading.Thread(target=self._run, name="countnight-objectstore", daemon=True)
            self._thread.start()

    def stop(self, drain: float = 10.0) -> None:
        """Finish what is pending for up to ``drain`` seconds while the store answers, then stop. Whatever is
        left is picked up by the next run's first round."""
        if drain > 0 and self._failures == 0:
            self.wait_caught_up(drain)
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(max(drain, 1.0))
        self._pool.shutdown(wait=False, cancel_futures=True)

    def wait_caught_up(self, timeout: float) -> bool:
        """Block until every build taken so far is in the store (and the first round is done); False on timeout."""
        with self._cond:
            return self._cond.wait_for(self._caught_up, timeout)

    def state(self) -> OutletState:
        with self._cond:
            retry = None if self._retry_at is None else max(0.0, self._retry_at - time.monotonic())
            return OutletState(
                self._taken - self._done,
                self._failures,
                self._error,
                self._lasting,
                retry,
                self._uploaded,
                self._deleted,
                self._rounds,
            )

    def _caught_up(self) -> bool:
        return not (self._dirty or self._full or self._busy) and self._done == self._taken

    # -- the outlet's thread -----------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._stopping or self._dirty or self._full or self._done < self._taken)
                if self._stopping:
                    break
                seq, names, full = self._taken, list(self._dirty), self._full
                self._dirty.clear()
                self._busy = True
            started = time.monotonic()
            try:
                if full:
                    names = self._reconcile() + names
                    with self._cond:
                        self._full = False
                held, changed = self._round(names, full)
            except Exception as err:  # StoreError, or the disk: the paths wait for the next try
                self._failed(names, err)
                continue
            if changed and self.purge is not None:  # part of the round: it counts as done once the CDN is told
                try:
                    self.purge(changed)
                except Exception as err:  # the CDN keeps the old copy until its max-age: say so, go on
                    self.console.warning(f"CDN purge failed ({type(err).__name__}: {err})")
            self._succeeded(seq, held, changed, time.monotonic() - started)
            # The record (a megabyte at 10,000 entries, written and synced) after the round is out, and only
            # once nothing else waits: a build that came meanwhile goes up first. A record a kill leaves stale
            # costs a few uploads again at most: the listing at start decides what the store holds.
            self._record_due = self._record_due or bool(changed) or full
            with self._cond:
                idle = not (self._dirty or self._full or self._done < self._taken)
            if self._record_due and idle:
                self._record_due = False
                self._save_record()
        if self._record_due:
            self._save_record()

    def _save_record(self) -> None:
        try:
            storerecord.save(self.record, str(self.store.target), self._have)
        except OSError as err:  # only a restart's shortcut is lost (the listing at start still decides)
            self.console.warning(f"could not record what the store holds ({err.strerror or err})")

    def _failed(self, names: list[str], err: Exception) -> None:
        reason = str(err) if isinstance(err, StoreError) else f"{type(err).__name__}: {err}"
        with self._cond:
            for name in names:
                self._dirty[name] = None
            self._full = True  # the store may come back emptied or changed: list it again
            self._busy = False
            self._failures += 1
            delay = min(self.backoff_max, self.backoff * 2 ** (self._failures - 1))
            self._error = reason
            self._lasting = isinstance(err, StoreError) and err.lasting
            self._retry_at = time.monotonic() + delay
            behind = self._taken - self._done
            self._cond.notify_all()
        lag = f"{plural(behind, 'build')} behind" if behind else "not up to date"
        self.console.warning(f"store {lag}, retrying in {delay:.0f} s: {reason}")
        with self._cond:
            self._cond.wait_for(lambda: self._stopping, delay)

    def _succeeded(self, seq: int, held: set[str], changed: list[str], seconds: float) -> None:
        with self._cond:
            if held:  # they wait on the build: give its next take a moment to come before trying them again
                self._cond.wait_for(lambda: self._stopping or self._taken > seq, 0.05)
            recovered = self._failures
            for name in held:  # deletions that wait for the page naming them to change
                self._dirty[name] = None
            self._done = max(self._done, seq)
            self._busy = False
            self._failures = 0
            self._error = self._retry_at = None
            self._lasting = False
            self._rounds += 1
            self._cond.notify_all()
        if recovered:
            tries = plural(recovered, "failed try", "failed tries")
            self.console.info(f"store caught up after {tries}: {plural(len(changed), 'object')} changed")
        elif changed:
            self.console.info(f"store: {plural(len(changed), 'object')} changed ({seconds * 1000:.0f} ms)", VERBOSE)

    # -- a round -----------------------------------------------------------------------------------

    def _reconcile(self) -> list[str]:
        """List the store, compare it with the record and the folder: every name to look at."""
        recorded = storerecord.load(self.record)
        have: dict[str, storerecord.Entry] = {}
        for item in self.store.list():
            entry = recorded.get(item.name)
            if entry is not None and entry[1] == item.etag:
                have[item.name] = entry
            else:  # the ETag of a plain upload is the MD5 of its bytes; anything else is uploaded again
                have[item.name] = (item.etag if _MD5.match(item.etag) else "", item.etag)
        local = self._local_names()
        present = set(local)
        strays = [name for name in have if name not in present]
        # An object with no record and no local file: countnight's (its mark) goes, anyone else's stays.
        self._foreign = {n for n in strays if n not in recorded and (not is_site_file(n) or not self.store.ours(n))}
        if self._foreign:
            self.console.warning(f"store: leaving {plural(len(self._foreign), 'object')} countnight did not put there")
        self._have = have
        return local + strays

    def _local_names(self) -> list[str]:
        names: list[str] = []
        base = os.fspath(self.out)
        for folder, dirs, files in os.walk(base):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            relative = os.path.relpath(folder, base)
            prefix = "" if relative == "." else relative.replace(os.sep, "/") + "/"
            names += [prefix + f for f in files if not f.startswith(".")]
        return names

    def _round(self, names: list[str], full: bool = False) -> tuple[set[str], list[str]]:
        """Upload and delete what ``names`` need, in order; (names held back for a later round, names changed).
        ``full``: the store was just listed (``_plan``)."""
        for attempt in range(_REREADS):
            uploads, deletes, dangling = self._plan(names, full and attempt == 0)
            if not dangling or attempt == _REREADS - 1:
                break
            time.sleep(0.005 * (attempt + 1))  # the build is renaming its files into place: read them again
        waiting = self._hold_back(uploads, dangling)
        stored = self._have.keys()
        for wave in upload_waves({name: up.names for name, up in uploads.items()}, stored):
            self._put(wave, uploads)
        # A deletion waits while an upload names it, or while files are held back (their versions in the
        # store may name it).
        held = set(deletes) if waiting else named_by({n: u.names for n, u in uploads.items()}, deletes)
        gone = sorted(deletes - held)
        if gone:
            self.store.delete(gone)
            for name in gone:
                self._have.pop(name, None)
            with self._cond:
                self._deleted += len(gone)
        return held | waiting, [*uploads, *gone]

    def _hold_back(self, uploads: dict[str, _Upload], dangling: set[str]) -> set[str]:
        """Take out of ``uploads`` every file that names one neither in the store nor in the folder (the build
        is still writing it: a feed is written before the share pages it lists), and every new file that names
        one taken out; they wait for the next round. A file still naming a missing one after ``_HOLD_MAX``
        seconds goes up all the same: the site itself has a link to nothing, and the page must still go out."""
        now = time.monotonic()
        held = {n for n, up in uploads.items() if up.names & dangling}
        grew = True
        while grew:
            more = {n for n, up in uploads.items() if n not in held and any(t in held for t in up.names)}
            grew = bool(more)
            held |= more
        for name in list(self._dangling_since):
            if name not in held:
                del self._dangling_since[name]
        waiting = {n for n in held if now - self._dangling_since.setdefault(n, now) < _HOLD_MAX}
        for name in waiting:
            del uploads[name]
        return waiting

    def _plan(self, names: Iterable[str], full: bool = False) -> tuple[dict[str, _Upload], set[str], set[str]]:
        """(uploads, deletions, names named but neither in the store nor in the folder). ``full``: the store
        was just listed; what the files it holds unchanged name is looked at too (``_unsound``)."""
        uploads: dict[str, _Upload] = {}
        deletes: set[str] = set()
        stored: dict[str, set[str]] = {}  # full: files the store holds as the folder has them → what they name
        queue = list(names)
        # Only a file the store lacks can leave another unsound: with none (a clean restart), nothing to read.
        full = full and any(name not in self._have for name in queue if is_site_file(name))
        seen: set[str] = set()
        while queue:
            name = queue.pop()
            if name in seen or not is_site_file(name):
                continue
            seen.add(name)
            try:
                data = (self.out / name).read_bytes()
            except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
                if name in self._have and name not in self._foreign:
                    deletes.add(name)
                continue
            meta = object_meta(name, max_age=self.max_age, compress=self.compress)
            payload = body(data, meta)
            md5 = _md5(payload)
            if self._have.get(name, ("", ""))[0] == md5:
                if full and name.endswith(_SCANNED):
                    stored[name] = references(name, data, self.base_url)
                continue
            named = references(name, data, self.base_url) if name.endswith(_SCANNED) else set()
            uploads[name] = _Upload(payload, meta, md5, named)
            queue += [target for target in named if target not in self._have and target not in seen]
        if full:
            self._lacking = self._unsound(stored, uploads)
        have = self._have.keys()
        self._lacking = {name: lack - have for name, lack in self._lacking.items() if not lack <= have}
        for up in uploads.values():  # naming such a file is naming what it lacks
            up.names |= {t for target in up.names & self._lacking.keys() for t in self._lacking[target]}
        dangling = {t for up in uploads.values() for t in up.names if t not in self._have and t not in uploads}
        return uploads, deletes, dangling

    def _unsound(self, stored: dict[str, set[str]], uploads: dict[str, _Upload]) -> dict[str, set[str]]:
        """Files the store holds that name, themselves or through others it holds, a file it lacks: each → the
        files it lacks (which this round uploads).

        A round cut off (the process killed, the store failing) can leave in the store new files that name
        each other without all of them (upload_waves: nothing a reader reaches names them yet). Taken as sound,
        they would let a later upload that names one make the gap reachable: a restart's new older page
        naming a stored page whose own older page never went up. So an upload naming such a file waits for
        what it lacks, as if it named that itself."""
        namers: dict[str, list[str]] = {}
        for name, targets in stored.items():
            for target in targets:
                namers.setdefault(target, []).append(name)
        lacking: dict[str, set[str]] = {}
        for missing in [t for t in namers if t not in self._have and t in uploads]:
            found, stack = {missing}, [missing]
            while stack:
                for name in namers.get(stack.pop(), ()):
                    if name not in found:
                        found.add(name)
                        lacking.setdefault(name, set()).add(missing)
                        stack.append(name)
        return lacking

    def _put(self, wave: list[str], uploads: dict[str, _Upload]) -> None:
        """One wave side by side; what went up is kept even when another failed (then that error is raised).

        The largest object goes up from this thread while the pool sends the rest: a wave of one (the feed,
        or live.json and the index when alone) then never waits for a pool thread to be woken, which on a
        loaded machine can cost more than the request itself."""
        own = max(wave, key=lambda name: len(uploads[name].payload))
        futures = {name: self._pool.submit(self._put_one, name, uploads[name]) for name in wave if name != own}
        answers: dict[str, str | BaseException] = {}
        try:
            answers[own] = self._put_one(own, uploads[own])
        except Exception as err:
            answers[own] = err
        for name, future in futures.items():
            try:
                answers[name] = future.result()
            except BaseException as err:  # a cancelled future (the pool shut down) too
                answers[name] = err
        error: BaseException | None = None
        done = 0
        for name in wave:
            etag = answers[name]
            if isinstance(etag, BaseException):
                error = error or etag
                continue
            self._have[name] = (uploads[name].md5, etag or uploads[name].md5)
            self._lacking.pop(name, None)  # the store holds the folder's version now, which names what it names
            done += 1
        with self._cond:
            self._uploaded += done
        if error is not None:
            raise error

    def _put_one(self, name: str, upload: _Upload) -> str:
        return self.store.put(name, upload.payload, upload.meta, upload.md5)


def describe(state: OutletState) -> str | None:
    """The line the preview banner shows while the store is behind, or None when it is up to date."""
    if state.error is None:
        return None
    retry = f", retrying in {state.retry_in:.0f} s" if state.retry_in is not None else ""
    lag = f"{plural(state.behind, 'build')} behind" if state.behind else "not up to date"
    return f"store {lag}{retry}: {state.error}"
