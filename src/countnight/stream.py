"""The stream: the entries readers are shown now, oldest first, with their views and <article>s, the
scheduled entries whose time has not come, and the ids readers were shown that are gone. The build updates
it from the ids whose entry changed and makes the night the pages are rendered from.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from datetime import datetime

from .elections import Scoreboard, SeatTally
from .figures import MadePicture
from .fragments import Fragment, Fragments, view_and_fragment
from .journal import Journal
from .models import Entry, ResultEntry, SummaryEntry
from .night import Night
from .readstate import ReadState
from .report import BuildReport
from .rules import Setup
from .seats import seat_key
from .views import EntryView


class Stream:
    """The shown entries and what the pages need of them, kept between builds."""

    def __init__(self, read: ReadState, *, long_lived: bool = False) -> None:
        self.read = read  # the entries the stream considers, and what a cold build's workers made of them
        self.long_lived = long_lived  # a watcher keeps fragments compressed (see fragments.keep)
        # id → (the entry, its view, its <article>): reused while the parsed entry is the same object
        self.views: dict[str, tuple[Entry, EntryView, Fragment]] = {}  # the <article>: see fragments.keep
        self.recent_fragments: dict[str, tuple[bytes, str]] = {}  # see fragments.Fragments
        self.order_keys: dict[str, tuple[Entry, tuple[float, str]]] = {}  # id → (entry, its sort key)
        self.oldest_first: list[EntryView] = []  # the shown entries, oldest first
        self.live: dict[str, EntryView] = {}  # id → its view in the stream
        self.scheduled: dict[str, Entry] = {}  # published, their time not yet come
        self.summaries: set[str] = set()  # ids of summaries in the stream
        self.keyed: set[str] = set()  # ids of key events in the stream
        self.pinned: set[str] = set()  # ids of pinned entries in the stream
        self.pictured: set[str] = set()  # ids of entries in the stream with pictures
        self.removed: dict[str, str] = {}  # id → why readers no longer see it
        self.at: datetime | None = None  # the `now` of the last stream update; None: start afresh
        self.results: list[EntryView] | None = None
        # seat → its results in the stream, oldest first (None: to be found again, by a walk of the whole stream)
        self.seat_results: dict[str, list[EntryView]] | None = None
        # seats whose results came or went since the results were worked out (with seat_results; without it, a
        # reset, every build's night is made with ``changed`` None and counts every seat)
        self.recount: set[str] = set()
        self.counted: dict[str, EntryView] = {}  # seat → the result that counts (its newest)
        self.counted_oldest_first: list[EntryView] = []  # those, oldest first
        self.tally: SeatTally | None = None  # the scoreboard of those
        self.board: Scoreboard | None = None
        self.unrecorded: set[str] = set()  # shown ids the journal may not hold yet

    def order(self, entry: Entry) -> tuple[float, str]:
        """Stream order (time, then id), kept per entry: aware datetimes compare through their zone each time."""
        cached = self.order_keys.get(entry.id)
        if cached is None or cached[0] is not entry:
            cached = (entry, (entry.time.timestamp(), entry.id))
            self.order_keys[entry.id] = cached
        return cached[1]

    def update(
        self,
        setup: Setup,
        journal: Journal,
        touched: set[str],
        now: datetime,
        report: BuildReport,
        *,
        reset: bool,
        pages_stale: bool = False,
    ) -> set[str] | None:
        """Put the touched entries in (or out of) the stream; the ids whose view changed (None: all may have).

        The stream is kept oldest first, so a new entry is a binary-search insert, not a sort of the night.
        """
        changed: set[str] = set()
        if reset:
            self.oldest_first, self.live, self.scheduled = [], {}, {}
            self.summaries, self.keyed, self.pinned, self.pictured = set(), set(), set(), set()
            self.seat_results = None
            self.views = {i: v for i, v in self.views.items() if i in self.read.entries}
            for entry in self.read.entries.values():
                self.place(entry, setup, now, insert=False)
            self.oldest_first.sort(key=self.view_order)
            self.removed = {}
            for ident in journal.ever_shown:
                self.set_removal(ident, journal)
        else:
            for ident in sorted(touched):
                view = self.live.pop(ident, None)
                if view is not None:
                    self.unstream(view)
                    changed.add(ident)
                self.scheduled.pop(ident, None)
                entry = self.read.entries.get(ident)
                if entry is not None and self.place(entry, setup, now):
                    changed.add(ident)
                if ident not in self.live:
                    self.views.pop(ident, None)
            for entry in sorted((e for e in self.scheduled.values() if e.live_at(now)), key=lambda e: e.id):
                del self.scheduled[entry.id]
                self.place(entry, setup, now)
                changed.add(entry.id)
                touched.add(entry.id)
            for ident in touched:
                self.set_removal(ident, journal)
        self.read.rendered = {}
        if len(self.order_keys) > len(self.read.entries) + 1000:  # forget entries long gone
            self.order_keys = {k: v for k, v in self.order_keys.items() if k in self.read.entries}
        report.scheduled = sorted(self.scheduled.values(), key=lambda e: (e.time, e.id))
        report.next_due = report.scheduled[0].time if report.scheduled else None
        report.live = len(self.oldest_first)
        self.at = now
        if reset or pages_stale:
            self.unrecorded |= set(self.live)
            return None
        self.unrecorded |= changed
        return changed

    def place(self, entry: Entry, setup: Setup, now: datetime, *, insert: bool = True) -> bool:
        """Into the stream if it is live now (True), or among the scheduled if its time has not come."""
        if not entry.live_at(now):
            if entry.status == "published":
                self.scheduled[entry.id] = entry
            return False
        cached = self.views.get(entry.id)
        made = self.read.figures.get(entry.id, ()) if entry.image else ()
        if cached is None or cached[0] is not entry or not _same_pictures(cached[1], made):
            ready = self.read.rendered.get(entry.id)
            if ready is not None and ready[0] is entry and not entry.image:  # made by a worker of a cold build
                cached = ready
            else:
                cached = (
                    entry,
                    *view_and_fragment(
                        entry,
                        setup.baseline,
                        setup.event.timezone,
                        setup.theme,
                        packed=self.long_lived,
                        source=self.read.source(entry),
                        made=made,
                    ),
                )
            self.views[entry.id] = cached
        view = cached[1]
        self.live[entry.id] = view
        if view.figures:
            self.pictured.add(entry.id)
        if isinstance(entry, SummaryEntry):
            self.summaries.add(entry.id)
        elif isinstance(entry, ResultEntry) and self.seat_results is not None:
            key = seat_key(entry.constituency)
            bisect.insort(self.seat_results.setdefault(key, []), view, key=self.view_order)
            self.recount.add(key)
        if entry.key:
            self.keyed.add(entry.id)
        if entry.pinned:
            self.pinned.add(entry.id)
        if insert:
            bisect.insort(self.oldest_first, view, key=self.view_order)
        else:
            self.oldest_first.append(view)
        return True

    def unstream(self, view: EntryView) -> None:
        for flagged in (self.summaries, self.keyed, self.pinned, self.pictured):
            flagged.discard(view.id)
        if isinstance(view.entry, ResultEntry) and self.seat_results is not None:
            key = seat_key(view.entry.constituency)
            seat = [v for v in self.seat_results.get(key, ()) if v is not view]
            if seat:
                self.seat_results[key] = seat
            else:
                self.seat_results.pop(key, None)
            self.recount.add(key)
        self.oldest_first = _without(self.oldest_first, view, self.view_order)

    def view_order(self, view: EntryView) -> tuple[float, str]:
        return self.order(view.entry)

    def _count(self, setup: Setup) -> None:
        """The results that count (a seat's newest), newest first, and their scoreboard: worked out again for the
        seats whose results came or went (every seat after a reset, or with another baseline)."""
        if self.seat_results is None or self.tally is None or self.tally.baseline is not setup.baseline:
            if self.seat_results is None:  # every result in the stream, by seat; kept from here as they come and go
                seats: dict[str, list[EntryView]] = {}
                for view in self.oldest_first:
                    if isinstance(view.entry, ResultEntry):
                        seats.setdefault(seat_key(view.entry.constituency), []).append(view)
                self.seat_results = seats
            self.counted = {key: seat[-1] for key, seat in self.seat_results.items()}
            self.counted_oldest_first = sorted(self.counted.values(), key=self.view_order)
            self.tally = SeatTally(setup.baseline)
            for view in self.counted_oldest_first:
                if view.result is not None:
                    self.tally.add(_constituency(view), view.result)
        else:
            for key in self.recount:
                seat = self.seat_results.get(key)
                now, was = (seat[-1] if seat else None), self.counted.get(key)
                if now is was:
                    continue
                if was is not None:
                    del self.counted[key]
                    self.counted_oldest_first = _without(self.counted_oldest_first, was, self.view_order)
                    if was.result is not None:
                        self.tally.remove(_constituency(was), was.result)
                if now is not None:
                    self.counted[key] = now
                    bisect.insort(self.counted_oldest_first, now, key=self.view_order)
                    if now.result is not None:
                        self.tally.add(_constituency(now), now.result)
        self.recount.clear()
        self.results = self.counted_oldest_first[::-1]
        self.board = self.tally.board()

    def set_removal(self, ident: str, journal: Journal) -> None:
        """Whether readers were shown this entry and it is gone now: withdrawn, deleted or back to draft."""
        if ident in self.live or ident not in journal.ever_shown:
            self.removed.pop(ident, None)
            return
        entry = self.read.entries.get(ident)
        if entry is None:
            self.removed[ident] = self.read.taken_down.get(ident, "deleted")
        else:
            self.removed[ident] = entry.status if entry.status != "published" else "draft"

    def night(self, setup: Setup, now: datetime, changed: set[str] | None) -> Night:
        views = self.oldest_first[::-1]  # newest first
        results_changed = changed is None or self.results is None or bool(self.recount)
        if results_changed:
            self._count(setup)
        summaries = [self.live[i] for i in self.summaries]
        summary = max(summaries, key=self.view_order) if summaries else None
        key_events, pinned = (
            sorted((self.live[i] for i in flagged if i not in self.summaries), key=self.view_order, reverse=True)
            for flagged in (self.keyed, self.pinned)
        )
        assert self.results is not None and self.board is not None
        return Night(
            event=setup.event,
            now=now,
            shown=[v for v in views if not isinstance(v.entry, SummaryEntry)] if summaries else views,
            fragments=Fragments(self.views, self.recent_fragments),
            summary=summary,
            scoreboard=self.board,
            results=self.results,
            baseline=setup.baseline,
            withdrawn=sorted(self.removed),
            changed=changed,
            key_events=key_events,
            pinned=pinned,
            media={
                rendition.path: figure.made.source(rendition)
                for ident in sorted(self.pictured)
                for figure in self.live[ident].figures
                for rendition in figure.renditions
            },
        )


def _without(
    ordered: list[EntryView], view: EntryView, key: Callable[[EntryView], tuple[float, str]]
) -> list[EntryView]:
    """``ordered`` (sorted by ``key``) without ``view``: found by bisection and taken out in place."""
    at = bisect.bisect_left(ordered, key(view), key=key)
    if at < len(ordered) and ordered[at] is view:
        del ordered[at]
        return ordered
    return [v for v in ordered if v is not view]  # pragma: no cover - a view's order key never changes; a safety net


def _constituency(view: EntryView) -> str:
    return view.entry.constituency or "" if isinstance(view.entry, ResultEntry) else ""


def _same_pictures(view: EntryView, made: Sequence[MadePicture]) -> bool:
    """Whether a kept view shows the very pictures made now (a picture file replaced under the same name)."""
    return len(view.figures) == len(made) and all(f.made is m for f, m in zip(view.figures, made, strict=True))
