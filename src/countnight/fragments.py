"""An entry's <article> as the build keeps it between builds, and the mapping the pages read them through."""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Mapping, Sequence
from zoneinfo import ZoneInfo

from .baseline import Baseline
from .feeds import posting, summary_text
from .figures import MadePicture
from .models import Entry
from .render import Theme, render_entry
from .views import EntryView, make_view

Fragment = str | bytes  # an entry's <article>: as text, or compressed (see keep)


def view_and_fragment(
    entry: Entry,
    baseline: Baseline | None,
    zone: ZoneInfo,
    theme: Theme,
    *,
    packed: bool,
    source: str = "",
    made: Sequence[MadePicture] = (),
) -> tuple[EntryView, Fragment]:
    """What the page shows of an entry, and its <article> as the build keeps it (here or in a cold build's worker).

    Its plain text and its JSON-LD (kept with the view) are made here too: its share page and the page that
    lists it both need them, and a cold build makes those two in different processes, so each made them again
    (and wrote them into a view it shared with the other, a copy of the memory page for each).
    """
    view = make_view(entry, baseline, zone, source, made)
    summary_text(view)
    posting(view)
    return view, keep(render_entry(theme, view), packed=packed)


def keep(html: str, *, packed: bool) -> Fragment:
    """An entry's <article> as kept between builds. A watcher keeps it compressed, a third of the size
    (10,000 fragments were 26 MB of its memory; packed, 9 MB); a one-off build, which exits when it is
    done, keeps the text and saves compressing and decompressing it (~80 µs an entry)."""
    return zlib.compress(html.encode(), 1) if packed else html


class Fragments(Mapping[str, str]):
    """id → the shown entry's <article>, unpacked from the build's view cache as pages ask for it.

    The newest entries are asked for on every build (the index, live.json, the feed): the last
    ``RECENT`` unpacked are kept as text, keyed by the packed bytes they came from.
    """

    RECENT = 256

    def __init__(
        self, views: dict[str, tuple[Entry, EntryView, Fragment]], recent: dict[str, tuple[bytes, str]]
    ) -> None:
        self._views = views
        self._recent = recent

    def __getitem__(self, ident: str) -> str:
        packed = self._views[ident][2]
        if isinstance(packed, str):
            return packed
        hit = self._recent.get(ident)
        if hit is not None and hit[0] is packed:
            return hit[1]
        html = zlib.decompress(packed).decode()
        if len(self._recent) >= self.RECENT:
            del self._recent[next(iter(self._recent))]  # the oldest kept
        self._recent[ident] = (packed, html)
        return html

    def __iter__(self) -> Iterator[str]:
        return iter(self._views)

    def __len__(self) -> int:
        return len(self._views)
