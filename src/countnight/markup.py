"""Markdown → safe HTML: Python-Markdown, then an allow-list sanitiser (nh3).

The sanitiser runs on everything Markdown produces, so raw HTML in a body, an ``attr_list``
``{: onclick=… }`` or a ``javascript:`` link can never reach a page. The page's
Content-Security-Policy is the second wall (see ``render.CSP``).
"""

from __future__ import annotations

import html
import re
import threading
from typing import TYPE_CHECKING

import nh3

if TYPE_CHECKING:
    import markdown
    import markdown.extensions

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
# Python-Markdown's link and image patterns (name, class, pattern, priority as markdown.inlinepatterns
# registers them), each registered again by _BoundedLinks with the bounded scans below.
_LINK_PATTERNS = (
    ("reference", "ReferenceInlineProcessor", "REFERENCE_RE", 170),
    ("link", "LinkInlineProcessor", "LINK_RE", 160),
    ("image_link", "ImageInlineProcessor", "IMAGE_LINK_RE", 150),
    ("image_reference", "ImageReferenceInlineProcessor", "IMAGE_REFERENCE_RE", 140),
    ("short_reference", "ShortReferenceInlineProcessor", "REFERENCE_RE", 130),
    ("short_image_ref", "ShortImageReferenceInlineProcessor", "IMAGE_REFERENCE_RE", 125),
)


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


def _bounded_links() -> markdown.extensions.Extension:
    """A Python-Markdown extension (its public Extension API) that registers the six link and image patterns
    again, under their own names and priorities, as subclasses of the stock processors whose ``getText``
    is ``_link_text`` and whose ``getLink`` looks no further than ``_LINK_SPAN`` characters. Everything else
    is the stock processors' own code; tests/test_fuzz.py proves the output is Python-Markdown's."""
    from markdown import inlinepatterns
    from markdown.extensions import Extension

    def bounded(base: type[inlinepatterns.LinkInlineProcessor]) -> type[inlinepatterns.LinkInlineProcessor]:
        class Bounded(base):  # type: ignore[valid-type,misc]
            def getText(self, data: str, index: int) -> tuple[str, int, bool]:
                return _link_text(data, index)

            def getLink(self, data: str, index: int) -> tuple[str, str | None, int, bool]:
                return super().getLink(data[: index + _LINK_SPAN], index)

        Bounded.__name__ = Bounded.__qualname__ = f"Bounded{base.__name__}"
        return Bounded

    class BoundedLinks(Extension):
        def extendMarkdown(self, md: markdown.Markdown) -> None:
            for name, kind, pattern, priority in _LINK_PATTERNS:
                processor = bounded(getattr(inlinepatterns, kind))(getattr(inlinepatterns, pattern), md)
                md.inlinePatterns.register(processor, name, priority)

    return BoundedLinks()


def _converter() -> markdown.Markdown:
    md = getattr(_local, "md", None)
    if md is None:
        import markdown  # here: most bodies take the fast path, and a build need not load it at all

        md = markdown.Markdown(extensions=[*_EXTENSIONS, _bounded_links()], output_format="html")
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
    fast = _fast(text)
    return fast if fast is not None else _render_slow(text)


def _render_slow(text: str) -> str:
    """Python-Markdown, then the sanitiser: the specification ``_fast`` must reproduce byte for byte."""
    md = _converter()
    try:
        converted = md.convert(text)
    except RecursionError:  # nesting deeper than the parser's recursion (1,000 list levels)
        return plain_text_html(text)
    finally:
        md.reset()
    # A table's empty corner ("| | Seats |") is a header with no text, which screen readers announce as
    # nothing and axe-core reports: it heads nothing, so it is an ordinary (empty) cell.
    return clean(_demote_headings(converted)).replace("<th></th>", "<td></td>")


def plain_text_html(text: str) -> str:
    """Text as escaped paragraphs, line breaks kept: for bodies Markdown cannot be trusted with."""
    paragraphs = [p.strip("\n") for p in re.split(r"\n[ \t]*\n", text) if p.strip()]
    return "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>\n" for p in paragraphs)


_HEADING = re.compile(r"<(/?)h([1-6])\b")


def _demote_headings(html: str) -> str:
    # The page is h1, its sections h2 and each entry's headline h3, so a body's "# Heading" becomes h4.
    return _HEADING.sub(lambda m: f"<{m[1]}h{min(int(m[2]) + 3, 6)}", html)


