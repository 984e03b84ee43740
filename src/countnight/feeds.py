"""What other programs read about the night: the Atom feed, schema.org JSON-LD, and plain-text
descriptions of entries (for feeds, structured data and share cards). Pure functions of the night.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from html import escape as _html_escape
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from .config import Event
from .jsontext import compact
from .models import QuoteEntry, ResultEntry
from .parties import party_name
from .views import EntryView, memo
from .xmltext import escape, quoteattr

if TYPE_CHECKING:
    from .night import Night

FEED_ENTRIES = 50
DESCRIPTION_CHARS = 200
SHARE_DIR = "update"


def share_path(ident: str) -> str:
    """Where an entry's own page lives, relative to the site's root."""
    return f"{SHARE_DIR}/{ident}.html"


def site_url(event: Event, path: str) -> str:
    """An address for ``path``: absolute under ``base_url`` when the config gives one."""
    return f"{event.base_url}{path}" if event.base_url else path


# -- plain text ----------------------------------------------------------------------------------

_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_TAG = re.compile(r"<[^>]+>")
# Heading, quote and list marks at the start of a line (after any indentation), nested ones too ("> - a").
_LINE_MARKS = re.compile(r"[ \t]*(?:(?:#{1,6}|>|[-*+]|\d+[.)])(?:[ \t]+|$))+")
_EMPHASIS = re.compile(r"(\*\*|__|\*|_|`|~~)(?=\S)(.+?)(?<=\S)\1")


def plain_text(markdown: str) -> str:
    """A Markdown body as one line of plain text: links, emphasis, headings and list marks removed.

    A pattern runs only if the text has the character it cannot match without (the substitutions only
    ever remove characters, so one absent at the start stays absent): most bodies need two of the six.
    """
    text = markdown
    if "[" in text:
        text = _IMAGE.sub(r"\1", text)
        text = _LINK.sub(r"\1", text)
    if "<" in text:
        text = _TAG.sub("", text)
    text = _unmark_lines(text)
    if "*" in text or "_" in text or "`" in text or "~" in text:
        for _ in range(2):  # nested emphasis: **bold _and italic_**
            text = _EMPHASIS.sub(r"\2", text)
    return " ".join(text.split())


def _unmark_lines(text: str) -> str:
    """``text`` without Markdown's block marks: only at the start of a line, where Markdown reads them.

    (It used to take a mark after any space too, so "won by 5. Then" lost its "5.", and "Lab - Con"
    its dash; and it tried the pattern at every character, ~12 µs a body, where a line start is enough.)
    """
    lines = text.split("\n")
    for number, line in enumerate(lines):
        found = _LINE_MARKS.match(line)
        if found is not None and found.end():
            lines[number] = line[found.end() :]
    return "\n".join(lines)


def shorten(text: str, limit: int = DESCRIPTION_CHARS) -> str:
    """``text`` cut at a word boundary to at most ``limit`` characters, with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:–-") + "…"


def summary_text(view: EntryView) -> str:
    """What an entry says, as plain text: figures for a result or a quote's words, then its body.

    Kept with the view: its share page's description and its JSON-LD both ask for it."""
    return memo(view, "summary text", lambda: _summary_text(view))


def _summary_text(view: EntryView) -> str:
    entry = view.entry
    lead = ""
    if isinstance(entry, ResultEntry) and view.result is not None:
        r = view.result
        lead = (
            f"{r.winner.name} ({party_name(r.winner.party)}) wins {entry.constituency} with a majority of "
            f"{r.majority:,} ({r.majority_pct:.1f}%): {r.verdict}."
        )
        if r.turnout_pct is not None:
            lead += f" Turnout {r.turnout_pct:.1f}%."
    elif isinstance(entry, QuoteEntry):
        role = f", {entry.speaker_role}" if entry.speaker_role else ""
        lead = f"“{' '.join(entry.quote.split())}” – {entry.speaker}{role}."
    elif view.kind == "turnout":
        lead = view.headline + "."
    body = plain_text(entry.body)
    return " ".join(part for part in (lead, body) if part) or view.headline


def describe(view: EntryView) -> str:
    """A short description for share cards and ``<meta name="description">``."""
    return shorten(summary_text(view))


# -- JSON-LD -------------------------------------------------------------------------------------


