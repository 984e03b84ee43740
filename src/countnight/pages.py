"""Page assembly: the night's shown entries → ``{path: bytes}`` for every output file. Pure."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

from markupsafe import Markup

from .baseline import Baseline, fold_name
from .clock import show_time
from .config import Event
from .elections import Scoreboard
from .render import Theme, render_summary, render_template
from .views import EntryView

LIVE_JSON_ENTRIES = 50
FEED_ENTRIES = 50


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


def page_name(number: int) -> str:
    return f"page/{number}.html"


def split_pages(night: Night) -> tuple[list[EntryView], list[list[EntryView]]]:
    """The newest ``page_size`` for the index; the rest in pages numbered from the oldest entry.

    Page k always holds the k-th ``page_size`` entries of the night counted from its start, so an
    entry's older-page address does not change as new entries arrive.
    """
    size = night.event.page_size
    front = list(night.shown[:size])
    rest = list(reversed(night.shown[size:]))  # oldest first
    pages = [list(reversed(rest[i : i + size])) for i in range(0, len(rest), size)]
    return front, pages


def _url(event: Event, path: str) -> str:
    return f"{event.base_url}{path}" if event.base_url else path


def _json_ld(night: Night, views: Sequence[EntryView], page: str) -> Markup:
    event = night.event
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "LiveBlogPosting",
        "headline": event.title,
        "coverageStartTime": event.coverage_start.isoformat(),
        "datePublished": event.coverage_start.isoformat(),
        "dateModified": max((v.modified for v in views), default=event.coverage_start).isoformat(),
        "liveBlogUpdate": [
            {
                "@type": "BlogPosting",
                "headline": v.headline,
                "datePublished": v.time_iso,
                "dateModified": v.modified.isoformat(),
                "articleBody": v.entry.body,
                "url": _url(event, f"{page}#{v.id}"),
                **({"author": {"@type": "Person", "name": v.entry.author}} if v.entry.author else {}),
            }
            for v in views
        ],
    }
    if event.base_url:
        data["url"] = _url(event, page)
    if event.editor:
        data["editor"] = {"@type": "Person", "name": event.editor}
    if event.ended(night.now) and event.coverage_end:
        data["coverageEndTime"] = event.coverage_end.isoformat()
    text = json.dumps(data, ensure_ascii=False, indent=1)
    return Markup(text.replace("</", "<\\/"))  # a "</script>" in a body must not end the block


def _follow(night: Night) -> list[dict[str, Any]]:
    if night.baseline is None:
        return []
    declared = {fold_name(v.entry.constituency or ""): v for v in night.results}
    rows = []
    for name in night.baseline.names():
        view = declared.get(fold_name(name))
        rows.append({"name": name, "result": view})
    return rows


def _page(theme: Theme, night: Night, views: list[EntryView], *, page: str, **extra: Any) -> bytes:
    pinned = [v for v in night.shown if v.entry.pinned]
    key_events = [v for v in night.shown if v.entry.key]
    html = render_template(
        theme,
        "index.html" if page == "index.html" else "page.html",
        event=night.event,
        ended=night.event.ended(night.now),
        coverage_end_shown=show_time(night.event.coverage_end, night.event.timezone)
        if night.event.coverage_end
        else None,
        summary=night.summary,
        summary_html=render_summary(night.summary),
        key_events=key_events,
        pinned=pinned,
        scoreboard=night.scoreboard,
        follow=_follow(night),
        entries=views,
        fragments={k: Markup(v) for k, v in night.fragments.items()},
        json_ld=_json_ld(night, views, page),
        page=page,
        root="../" if "/" in page else "",
        **extra,
    )
    return html.encode()


def render_pages(theme: Theme, night: Night) -> dict[str, bytes]:
    """Every output file of the night."""
    files: dict[str, bytes] = {path: data for path, data in theme.assets.values()}
    front, older = split_pages(night)
    count = len(older)
    files["index.html"] = _page(
        theme,
        night,
        front,
        page="index.html",
        newer=None,
        older=page_name(count) if count else None,
        number=0,
    )
    for i, views in enumerate(older, 1):
        files[page_name(i)] = _page(
            theme,
            night,
            views,
            page=page_name(i),
            newer="index.html" if i == count else f"{i + 1}.html",
            older=f"{i - 1}.html" if i > 1 else None,
            number=i,
        )
    files["live.json"] = live_json(night)
    files["results.json"] = results_json(night)
    files["atom.xml"] = atom(night)
    return files


def live_json(night: Night) -> bytes:
    """What open pages poll: the newest entries with their HTML, and the ids now withdrawn."""
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
            "html": night.fragments[v.id],
        }
        for v in night.shown[:LIVE_JSON_ENTRIES]
    ]
    data = {
        "generated": night.now.isoformat(timespec="seconds"),
        "ended": night.event.ended(night.now),
        "entries": entries,
        "withdrawn": sorted(night.withdrawn),
    }
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def results_json(night: Night) -> bytes:
    """Every declared result (SPEC's shape) with the seat tally."""
    records = []
    for view in sorted(night.results, key=lambda v: (v.entry.constituency or "").casefold()):
        assert view.result is not None and view.entry.constituency is not None
        records.append(view.result.as_dict(view.entry.constituency, view.id))
    board = night.scoreboard
    data = {
        "results": records,
        "seats": dict(board.seats),
        "gains": dict(board.gains),
        "losses": dict(board.losses),
        "declared": board.declared,
        "total": board.total,
    }
    return json.dumps(data, ensure_ascii=False, indent=1).encode()


def atom(night: Night) -> bytes:
    """An Atom feed of the newest entries; a corrected entry carries its new ``updated``."""
    event = night.event
    base = event.base_url or ""
    views = night.shown[:FEED_ENTRIES]
    updated = max((v.modified for v in views), default=event.coverage_start).isoformat()
    tag = f"tag:countnight,{event.coverage_start:%Y-%m-%d}:{escape(event.title)}"
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom">',
        f"  <title>{escape(event.title)}</title>",
        f"  <id>{escape(base + 'atom.xml') if base else tag}</id>",
        f"  <updated>{updated}</updated>",
        f'  <link rel="alternate" type="text/html" href="{escape(base)}index.html"/>',
        f'  <link rel="self" href="{escape(base)}atom.xml"/>',
        f"  <author><name>{escape(event.editor or event.title)}</name></author>",
    ]
    for v in views:
        link = f"{base}index.html#{v.id}"
        parts += [
            "  <entry>",
            f"    <title>{escape(v.headline)}</title>",
            f"    <id>{escape(tag)}:{escape(v.id)}</id>",
            f'    <link rel="alternate" type="text/html" href="{escape(link)}"/>',
            f"    <published>{v.time_iso}</published>",
            f"    <updated>{v.modified.isoformat()}</updated>",
            *([f"    <author><name>{escape(v.entry.author)}</name></author>"] if v.entry.author else []),
            f'    <content type="html">{escape(night.fragments[v.id])}</content>',
            "  </entry>",
        ]
    parts.append("</feed>\n")
    return "\n".join(parts).encode()
