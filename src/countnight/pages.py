"""Page assembly: the night's shown entries → ``{path: bytes}`` for every output file. Pure.

The index holds the newest ``page_size`` entries; older pages are numbered from the start of the
night so their addresses never change as entries arrive; every entry also has a page of its own
(``update/ID.html``) to share. The index's side panels (summary, key events, pinned, seats, the
constituencies followed) are rendered once and go both into the page and into ``live.json``, so an
open page refreshes them without a reload.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from markupsafe import Markup, escape

from .baseline import Baseline, fold_name
from .clock import show_time
from .config import Event
from .elections import Scoreboard
from .feeds import atom, describe, json_ld, share_path, site_url
from .render import Theme, entry_rev, render_entry, render_summary, render_template
from .views import EntryView, memo

LIVE_JSON_ENTRIES = 50
INDEX = "index.html"
PANELS = ("notice", "summary", "key_events", "pinned", "scoreboard", "follow")
PANEL_PREFIX = "panel:"  # panels share the page cache under these keys (they are not files)
PINNED_PREFIX = "pinned-"
PageCache = dict[str, tuple[object, bytes]]  # path → (what it was made from, its bytes)


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


@dataclass(frozen=True)
class Paging:
    """Which entries go on which page."""

    front: list[EntryView]  # the index: the newest page_size, newest first
    older: list[list[EntryView]]  # older[0] is page 1, the start of the night; each newest first
    where: dict[str, str]  # entry id → the page that holds it ("index.html", "page/3.html")


@dataclass(frozen=True)
class Panel:
    """A rendered part of the index that open pages refresh from live.json."""

    html: Markup
    rev: str


def page_name(number: int) -> str:
    return f"page/{number}.html"


def paginate(night: Night) -> Paging:
    """The newest ``page_size`` for the index; the rest in pages numbered from the oldest entry.

    Page k always holds the k-th ``page_size`` entries of the night counted from its start, so an
    entry's older-page address does not change as new entries arrive.
    """
    size = night.event.page_size
    front = list(night.shown[:size])
    rest = list(reversed(night.shown[size:]))  # oldest first
    older = [list(reversed(rest[i : i + size])) for i in range(0, len(rest), size)]
    where = {v.id: INDEX for v in front}
    for number, views in enumerate(older, 1):
        where.update((v.id, page_name(number)) for v in views)
    return Paging(front, older, where)


def split_pages(night: Night) -> tuple[list[EntryView], list[list[EntryView]]]:
    """The index's entries and the older pages' (see :func:`paginate`)."""
    paging = paginate(night)
    return paging.front, paging.older


def _linker(where: Mapping[str, str], page: str) -> Callable[[str], str]:
    """``href(id)``: a link from ``page`` to the entry, on whichever page holds it."""
    root = "../" if "/" in page else ""

    def href(ident: str) -> str:
        target = where.get(ident)
        if target is None or target == page:
            return f"#{ident}"
        return f"{root}{target}#{ident}"

    return href


def _follow(night: Night) -> list[dict[str, Any]]:
    if night.baseline is None:
        return []
    declared = {fold_name(v.entry.constituency or ""): v for v in night.results}
    return [{"name": name, "result": declared.get(fold_name(name))} for name in night.baseline.names()]


def _panels(theme: Theme, night: Night, where: Mapping[str, str], cache: PageCache | None = None) -> dict[str, Panel]:
    fingerprint = theme.fingerprint

    def revs(views: Sequence[EntryView]) -> tuple[tuple[str, str, str | None], ...]:
        return tuple((v.id, entry_rev(fingerprint, v), where.get(v.id)) for v in views)

    key_events = [v for v in night.shown if v.entry.key]
    pinned_views = [v for v in night.shown if v.entry.pinned]
    results = revs(night.results)
    # What each panel is made from, beyond the theme and the event (in _setting): a panel is rendered again
    # only when that changes. The follow list of 650 seats was a third of a one-entry rebuild.
    made_from: dict[str, object] = {
        "notice": (),
        "summary": revs([night.summary] if night.summary else []),
        "key_events": revs(key_events),
        "pinned": revs(pinned_views),
        "scoreboard": results,
        "follow": results,
    }
    setting = _setting(theme, night)
    event = night.event
    context: dict[str, Any] | None = None
    panels = {}
    for name in PANELS:
        key = (setting, made_from[name])
        hit = cache.get(f"{PANEL_PREFIX}{name}") if cache is not None else None
        if hit is not None and hit[0] == key:
            html = hit[1].decode()
        else:
            if context is None:
                context = {
                    "event": event,
                    "ended": event.ended(night.now),
                    "coverage_end_shown": show_time(event.coverage_end, event.timezone) if event.coverage_end else None,
                    "summary": night.summary,
                    "summary_html": render_summary(night.summary),
                    "key_events": key_events,
                    "pinned": [Markup(render_entry(theme, v, prefix=PINNED_PREFIX)) for v in pinned_views],
                    "scoreboard": night.scoreboard,
                    "follow": _follow(night),
                    "href": _linker(where, INDEX),
                }
            html = render_template(theme, f"partials/{name}.html", **context).strip()
            if cache is not None:
                cache[f"{PANEL_PREFIX}{name}"] = (key, html.encode())
        panels[name] = Panel(Markup(html), hashlib.sha256(html.encode()).hexdigest()[:12])
    return panels


def _older_fragment(html: str) -> str:
    # Fragments are rendered for the site's root (the index, live.json); older pages sit one folder down.
    return html.replace('class="entry__share" href="', 'class="entry__share" href="../')


def _span(night: Night, views: Sequence[EntryView]) -> str:
    zone = night.event.timezone
    first, last = views[-1].entry.time, views[0].entry.time
    return f"{show_time(first, zone)} to {show_time(last, zone)}"


def render_pages(theme: Theme, night: Night, cache: PageCache | None = None) -> dict[str, bytes]:
    """Every output file of the night.

    ``cache`` (kept by the caller from one build to the next) spares re-rendering the share pages that
    did not change: with a thousand entries they are most of the work.
    """
    files: dict[str, bytes] = {path: data for path, data in theme.assets.values()}
    paging = paginate(night)
    panels = _panels(theme, night, paging.where, cache)
    fragments = {k: Markup(v) for k, v in night.fragments.items()}
    event = night.event
    ended = event.ended(night.now)
    count = len(paging.older)
    files[INDEX] = render_template(
        theme,
        "index.html",
        event=event,
        ended=ended,
        panels=panels,
        entries=paging.front,
        fragments=fragments,
        json_ld=json_ld(night, paging.front, INDEX, paging.where),
        page=INDEX,
        root="",
        newer=None,
        older=page_name(count) if count else None,
    ).encode()
    setting = _setting(theme, night)
    for number, views in enumerate(paging.older, 1):
        path = page_name(number)
        # An older page changes only when its own entries do (or the last one's "newer" link): at 10,000
        # entries that is one page of 500 per new entry.
        key = f"{setting} {number == count} " + " ".join(f"{v.id}={entry_rev(theme.fingerprint, v)}" for v in views)
        files[path] = _cached(
            cache,
            path,
            key,
            lambda path=path, views=views, number=number: _older_page(theme, night, paging, path, views, number, count),
        )
    files.update(_share_pages(theme, night, paging, cache))
    files["live.json"] = live_json(night, theme, panels)
    files["results.json"] = results_json(night)
    from .results_page import render_results_page  # it imports this module: import here, not at the top

    key = f"{setting} " + " ".join(
        f"{v.id}={entry_rev(theme.fingerprint, v)}@{paging.where.get(v.id)}" for v in night.results
    )
    files["results.html"] = _cached(cache, "results.html", key, lambda: render_results_page(theme, night))
    files["atom.xml"] = atom(night, night.fragments)
    if cache is not None:
        for gone in set(cache) - set(files):
            if not gone.startswith(PANEL_PREFIX):
                del cache[gone]
    return files


def _setting(theme: Theme, night: Night) -> str:
    """What every cached page depends on besides its own entries: the theme, the event, whether it ended."""
    event = night.event
    return hashlib.sha256(f"{theme.fingerprint}{event!r}{event.ended(night.now)}".encode()).hexdigest()


def _cached(cache: PageCache | None, path: str, key: object, make: Callable[[], bytes]) -> bytes:
    """The page at ``path`` from the cache when it was made from the same ``key``, else made anew."""
    if cache is not None:
        hit = cache.get(path)
        if hit is not None and hit[0] == key:
            return hit[1]
    data = make()
    if cache is not None:
        cache[path] = (key, data)
    return data


def _older_page(
    theme: Theme, night: Night, paging: Paging, path: str, views: list[EntryView], number: int, count: int
) -> bytes:
    fragments = {v.id: Markup(_older_fragment(night.fragments[v.id])) for v in views}
    return render_template(
        theme,
        "page.html",
        event=night.event,
        ended=night.event.ended(night.now),
        entries=views,
        fragments=fragments,
        json_ld=json_ld(night, views, path, paging.where),
        page=path,
        root="../",
        number=number,
        span=_span(night, views),
        newer=f"../{INDEX}" if number == count else f"{number + 1}.html",
        older=f"{number - 1}.html" if number > 1 else None,
    ).encode()


def _share_pages(theme: Theme, night: Night, paging: Paging, cache: PageCache | None) -> dict[str, bytes]:
    setting = _setting(theme, night)
    files: dict[str, bytes] = {}
    for view in night.shown:
        path, where = share_path(view.id), paging.where.get(view.id, INDEX)
        key = (setting, entry_rev(theme.fingerprint, view), where)
        files[path] = _cached(cache, path, key, lambda view=view, where=where: share_page(theme, night, view, where))
    return files


def _promote_headline(html: str, ident: str) -> str:
    """The entry's headline as the page's h1 (its own page has no other); unchanged if a theme's differs."""
    opening = f'<h3 id="{escape(ident)}-h" class="entry__title">'
    start = html.find(opening)
    end = html.find("</h3>", start)
    if start < 0 or end < 0:
        return html
    return f"{html[:start]}<h1{opening[3:]}{html[start + len(opening) : end]}</h1>{html[end + 5 :]}"