def _author(event: Event, view: EntryView) -> dict[str, str]:
    if view.entry.author:
        return {"@type": "Person", "name": view.entry.author}
    if event.editor:
        return {"@type": "Person", "name": event.editor}
    return {"@type": "Organization", "name": event.title}


def page_url(event: Event, page: str, target: str) -> str:
    """The address of ``target`` (a path from the site's root, maybe with a ``#fragment``) as written on
    ``page``: absolute under ``base_url``, else relative to the folder ``page`` is in (page/3.html's
    "page/3.html#x" resolved to page/page/3.html)."""
    return site_url(event, target) if event.base_url else "../" * page.count("/") + target


def _update(event: Event, v: EntryView, page: str, target: str) -> str:
    """One entry as a schema.org ``BlogPosting`` (JSON text), its ``url`` pointing at ``target`` as seen from
    ``page``. What the entry alone says is encoded once per version (kept with its view): a cold build asks
    for it twice (its older page and its share page), and every build again for the index's twenty."""
    said = posting(v)
    return f"{said},{_URL}{compact(page_url(event, page, target))},{_AUTHOR}{compact(_author(event, v))}}}"


_URL, _AUTHOR = '"url":', '"author":'


def posting(v: EntryView) -> str:
    """The entry's own part of its ``BlogPosting`` (``_posting``), kept with its view: made where the view is
    made (fragments.view_and_fragment), in a cold build's reading workers, not again by each process that makes
    a page listing it."""
    return memo(v, "json-ld update", lambda: _posting(v))


def _posting(v: EntryView) -> str:
    """The entry's own part of its ``BlogPosting``, an object left open for the url and the author."""
    data = {
        "@type": "BlogPosting",
        "headline": v.headline,
        "datePublished": v.time_iso,
        "dateModified": v.modified.isoformat(),
        "articleBody": summary_text(v),
    }
    return compact(data)[:-1]


def _live_blog(night: Night, page: str, views: Sequence[EntryView]) -> dict[str, Any]:
    """What the live blog says of itself, on any of its pages (Google's LiveBlogPosting properties)."""
    event = night.event
    data: dict[str, Any] = {
        "@type": "LiveBlogPosting",
        "headline": event.title,
        "description": f"Live coverage: {event.title}",
        "url": page_url(event, page, page),
        "coverageStartTime": event.coverage_start.isoformat(),
        # Google asks for it from the start: the end expected (the config's, or the 24-hour window's), then
        # the end it had.
        "coverageEndTime": event.window.end.isoformat(),
        "datePublished": event.coverage_start.isoformat(),
        "dateModified": max((v.modified for v in views), default=event.coverage_start).isoformat(),
        "inLanguage": "en-GB",
        "author": {"@type": "Person", "name": event.editor}
        if event.editor
        else {"@type": "Organization", "name": event.title},
    }
    if event.editor:
        data["editor"] = {"@type": "Person", "name": event.editor}
    return data


def _script(text: str) -> Markup:
    # "</script>" or "<!--" in a body must not end or confuse the script block.
    return Markup(text.replace("<", "\\u003c"))


def json_ld(night: Night, views: Sequence[EntryView], page: str, where: Mapping[str, str]) -> Markup:
    """schema.org ``LiveBlogPosting`` with a ``BlogPosting`` per entry shown on ``page``."""
    event = night.event
    blog = compact({"@context": "https://schema.org", **_live_blog(night, page, views)})
    updates = ",".join(_update(event, v, page, f"{where.get(v.id, page)}#{v.id}") for v in views)
    text = f'{blog[:-1]},"liveBlogUpdate":[{updates}]}}'
    return _script(text)


def share_json_ld(night: Night, view: EntryView, page: str) -> Markup:
    """An entry's own page: a ``BlogPosting`` that is part of the live blog (whose page is the index).

    The blog's part is the same on every share page of a build (they all sit in one folder): encoded once
    and kept, not remade for each of 10,000 pages (~25 µs each on a cold build)."""
    event = night.event
    posting = _update(event, view, page, page)
    where = "../" * page.count("/")
    kept = _PART_OF.get(where)
    if kept is None or kept[0] is not event:
        part = {k: v for k, v in _live_blog(night, page, [view]).items() if k != "dateModified"}
        part["url"] = page_url(event, page, "index.html")
        kept = _PART_OF[where] = (event, compact(part))
    return _script(f'{{"@context":"https://schema.org",{posting[1:-1]},"inLanguage":"en-GB","isPartOf":{kept[1]}}}')