# Fast path. Contract: _fast(text) is either None ("fall back") or exactly _render_slow(text), byte for byte,
# for the installed Python-Markdown and nh3; tests/test_markup_fast.py proves it with a hypothesis property
# over allowed and forbidden characters and structures and an explicit case per boundary. It skips both
# Markdown (~0.3 ms) and nh3 for what most bodies are: paragraphs of prose and flat "- " lists, with *em* and
# **strong**, blocks split by blank lines. Anything else Markdown or the sanitiser could read differently
# falls back; widening what it accepts means widening the property test's alphabet first.
#
# Characters that start Markdown syntax (\ ` _ [ ] < >), table cells (|), or that we have no reason to take
# (~ = { } ^), tabs and CRs, and "&" unless a space follows (so never an entity): the slow path's business.
_FAST_FORBIDDEN = re.compile(r"[\\`_\[\]<>|~={}^\t\r]")
_BARE_AMPERSAND = re.compile(r"&(?! )")
_STARS = re.compile(r"\*+")
_ORDERED = re.compile(r"\d+[.)](?: |$)")  # "1. x" is an ordered list ("1)" too, to be safe)
_ITEM_MARKERS = ("- ", "* ", "+ ")
_LINE_START_FORBIDDEN = frozenset("-+#")  # list item, hr, setext underline, "#" heading
_AFTER_CLOSER = frozenset(("", " ", ".", ",", ";", ":", "!", "?"))


def _fast(text: str) -> str | None:
    """Render ``text`` without Markdown or nh3 if it is only plain paragraphs and flat lists, else None."""
    if _FAST_FORBIDDEN.search(text) or ("&" in text and _BARE_AMPERSAND.search(text)):
        return None
    html: list[str] = []
    previous_was_list = False
    for lines in _blocks(text):
        if not lines:  # an empty body: render_markdown answers "" before asking
            return None
        is_list = lines[0][:2] in _ITEM_MARKERS
        if is_list and previous_was_list:  # "- a\n\n- b" is one loose list of <li><p>…
            return None
        rendered = _list(lines) if is_list else _paragraph(lines)
        if rendered is None:
            return None
        html.append(rendered)
        previous_was_list = is_list
    return "\n".join(html)


def _blocks(text: str) -> list[list[str]]:
    """The lines of each block: Markdown splits blocks at one or more empty lines (str.split is ~10x faster
    than a regex split here). A line of spaces is not empty here; _inline rejects it."""
    blocks: list[list[str]] = [[]]
    for line in text.strip("\n").split("\n"):
        if line:
            blocks[-1].append(line)
        elif blocks[-1]:
            blocks.append([])
    return blocks


def _paragraph(lines: list[str]) -> str | None:
    """Markdown keeps a paragraph's line breaks as "\n" inside one <p>."""
    inline = []
    for line in lines:
        rendered = _inline(line)
        if rendered is None:
            return None
        inline.append(rendered)
    return "<p>" + "\n".join(inline) + "</p>"


def _list(lines: list[str]) -> str | None:
    """A tight list; a line that is not an item (lazy continuation, nesting) falls back."""
    items = []
    for line in lines:
        if line[:2] not in _ITEM_MARKERS:
            return None
        inline = _inline(line[2:])
        if inline is None:
            return None
        items.append(f"<li>{inline}</li>\n")
    return f"<ul>\n{''.join(items)}</ul>"


def _inline(line: str) -> str | None:
    """One line of a paragraph or item as HTML, or None if a block rule or inline syntax could apply to it.

    Leading spaces (code, nesting), trailing spaces (two make a <br>), a first character that opens a list,
    rule or heading, and anything non-printable (NBSP, which nh3 writes as &nbsp;, zero-width and bidi
    controls, line separators) all fall back."""
    if not line or line[0] == " " or line[-1] == " " or line[0] in _LINE_START_FORBIDDEN:
        return None
    if not line.isprintable() or _ORDERED.match(line):
        return None
    if "*" in line:
        emphasised = _emphasis(line)
        if emphasised is None:
            return None
        line = emphasised
    return line.replace("&", "&amp;")


def _emphasis(line: str) -> str | None:
    """``*em*`` and ``**strong**`` in the one unambiguous shape: an opener at the line start or after a space
    and before a non-space, a closer of the same length after a non-space and before a space, the end or
    . , ; : ! ?, no nesting and no run of three. Any other "*" (intraword, lone, unpaired) falls back."""
    out: list[str] = []
    done = 0
    opener: tuple[int, int] | None = None  # (start, length) of the open run
    for run in _STARS.finditer(line):
        start, end = run.span()
        before = line[start - 1] if start else " "
        after = line[end : end + 1]
        if end - start > 2:
            return None
        if opener is None:
            if before != " " or after in ("", " "):
                return None
            opener = (start, end - start)
            continue
        if end - start != opener[1] or before == " " or after not in _AFTER_CLOSER:
            return None
        tag = "em" if opener[1] == 1 else "strong"
        out += [line[done : opener[0]], f"<{tag}>", line[opener[0] + opener[1] : start], f"</{tag}>"]
        done = end
        opener = None
    if opener is not None:
        return None
    out.append(line[done:])
    return "".join(out)
