"""Cold builds on every core: changed entry files are read, validated and rendered in worker processes.

A cold build of a long night spends most of its time in YAML, validation, Markdown and Jinja, one
entry at a time, all independent of each other. Above ``PARALLEL_MIN`` changed files the build hands
them to a pool of forked workers (each with its own theme) and keeps what comes back in its caches;
the rest of the build is unchanged. Below it, starting workers costs more than it saves: a watch-mode
rebuild of one file never comes here.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import multiprocessing
import os
import signal
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from .entries import parse_entry
from .errors import InputError
from .models import Context, Entry
from .render import Theme, load_theme, render_entry
from .views import EntryView, make_view

PARALLEL_MIN = 400
_PR_SET_PDEATHSIG = 1  # prctl(2)
_CHUNKS_PER_WORKER = 8

Signature = tuple[int, int, int]
R = TypeVar("R")


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
    html: bytes | None  # the entry's <article>, packed (site.pack)


def usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def prepare(
    display: str, path: str, signature: Signature, context: Context, zone: ZoneInfo, theme: Theme
) -> Prepared | None:
    """Read, validate and render one entry file; None when it cannot be read (the build says why)."""
    from .site import pack, read_regular  # the same careful read the build uses

    try:
        data = read_regular(path)
    except OSError:
        return None
    if data is None:
        return None
    digest = hashlib.sha256(data).hexdigest()
    text = data.decode("utf-8", errors="replace")
    try:
        entry = parse_entry(data, display, context)
    except InputError as err:
        return Prepared(display, signature, digest, text, None, err, None, None)
    view = make_view(entry, context.baseline, zone)
    return Prepared(display, signature, digest, text, entry, None, view, pack(render_entry(theme, view)))


# What each worker process holds, set once by _start (fork hands the arguments over without pickling).
_worker: tuple[Context, ZoneInfo, Theme] | None = None


def _start(root: Path, context: Context, zone: ZoneInfo, parent: int) -> None:
    global _worker
    _die_with(parent)
    _worker = (context, zone, load_theme(root))


def _die_with(parent: int) -> None:
    """End this worker when the build's process ends, however it ends.

    A worker outliving a SIGKILLed (or OOM-killed) watcher waits on the task queue for ever: it holds the
    queue's write end too, so it never sees EOF. A watcher restarted after each crash would pile them up.
    """
    with contextlib.suppress(OSError, AttributeError):  # Linux only; elsewhere a worker may outlive a crash
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the build died before prctl took effect
        os._exit(1)


def _run(chunk: Sequence[tuple[str, str, Signature]]) -> list[Prepared | None]:
    assert _worker is not None
    context, zone, theme = _worker
    return [prepare(display, path, signature, context, zone, theme) for display, path, signature in chunk]


def prepare_many(
    root: Path, context: Context, zone: ZoneInfo, todo: Sequence[tuple[str, str, Signature]], workers: int
) -> Iterator[Prepared | None]:
    """Prepare every file in ``todo`` across ``workers`` processes, in order."""
    size = max(1, len(todo) // (workers * _CHUNKS_PER_WORKER))
    chunks = [todo[i : i + size] for i in range(0, len(todo), size)]
    # fork: the workers start in milliseconds with everything already imported (spawn would re-import
    # pydantic and Jinja in each, about half a second).
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_start,
        initargs=(root, context, zone, os.getpid()),
    ) as pool:
        for prepared in pool.map(_run, chunks):
            yield from prepared


# The function map_forked's workers call, set before they are forked so they inherit it (and everything it
# refers to: the night, the theme) without a byte of it being pickled.
_forked: Callable[[int, int], Any] | None = None


def _forked_start(parent: int) -> None:
    _die_with(parent)


def _call_forked(span: tuple[int, int]) -> Any:
    assert _forked is not None
    return _forked(*span)


def map_forked(work: Callable[[int, int], R], count: int, workers: int) -> list[R]:
    """``work(start, stop)`` over spans covering ``range(count)``, in forked workers; results in order.

    The workers are forked after ``work`` is set, so it can be any closure over the build's state; only
    what it returns travels back (pickled). ``work`` must not raise: return the error instead, so every
    span's outcome (temp files to clean up, say) reaches the caller.
    """
    global _forked
    spans = max(1, workers * _CHUNKS_PER_WORKER)
    size = max(1, -(-count // spans))
    _forked = work
    try:
        with ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("fork"),
            initializer=_forked_start,
            initargs=(os.getpid(),),
        ) as pool:
            return list(pool.map(_call_forked, [(i, min(count, i + size)) for i in range(0, count, size)]))
    finally:
        _forked = None
