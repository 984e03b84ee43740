"""The index's side panels (summary, key events, pinned, seats, the constituencies followed, the map). Pure.

Each is rendered once per change of what it is made from (``panel_sources``) and goes both into the index
and into ``live.json``, so an open page refreshes it without a reload; the live delta names the panels
whose sources changed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, NamedTuple, TypeVar

from markupsafe import Markup

from .baseline import fold_name
from .clock import show_time
from .hexmap import own_seats, render_map
from .night import INDEX, Night, Panel
from .pagecache import Fragments
from .render import Theme, entry_rev, render_entry, render_summary, render_template
from .views import EntryView

T = TypeVar("T")
PANELS = ("notice", "summary", "key_events", "pinned", "scoreboard", "follow", "map")
PANEL_PREFIX = "panel:"  # panels are kept in PageCache.fragments under these keys
PINNED_PREFIX = "pinned-"
_FOLLOW_STATE = "follow"  # in the fragment store: the follow list as last made


def _linker(where: Mapping[str, str], page: str) -> Callable[[str], str]:
    """``href(id)``: a link from ``page`` to the entry, on whichever page holds it."""
    root = "../" if "/" in page else ""

    def href(ident: str) -> str:
        target = where.get(ident)
        if target is None or target == page:
            return f"#{ident}"
        return f"{root}{target}#{ident}"

    return href


def _fragment(store: Fragments | None, name: str, key: object, make: Callable[[], T]) -> T:
    """A rendered piece of a page, made again only when what it is made from (``key``) changed."""
    if store is not None:
        hit = store.get(name)
        if hit is not None and hit[0] == key:
            return hit[1]  # type: ignore[no-any-return]
    made = make()
    if store is not None:
        store[name] = (key, made)
    return made


class FollowRow(NamedTuple):
    """A constituency in the follow list, with its result once declared."""

    name: str
    result: EntryView | None
    html: Markup  # the row as the theme's partials/follow_row.html renders it


def _follow(
    theme: Theme,
    night: Night,
    href: Callable[[str], str],
    setting: str,
    store: Fragments | None,
    moved: Collection[str] | None = None,
) -> list[FollowRow]:
    """Every constituency followed, each row rendered by partials/follow_row.html.

    With the previous list in ``store`` and ``moved`` (the ids whose page may have changed), only the rows
    whose result changed or moved are rendered again: with 650 (or 2,500) seats, going through every row
    was a third of a one-entry rebuild.
    """
    if night.baseline is None:
        return []
    declared = {fold_name(v.entry.constituency or ""): v for v in night.results}
    state = store.get(_FOLLOW_STATE) if store is not None else None
    if state is None or moved is None or state[0][0] != setting or state[0][1] is not night.baseline:
        names = night.baseline.names()
        rows = [_follow_row(theme, name, declared.get(fold_name(name)), href) for name in names]
        index = {fold_name(name): i for i, name in enumerate(names)}
    else:
        before, previous, index = state[1]
        check = {fold for fold, view in declared.items() if before.get(fold) is not view}
        check |= before.keys() - declared.keys()
        if moved:
            check |= {fold for fold, view in declared.items() if view.id in moved}
        rows = list(previous)
        for fold in check:
            at = index.get(fold)
            if at is not None:  # a seat outside the baseline has no row
                rows[at] = _follow_row(theme, rows[at].name, declared.get(fold), href)
    if store is not None:
        store[_FOLLOW_STATE] = ((setting, night.baseline), (declared, rows, index))
    return rows


def _follow_row(theme: Theme, name: str, view: EntryView | None, href: Callable[[str], str]) -> FollowRow:
    link = href(view.id) if view is not None else None
    html = render_template(theme, "partials/follow_row.html", seat=name, v=view, href=link)
    return FollowRow(name, view, Markup(html))


def _flagged(night: Night) -> tuple[Sequence[EntryView], Sequence[EntryView]]:
    """The shown key events and pinned entries, newest first."""
    key_events = night.key_events if night.key_events is not None else [v for v in night.shown if v.entry.key]
    pinned_views = night.pinned if night.pinned is not None else [v for v in night.shown if v.entry.pinned]
    return key_events, pinned_views


def panel_sources(theme: Theme, night: Night, where: Mapping[str, str], results: object) -> dict[str, object]:
    """What each panel is made from, beyond the theme and the event (in the setting): a panel is rendered
    again only when that changes, and the live delta names the panels whose sources changed."""
    fingerprint = theme.fingerprint

    def revs(views: Sequence[EntryView]) -> tuple[tuple[str, str, str | None], ...]:
        return tuple((v.id, entry_rev(fingerprint, v), where.get(v.id)) for v in views)

    key_events, pinned_views = _flagged(night)
    return {
        "notice": (),
        "summary": revs([night.summary] if night.summary else []),
        "key_events": revs(key_events),
        "pinned": revs(pinned_views),
        "scoreboard": results,
        "follow": results,
        "map": (results, night.baseline),  # the baseline's seats are the ones the compact map zooms to
    }


def panels_of(
    theme: Theme,
    night: Night,
    where: Mapping[str, str],
    setting: str,
    results: object,
    store: Fragments | None = None,
    moved: Collection[str] | None = None,
) -> dict[str, Panel]:
    """The index's side panels; ``results`` is what the scoreboard and follow list are made from."""
    key_events, pinned_views = _flagged(night)
    made_from = panel_sources(theme, night, where, results)
    event = night.event
    href = _linker(where, INDEX)
    context: dict[str, Any] | None = None
    panels = {}
    for name in PANELS:

        def make(name: str = name) -> Panel:
            nonlocal context
            if context is None:
                context = {
                    "event": event,
                    "ended": night.ended,
                    "coverage_end_shown": show_time(event.coverage_end, event.timezone) if event.coverage_end else None,
                    "summary": night.summary,
                    "summary_html": render_summary(night.summary),
                    "key_events": key_events,
                    "pinned": [Markup(render_entry(theme, v, prefix=PINNED_PREFIX)) for v in pinned_views],
                    "scoreboard": night.scoreboard,
                    "href": href,
                }
            if name == "follow":
                context["follow"] = rows = _follow(theme, night, href, setting, store, moved)
                context["follow_html"] = Markup("".join(row.html for row in rows))
            hexmap = None
            if name == "map":
                own = own_seats(night.baseline) if night.baseline is not None else None
                hexmap = render_map(night.results, own=own, labelled_by="map-h", store=store)
                context["hexmap_html"] = Markup(hexmap.html) if hexmap is not None else None
            html = render_template(theme, f"partials/{name}.html", **context).strip()
            parts = hexmap.parts if hexmap is not None else None
            return Panel(Markup(html), hashlib.sha256(html.encode()).hexdigest()[:12], parts)

        panels[name] = _fragment(store, f"{PANEL_PREFIX}{name}", (setting, made_from[name]), make)
    return panels