# The blog's JSON-LD as share pages at each depth carry it ("../" per folder), with the event it was made for.
_PART_OF: dict[str, tuple[Event, str]] = {}


# -- Atom ----------------------------------------------------------------------------------------


def _urn(event: Event, *parts: str) -> str:
    """A stable Atom id: made from the blog's own id (never its address, which may change), so it stays the
    same for ever and differs between two blogs at one address."""
    if event.feed_id is None:  # an Event made without a blog folder (tests of these functions)
        blog = uuid.uuid5(uuid.NAMESPACE_URL, f"{event.title}\n{event.coverage_start.isoformat()}")
    else:
        blog = uuid.UUID(event.feed_id)
    if parts:
        blog = uuid.uuid5(blog, "\n".join(parts))
    return f"urn:uuid:{blog}"


def atom(night: Night, fragments: Mapping[str, str]) -> bytes:
    """An Atom (RFC 4287) feed of the newest entries; a corrected entry carries its new ``updated``."""
    event = night.event
    views = night.shown[:FEED_ENTRIES]
    updated = max((v.modified for v in views), default=event.coverage_start).isoformat()
    base = f" xml:base={quoteattr(event.base_url)}" if event.base_url else ""
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en-GB"{base}>',
        f"  <title>{escape(event.title)}</title>",
        f"  <id>{_urn(event)}</id>",
        f"  <updated>{updated}</updated>",
        '  <link rel="alternate" type="text/html" href="index.html"/>',
        '  <link rel="self" type="application/atom+xml" href="atom.xml"/>',
        f"  <author><name>{escape(event.editor or event.title)}</name></author>",
        "  <generator>countnight</generator>",
    ]
    said = repr(event)
    parts += [_feed_entry(event, said, v, fragments[v.id]) for v in views]
    for gone in _FEED_ENTRY_XML.keys() - {v.id for v in views}:
        del _FEED_ENTRY_XML[gone]
    parts.append("</feed>\n")
    return "\n".join(parts).encode()


# Each entry's <entry> element as the feed last showed it: id → (view, event, fragment, XML). A new entry
# changes one of the feed's FEED_ENTRIES; the others are the same text (escaping ~4 KB each, every build).
_FEED_ENTRY_XML: dict[str, tuple[EntryView, str, str, str]] = {}


# An embed's consent step (partials/embed.html): a button and a box that only embed.js on the page can act on.
_CONSENT = re.compile(r'<div class="embed__consent" data-embed-consent hidden>.*?</div>\n?', re.S)


def _linked_to_share_page(fragment: str, ident: str) -> str:
    """The fragment with its time link ("#id", made for the page that holds it) pointing at the entry's own
    page: in a feed reader "#id" would resolve to atom.xml or the index, where the entry may no longer be.
    An embed's consent step is left out: a feed reader runs no script, so there the embed is its card and link."""
    anchor = f'class="entry__time" href="#{_html_escape(ident)}"'
    if "data-embed-consent" in fragment:
        fragment = _CONSENT.sub("", fragment)
    return fragment.replace(anchor, f'class="entry__time" href="{_html_escape(share_path(ident))}"', 1)


def _feed_entry(event: Event, said: str, v: EntryView, fragment: str) -> str:
    kept = _FEED_ENTRY_XML.get(v.id)
    if kept is not None and kept[0] is v and kept[1] == said and kept[2] == fragment:
        return kept[3]
    author = v.entry.author or event.editor or event.title
    xml = "\n".join(
        (
            "  <entry>",
            f"    <title>{escape(v.headline)}</title>",
            f"    <id>{_urn(event, v.id)}</id>",
            f'    <link rel="alternate" type="text/html" href={quoteattr(share_path(v.id))}/>',
            f"    <published>{v.time_iso}</published>",
            f"    <updated>{v.modified.isoformat()}</updated>",
            f"    <author><name>{escape(author)}</name></author>",
            f"    <summary>{escape(describe(v))}</summary>",
            f'    <content type="html">{escape(_linked_to_share_page(fragment, v.id))}</content>',
            "  </entry>",
        )
    )
    _FEED_ENTRY_XML[v.id] = (v, said, fragment, xml)
    return xml