def share_page(theme: Theme, night: Night, view: EntryView, where: str) -> bytes:
    """An entry's own page, with the title, description and cards that links to it show.

    It reuses the entry's fragment (rendering Markdown again for every entry would dominate a big
    night's build), moved one folder down and with its headline as the h1.
    """
    path = share_path(view.id)
    article = _promote_headline(_older_fragment(night.fragments[view.id]), view.id)
    return render_template(
        theme,
        "share.html",
        event=night.event,
        ended=night.event.ended(night.now),
        e=view,
        article=Markup(article),
        description=describe(view),
        canonical=site_url(night.event, path) if night.event.base_url else None,
        where=where,
        page=path,
        root="../",
    ).encode()


def live_json(night: Night, theme: Theme, panels: Mapping[str, Panel]) -> bytes:
    """What open pages poll: the newest entries with their HTML, the ids now withdrawn, and the panels."""
    entries = [
        {
            "id": v.id,
            "kind": v.kind,
            "time": v.time_iso,
            "updated": v.updated_iso,
            "title": v.headline,
            "breaking": v.entry.breaking,
            "key": v.entry.key,
            "pinned": v.entry.pinned,
            "rev": entry_rev(theme.fingerprint, v),
            "html": night.fragments[v.id],
        }
        for v in night.shown[:LIVE_JSON_ENTRIES]
    ]
    data = {
        "generated": night.now.isoformat(timespec="seconds"),
        "ended": night.event.ended(night.now),
        "entries": entries,
        "withdrawn": sorted(night.withdrawn),
        "panels": {name: {"rev": p.rev, "html": str(p.html)} for name, p in panels.items()},
    }
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def results_json(night: Night) -> bytes:
    """Every declared result (SPEC's shape) with the seat tally; one result a line."""
    records = [
        memo(view, "results.json", lambda view=view: _record_json(view))
        for view in sorted(night.results, key=lambda v: (v.entry.constituency or "").casefold())
    ]
    tally = json.dumps(night.scoreboard.as_dict(), ensure_ascii=False, separators=(",", ":"))
    return ('{"results":[\n' + ",\n".join(records) + "\n]," + tally[1:] + "\n").encode()


def _record_json(view: EntryView) -> str:
    assert view.result is not None and view.entry.constituency is not None
    record = view.result.as_dict(view.entry.constituency, view.id)
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))
