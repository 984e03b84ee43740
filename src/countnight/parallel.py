"""Cold builds on every core: changed entry files are read, validated and rendered in worker processes.

A cold build of a long night spends most of its time in YAML, validation, Markdown and Jinja, one
entry at a time, all independent of each other. Above ``PARALLEL_MIN`` changed files the build hands
them to forked workers (the build's own process one of them; the others inherit the theme and the
rest by fork) and keeps what comes back in its caches; the rest of the build is unchanged. Below it,
starting workers costs more than it saves: a watch-mode rebuild of one file never comes here.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import hashlib
import multiprocessing
import os
import signal
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import jinja2

from .entries import parse_entry
from .errors import InputError
from .models import Context, Entry
from .render import Theme
from .views import EntryView

PARALLEL_MIN = 400
_PR_SET_PDEATHSIG = 1  # prctl(2)
# Small spans: at the end of each phase the build's process waits for the spans the worker holds (the one it
# runs and those queued for it). At 32 a worker, 0.09-0.16 s of a cold build at 10,000 entries; at 96, 0.04-0.06 s.
_CHUNKS_PER_WORKER = 96

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
    html: str | bytes | None  # the entry's <article> as the build keeps it (site.keep)


def usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def prepare(
    display: str, path: str, signature: Signature, context: Context, zone: ZoneInfo, theme: Theme, *, packed: bool
) -> Prepared | None:
    """Read, validate and render one entry file; None when it cannot be read (the build says why)."""
    from .site import read_regular, view_and_fragment  # the same careful read and rendering the build uses

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
    try:
        view, html = view_and_fragment(entry, context.baseline, zone, theme, packed=packed)
    except jinja2.TemplateError:  # the build renders it again in its own process, which reports the error
        return Prepared(display, signature, digest, text, entry, None, None, None)
    return Prepared(display, signature, digest, text, entry, None, view, html)


def _die_with(parent: int) -> None:
    """End this worker when the build's process ends, however it ends.

    A worker outliving a SIGKILLed (or OOM-killed) watcher waits on the task queue for ever: it holds the
    queue's write end too, so it never sees EOF. A watcher restarted after each crash would pile them up.
    """
    with contextlib.suppress(OSError, AttributeError):  # Linux only; elsewhere a worker may outlive a crash
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the build died before prctl took effect
        os._exit(1)


def prepare_many(
    theme: Theme,
    context: Context,
    zone: ZoneInfo,
    todo: Sequence[tuple[str, str, Signature]],
    workers: int,
    *,
    packed: bool,
) -> Iterator[Prepared | None]:
    """Prepare every file in ``todo`` on ``workers`` cores (this process one of them), in order."""

    def span(start: int, stop: int) -> list[Prepared | None]:
        return [
            prepare(display, path, signature, context, zone, theme, packed=packed)
            for display, path, signature in todo[start:stop]
        ]

    for part in map_forked(span, len(todo), workers):
        yield from part


# The function map_forked's workers call, set before they are forked so they inherit it (and everything it
# refers to: the night, the theme) without a byte of it being pickled.
_forked: Callable[[int, int], Any] | None = None


@contextlib.contextmanager
def _shared_with_workers() -> Iterator[None]:
    """Keep the build's objects shared with forked workers: frozen, the collector never walks them (a
    collection in a worker writes to the header of every object it walks, copying the page it is on)."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _call_forked(span: tuple[int, int]) -> Any:
    assert _forked is not None
    return _forked(*span)


def map_forked(work: Callable[[int, int], R], count: int, workers: int) -> list[R]:
    """``work(start, stop)`` over spans covering ``range(count)``, on ``workers`` cores; results in order.

    The calling process is one of the workers. Every span is offered to the ``workers - 1`` forked
    processes, last span first, and this process works through them from the front, taking back each
    span that no worker has started yet (a queued future can be cancelled; one a worker holds cannot).
    The two ends meet wherever the cores' speeds put them, and a forked worker never waits for this
    process to hand it more (it did when spans were handed out two at a time: a worker finished its
    cheap share pages, then idled while this process made a span of older pages). One process fewer
    copies the build's memory. The forked ones are forked after ``work`` is set, so it can be any closure
    over the build's state; only what they return travels back (pickled). ``work`` must not raise: return
    the error instead, so every span's outcome (temp files to clean up, say) reaches the caller.
    """
    global _forked
    size = max(1, -(-count // max(1, workers * _CHUNKS_PER_WORKER)))
    spans = [(i, min(count, i + size)) for i in range(0, count, size)]
    results: list[R | None] = [None] * len(spans)
    if workers < 2:
        return [work(*span) for span in spans]
    _forked = work
    try:
        with (
            _shared_with_workers(),
            ProcessPoolExecutor(
                max_workers=workers - 1,
                mp_context=multiprocessing.get_context("fork"),
                initializer=_die_with,
                initargs=(os.getpid(),),
            ) as pool,
        ):
            offered: dict[int, Future[R]] = {
                at: pool.submit(_call_forked, spans[at]) for at in reversed(range(len(spans)))
            }
            try:
                for at in range(len(spans)):
                    if not offered[at].cancel():
                        break  # a worker has this span, and every one after it
                    del offered[at]
                    results[at] = work(*spans[at])
                for at, future in offered.items():
                    results[at] = future.result()
            except BaseException:  # a template that fails at render time, say: the workers stop there too
                pool.shutdown(cancel_futures=True)
                raise
        return results  # type: ignore[return-value]
    finally:
        _forked = None
