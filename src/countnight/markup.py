"""Markdown → safe HTML: Python-Markdown, then an allow-list sanitiser (nh3).

The sanitiser runs on everything Markdown produces, so raw HTML in a body, an ``attr_list``
``{: onclick=… }`` or a ``javascript:`` link can never reach a page. The page's
Content-Security-Policy is the second wall (see ``render.CSP``).
"""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Callable
from typing import Any

import markdown
import nh3

_TAGS = {
    "p", "br", "hr", "strong", "em", "b", "i", "u", "s", "del", "ins", "mark", "sub", "sup", "small",
    "code", "pre", "kbd", "blockquote", "q", "cite", "abbr",
    "ul", "ol", "li", "dl", "dt", "dd",
    "h2", "h3", "h4", "h5", "h6",
    "a", "img", "figure", "figcaption",
    "table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption",
}  # fmt: skip
_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "abbr": {"title"},
    "th": {"scope", "colspan", "rowspan"},
    "td": {"colspan", "rowspan"},
    "ol": {"start"},
}
_SCHEMES = {"http", "https", "mailto", "tel"}
# What reporters use: links, emphasis, lists, tables, quotes. Not "extra": its attr_list lets a body set
# attributes ({: onclick=… }), and smarty alone doubles the cost of an entry (0.25 → 0.6 ms measured here).
_EXTENSIONS = ["tables", "sane_lists"]

# Python-Markdown instances are not thread-safe; keep one per thread and reset it between uses.
_local = threading.local()

# Hostile bodies (tests/test_fuzz.py): Python-Markdown rescans the rest of a paragraph from every "[" and
# "<", so 10 KB of "[" took 19 s and 1 MiB hours, stalling every build; 1,000 nested list levels raised
# RecursionError and crashed it. Link text is now matched with a bounded scan (_link_text), and a body
# longer than MAX_MARKDOWN characters, or one that still defeats the parser, is shown as plain text:
# every character kept, no formatting. Real entries are a few hundred characters.
MAX_MARKDOWN = 20_000
_LINK_SPAN = 1_000  # link text or URL longer than this is not a link
_BRACKET = re.compile(r"[\[\]]")
_LINK_PROCESSORS = ("reference", "link", "image_link", "image_reference", "short_reference", "short_image_ref")


def _link_text(data: str, index: int) -> tuple[str, int, bool]:
    """``LinkInlineProcessor.getText`` (the text up to the "]" matching an opened "["), in bounded time:
    it jumps from bracket to bracket, and gives up once the brackets cannot close or span too far."""
    depth = 1
    end = min(len(data), index + _LINK_SPAN)
    closers = data.count("]", index, end)
    for match in _BRACKET.finditer(data, index, end):
        if match[0] == "]":
            depth -= 1
            closers -= 1
            if depth == 0:
                return data[index : match.start()], match.end(), True
        else:
            depth += 1
        if depth > closers:
            break
    return "", index, False


def _bounded(get_link: Callable[[str, int], Any]) -> Callable[[str, int], Any]:
    """``getLink`` (the "(url "title")" after a link's text) that looks no further than _LINK_SPAN characters."""

    def get(data: str, index: int) -> Any:
        return get_link(data[: index + _LINK_SPAN], index)

    return get


def _converter() -> markdown.Markdown:
    md = getattr(_local, "md", None)
    if md is None:
        md = markdown.Markdown(extensions=_EXTENSIONS, output_format="html")
        for name in _LINK_PROCESSORS:
            processor = md.inlinePatterns[name]
            processor.getText = _link_text  # type: ignore[attr-defined,method-assign]
            processor.getLink = _bounded(processor.getLink)  # type: ignore[attr-defined]
        _local.md = md
    return md


def clean(html: str) -> str:
    """Sanitise HTML to the allow-list: no scripts, handlers, styles or dangerous URLs."""
    return nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes=_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def render_markdown(text: str) -> str:
    """A reporter's Markdown → sanitised HTML (a body's headings start at h4, below the entry's own)."""
    if not text.strip():
        return ""
    if len(text) > MAX_MARKDOWN:
        return plain_text_html(text)
    md = _converter()
    try:
        converted = md.convert(text)
    except RecursionError:  # nesting deeper than the parser's recursion (1,000 list levels)
        return plain_text_html(text)
    finally:
        md.reset()
    return clean(_demote_headings(converted))


def plain_text_html(text: str) -> str:
    """Text as escaped paragraphs, line breaks kept: for bodies Markdown cannot be trusted with."""
    paragraphs = [p.strip("\n") for p in re.split(r"\n[ \t]*\n", text) if p.strip()]
    return "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>\n" for p in paragraphs)


_HEADING = re.compile(r"<(/?)h([1-6])\b")


def _demote_headings(html: str) -> str:
    # The page is h1, its sections h2 and each entry's headline h3, so a body's "# Heading" becomes h4.
    return _HEADING.sub(lambda m: f"<{m[1]}h{min(int(m[2]) + 3, 6)}", html)
