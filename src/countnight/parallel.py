"""Cold builds on every core: changed entry files are read, validated and rendered in worker processes.

A cold build of a long night spends most of its time in YAML, validation, Markdown and Jinja, one
entry at a time, all independent of each other. Above ``PARALLEL_MIN`` changed files the build hands
them to forked workers (the build's own process one of them; the others inherit the theme and the
rest by fork) and keeps what comes back in its caches; the rest of the build is unchanged. Below it,
starting workers costs more than it saves: a watch-mode rebuild of one file never comes here.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import hashlib
import multiprocessing
import os
import pickle
import select
import struct
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, NoReturn, TypeVar
from zoneinfo import ZoneInfo

import jinja2

from .entries import parse_entry
from .errors import InputError
from .fileio import write_all
from .fragments import view_and_fragment  # the same careful read and rendering the build uses
from .frontmatter import MAX_BYTES
from .lifeline import die_with
from .models import Context, Entry
from .reading import read_regular_stat
from .render import Theme
from .themefault import fault
from .uptodate import Signature, of_stat
from .views import EntryView

PARALLEL_MIN = 400
# Small spans: at the end of each phase the build's process waits for the spans the worker holds (the one it
# runs and those queued for it). At 32 a worker, 0.09-0.16 s of a cold build at 10,000 entries; at 96, 0.04-0.06 s.
_CHUNKS_PER_WORKER = 96

R = TypeVar("R")
T = TypeVar("T")


@dataclass(frozen=True)
class Prepared:
    """One entry file, read, validated and (if valid) rendered, as the build caches it."""

    display: str
    signature: Signature
    digest: str
    text: str
    entry: Entry | None
    error: InputError | None
    view: EntryView | None  # what the page shows of it (figures computed, version tag memoised)
    html: str | bytes | None  # the entry's <article> as the build keeps it (site.keep)


def usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def prepare(
    display: str,
    path: str,
    signature: Signature | None,
    context: Context,
    zone: ZoneInfo,
    theme: Theme,
    *,
    packed: bool,
    folder: int | None = None,
) -> Prepared | None:
    """Read, validate and render one entry file; None when it cannot be read (the build says why).

    ``signature``: the file's, as the build stat-ed it before; None: as it is opened here (before it is read),
    and None back for a file over the size limit, which the build reports. ``folder``: an open folder that
    ``path`` is a name in (see reading.read_regular_stat)."""
    try:
        found = read_regular_stat(path, dir_fd=folder)
    except OSError:
        return None
    if found is None:
        return None
    data, info = found
    if signature is None:
        if info.st_size > MAX_BYTES:
            return None
        signature = of_stat(info)
    digest = hashlib.sha256(data).hexdigest()
    text = data.decode("utf-8", errors="replace")
    try:
        entry = parse_entry(data, display, context)
    except InputError as err:
        return Prepared(display, signature, digest, text, None, err, None, None)
    try:
        view, html = view_and_fragment(entry, context.baseline, zone, theme, packed=packed, source=digest)
    except Exception as err:  # a template's error (even plain Python): the build renders it again, and reports it
        if not isinstance(err, jinja2.TemplateError) and fault(err) is None:
            raise
        return Prepared(display, signature, digest, text, entry, None, None, None)
    return Prepared(display, signature, digest, text, entry, None, view, html)


def prepare_many(
    theme: Theme,
    context: Context,
    zone: ZoneInfo,
    todo: Sequence[tuple[str, str, Signature | None]],
    workers: int,
    *,
    packed: bool,
    folder: int | None = None,
) -> Iterator[Prepared | None]:
    """Prepare every file in ``todo`` on ``workers`` cores (this process one of them), in order. ``folder``: an
    open folder that every path of ``todo`` is a name in (the workers share it)."""

    def span(start: int, stop: int) -> list[Prepared | None]:
        return [
            prepare(display, path, signature, context, zone, theme, packed=packed, folder=folder)
            for display, path, signature in todo[start:stop]
        ]

    for part in map_forked(span, len(todo), workers):
        yield from part


class Aside(Generic[T]):
    """A process forked to do one piece of work of its own while the build goes on (``fork_aside``)."""

    def __init__(self, pid: int, orders: int, ended: int) -> None:
        self.pid = pid
        self.parent = os.getpid()
        self._orders: int | None = orders  # the write end of the pipe it waits on for what to work on
        self._ended = ended  # the read end of a pipe only that process holds open: at its end, end of file
        self.done = False

    @property
    def handed(self) -> bool:
        """Whether it has been told what to work on (or to end): ``hand`` does nothing more."""
        return self._orders is None

    def hand(self, value: T | None) -> None:
        """What to work on (None: nothing, it ends): it starts now. Once; a second call, or one after ``wait``,
        does nothing. Said in a frame, not by closing the pipe: a process forked since holds its end too."""
        if self._orders is None:
            return
        data = b"" if value is None else pickle.dumps(value, pickle.HIGHEST_PROTOCOL)
        try:
            write_all(self._orders, _FRAME.pack(len(data)) + data)
        except OSError:  # it ended already (killed): the build does its work itself
            pass
        finally:
            os.close(self._orders)
            self._orders = None

    def wait(self) -> None:
        """Until it has ended; without work handed to it, it ends at once. From the process that forked it or
        from any forked since (a cold build's page workers), which cannot wait for another's child but see its
        pipe close."""
        if self.done:
            return
        if self._orders is not None and os.getpid() == self.parent:
            self.hand(None)  # nothing to do: it ends
        with contextlib.suppress(OSError):
            while os.read(self._ended, 4096):
                pass
        if os.getpid() == self.parent:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self.pid, 0)
            os.close(self._ended)
        self.done = True


def fork_aside(work: Callable[[T], object]) -> Aside[T] | None:
    """A forked process of its own that does ``work(value)`` once this one hands it ``value`` (``Aside.hand``),
    while this one goes on; None where none could be forked. Forked early, while this process is still small
    (forking a process after it has read 10,000 entries cost it ~5 ms, and then ~25 ms more copying the pages
    it wrote to that the other still shared), it waits on a pipe until it is told what to do.

    For work whose results it leaves where the build looks for them anyway (a cache on disk): nothing comes
    back, and work it did not finish, or failed at, is simply not found there (the build does it itself).
    The caller waits for it (``Aside.wait``) before it ends.
    """
    parent = os.getpid()
    orders, ordering = os.pipe()
    ended, holder = os.pipe()
    try:
        pid = os.fork()
    except OSError:  # no memory or processes to spare: the build does without
        for fd in (orders, ordering, ended, holder):
            os.close(fd)
        return None
    if pid == 0:
        code = 0
        try:
            os.close(ordering)
            os.close(ended)
            die_with(parent)
            with os.fdopen(orders, "rb") as told:
                head = told.read(_FRAME.size)
                data = told.read(_FRAME.unpack(head)[0]) if len(head) == _FRAME.size else b""
            if data:  # else nothing was handed to it (or this process is gone)
                work(pickle.loads(data))
        except BaseException:
            code = 1
        finally:
            os._exit(code)  # (its end of the pipe closes with it) as map_forked's workers: no atexit handlers
    os.close(orders)
    os.close(holder)
    return Aside(pid, ordering, ended)


@contextlib.contextmanager
def _shared_with_workers() -> Iterator[None]:
    """Keep the build's objects shared with forked workers: frozen, the collector never walks them (a
    collection in a worker writes to the header of every object it walks, copying the page it is on)."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def map_forked(
    work: Callable[[int, int], R], count: int, workers: int, *, alongside: Callable[[], object] | None = None
) -> list[R]:
    """``work(start, stop)`` over spans covering ``range(count)``, on ``workers`` cores; results in order.

    The calling process is one of the workers; the others are forked after ``work`` is set, so it can be
    any closure over the build's state, and only what they return travels back (pickled). Each process
    takes its next span itself, from a pair of counters in shared memory: this one from the front, the
    forked ones from the back, until the two ends meet wherever the cores' speeds put them. Nobody hands
    out work: with a pool, a thread of this process had to, and it waited for the lock this process's
    rendering held (5 ms at a time), so a forked worker sat idle a fifth of a cold build. A forked worker
    streams its results back through a pipe, which this process reads between its own spans.

    ``work`` must not raise: return the error instead, so every span's outcome (temp files to clean up,
    say) reaches the caller. If it raises anyway, the first error is raised here once every worker has
    stopped. A worker that dies (killed) takes nothing with it: this process makes the spans it took.

    ``alongside``: other work of this process's own (it must not raise either), done once the workers are
    forked, before it takes its first span. The workers take the spans it would have taken meanwhile, so work
    that would otherwise wait for them to finish, with a core idle, costs the build half its time. Without
    forked workers it is done first, here all the same.
    """
    size = max(1, -(-count // max(1, workers * _CHUNKS_PER_WORKER)))
    spans = [(i, min(count, i + size)) for i in range(0, count, size)]
    if workers < 2 or len(spans) < 2:
        if alongside is not None:
            alongside()
        return [work(*span) for span in spans]
    with _shared_with_workers():
        return _Spans(work, spans, alongside).run(min(workers - 1, len(spans) - 1))


_FRAME = struct.Struct("<Q")  # the length of the pickled (span, ok, value) that follows
_PIPE_BYTES = 1 << 20  # a worker's results wait in its pipe until this process looks: a span's are ~0.25 MB
_LOCK_WAIT = 5.0  # seconds; the counters' lock is held for microseconds, unless its holder was killed


class _Spans:
    """One map_forked call: the spans, who takes which, and what came back."""

    def __init__(
        self, work: Callable[[int, int], R], spans: list[tuple[int, int]], alongside: Callable[[], object] | None
    ) -> None:
        self.work = work
        self.spans = spans
        self.alongside = alongside
        context = multiprocessing.get_context("fork")
        self.lock = context.Lock()
        self.ends = context.RawArray("q", [0, len(spans)])  # next from the front; one past the next from the back
        self.results: dict[int, Any] = {}
        self.error: BaseException | None = None

    def take(self, *, front: bool) -> int | None:
        """The next span for this side, or None when none is left (or the lock's holder died)."""
        if not self.lock.acquire(timeout=_LOCK_WAIT):
            return None
        try:
            low, high = self.ends[0], self.ends[1]
            if low >= high:
                return None
            if front:
                self.ends[0] = low + 1
                return low
            self.ends[1] = high - 1
            return high - 1
        finally:
            self.lock.release()

    def stop(self) -> None:
        """No span is taken after this (those under way finish)."""
        if self.lock.acquire(timeout=_LOCK_WAIT):
            self.ends[1] = self.ends[0]
            self.lock.release()

    def run(self, children: int) -> list[Any]:
        readers: dict[int, bytearray] = {}  # read end of each worker's pipe → bytes not yet a whole frame
        pids: list[int] = []
        try:
            for _ in range(children):
                read, write = os.pipe()
                with contextlib.suppress(OSError, AttributeError):  # Linux: room for a few spans' results
                    fcntl.fcntl(write, fcntl.F_SETPIPE_SZ, _PIPE_BYTES)
                parent = os.getpid()
                try:
                    pid = os.fork()
                except OSError:  # no memory or processes to spare: the workers there are (maybe none) do it all
                    os.close(read)
                    os.close(write)
                    break
                if pid == 0:  # the worker: never returns
                    os.close(read)
                    for other in readers:
                        os.close(other)
                    self._serve(write, parent)
                os.close(write)
                os.set_blocking(read, False)
                readers[read] = bytearray()
                pids.append(pid)
            if self.alongside is not None:
                self.alongside()
            while (at := self.take(front=True)) is not None:
                self.results[at] = self.work(*self.spans[at])
                self._read(readers, wait=False)
            self._read(readers, wait=True)
        except BaseException:
            self.stop()
            self._read(readers, wait=True)  # let the workers finish the spans they hold
            raise
        finally:
            for fd in readers:
                os.close(fd)
            for pid in pids:
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(pid, 0)
        if self.error is not None:
            raise self.error
        for at, span in enumerate(self.spans):  # taken by a worker that died before it said
            if at not in self.results:
                self.results[at] = self.work(*span)
        return [self.results[at] for at in range(len(self.spans))]

    def _serve(self, write: int, parent: int) -> NoReturn:
        """A forked worker's life: spans from the back, each result down the pipe, until none is left."""
        code = 0
        try:
            die_with(parent)
            while (at := self.take(front=False)) is not None:
                try:
                    outcome = (at, True, self.work(*self.spans[at]))
                except BaseException as err:
                    outcome = (at, False, err)
                try:
                    data = pickle.dumps(outcome, pickle.HIGHEST_PROTOCOL)
                except Exception as err:  # an unpicklable error: its text still reaches the build
                    data = pickle.dumps((at, False, RuntimeError(f"in a worker: {outcome[2]!r} ({err})")))
                write_all(write, _FRAME.pack(len(data)) + data)
                if not outcome[1]:
                    break
        except BaseException:
            code = 1
        finally:
            os._exit(code)  # no atexit handlers, no flushing of buffers this process inherited

    def _read(self, readers: dict[int, bytearray], *, wait: bool) -> None:
        """Take in whatever the workers have sent; with ``wait``, until each has closed its pipe."""
        poller = select.poll()
        for fd in readers:
            poller.register(fd, select.POLLIN)
        open_fds = set(readers)
        while open_fds:
            for fd in list(open_fds):
                while True:
                    try:
                        chunk = os.read(fd, _PIPE_BYTES)
                    except BlockingIOError:
                        break
                    if not chunk:
                        open_fds.discard(fd)
                        poller.unregister(fd)
                        break
                    self._frames(readers[fd], chunk)
            if not wait:
                return
            if open_fds:
                poller.poll()

    def _frames(self, buffer: bytearray, chunk: bytes) -> None:
        buffer += chunk
        while len(buffer) >= _FRAME.size:
            (length,) = _FRAME.unpack_from(buffer)
            end = _FRAME.size + length
            if len(buffer) < end:
                return
            at, ok, value = pickle.loads(memoryview(buffer)[_FRAME.size : end])
            del buffer[:end]
            if ok:
                self.results[at] = value
            elif self.error is None:
                self.error = value
                self.stop()
