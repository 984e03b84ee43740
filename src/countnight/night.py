"""The night as the pages show it: everything a build's pages are made from, worked out once per build."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup

from .baseline import Baseline
from .config import Event
from .elections import Scoreboard
from .views import EntryView

INDEX = "index.html"


@dataclass(frozen=True)
class Night:
    """Everything the pages show, computed once per build."""

    event: Event
    now: datetime
    shown: Sequence[EntryView]  # newest first
    fragments: Mapping[str, str]  # id → the entry's <article> HTML
    summary: EntryView | None
    scoreboard: Scoreboard
    results: Sequence[EntryView]  # the newest result per constituency, newest first
    baseline: Baseline | None
    withdrawn: Sequence[str]  # ids readers were shown that are gone now
    # ids whose view is new, replaced or gone since the previous night this build's cache saw; None: unknown
    changed: Collection[str] | None = None
    key_events: Sequence[EntryView] | None = None  # the shown key events, newest first (None: find them)
    pinned: Sequence[EntryView] | None = None  # the shown pinned entries, newest first (None: find them)
    # the made pictures of the shown entries: path in the site (media/…) → the file in .countnight/ holding it
    media: Mapping[str, str] = dataclasses.field(default_factory=dict)

    @functools.cached_property
    def ended(self) -> bool:
        """Whether coverage has ended at ``now``: asked by every page of the build, worked out once (comparing
        two aware datetimes asks both zones for their offsets, ~2 µs)."""
        return self.event.ended(self.now)


@dataclass(frozen=True)
class Panel:
    """A rendered part of the index that open pages refresh from live.json."""

    html: Markup
    rev: str
    # The panel's elements by key, where an open page can take them one by one (the map: each hex by its ONS
    # code, see hexmap.HexMap.parts); a push channel sends those whose text changed. None: the panel is one part.
    parts: Mapping[str, str] | None = None
