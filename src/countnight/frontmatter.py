"""Entry files: bytes → front matter values with line numbers, and the Markdown body.

YAML is read from PyYAML's event stream and every scalar is kept as the text the reporter typed
(``NO``, ``23:45``, ``0123`` and ``1e3`` stay strings): the models decide what a field means, so
YAML 1.1's guesses never change a value. Anchors, aliases, tags and duplicate keys are refused.
Front matter of the simple shapes nearly every entry has is read by a line-based fast path (``_fast``)
that gives exactly the same values and lines; everything else, errors included, goes to the events.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .errors import InputError, Problem
from .frontrules import NULLS, Loc

MAX_BYTES = 1024 * 1024
_FENCE = re.compile(r"^---[ \t]*$")
_CLOSE = re.compile(r"^(---|\.\.\.)[ \t]*$")


@dataclass(frozen=True)
class EntrySource:
    """One entry file split into front matter (plain Python values) and body, with line numbers."""

    path: str
    front: dict[str, Any]
    lines: dict[Loc, int] = field(repr=False)
    body: str
    body_line: int

    def line_of(self, loc: Loc) -> int:
        """The line of the value at ``loc``, or of its nearest enclosing key when it has none."""
        while loc:
            if loc in self.lines:
                return self.lines[loc]
            loc = loc[:-1]
        return self.lines.get((), 1)


def decode(data: bytes, path: str) -> str:
    """Bytes → text with LF line ends; refuses big, binary and non-UTF-8 files with a line number."""
    if len(data) > MAX_BYTES:
        raise InputError.one(path, 0, f"file is {len(data):,} bytes; an entry must be under 1 MiB")
    if b"\x00" in data:
        wide = _wide_encoding(data)
        if wide is not None:  # Notepad's "Unicode", Word's "Unicode text": text, in another encoding
            raise InputError.one(
                path, 1, f"the file is saved as {wide}, not UTF-8: save it again as UTF-8 (in Save As, choose UTF-8)"
            )
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise InputError.one(path, line, "this is a binary file, not a text entry (it contains NUL bytes)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise InputError.one(
            path, line, f"not valid UTF-8 (byte 0x{data[err.start]:02x}); save the file as UTF-8"
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


_WIDE_BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe", "UTF-16"),
    (b"\xfe\xff", "UTF-16"),
)


def _wide_encoding(data: bytes) -> str | None:
    """ "UTF-16" or "UTF-32" when ``data`` is text in one of them (by its byte order mark, or without one, an entry's
    opening "---" as UTF-16 or UTF-32 writes it), else None: NUL bytes of another kind are a binary file."""
    for mark, name in _WIDE_BOMS:
        if data.startswith(mark):
            return name
    for encoding, name in (
        ("utf-32-le", "UTF-32"),
        ("utf-32-be", "UTF-32"),
        ("utf-16-le", "UTF-16"),
        ("utf-16-be", "UTF-16"),
    ):
        if data.startswith("---".encode(encoding)):
            try:
                data.decode(encoding)
            except UnicodeDecodeError:
                continue
            return name
    return None


def split(text: str, path: str) -> tuple[str, int, str, int]:
    """Text → (front matter, its first line, body, its first line)."""
    if not text.strip():
        raise InputError.one(path, 1, "the file is empty: an entry starts with front matter between --- lines")
    lines = text.split("\n")
    if not _FENCE.match(lines[0]):
        raise InputError.one(path, 1, "an entry must start with a '---' line, then its fields, then '---'")
    for i in range(1, len(lines)):
        if _CLOSE.match(lines[i]):
            front = "\n".join(lines[1:i])
            body = "\n".join(lines[i + 1 :])
            return front, 2, body, i + 2
    raise InputError.one(path, 1, "the front matter is not closed: add a '---' line after the fields")


def read_entry(data: bytes, path: str) -> EntrySource:
    """Parse one entry file's bytes; raises InputError with every problem found."""
    front_text, first, body, body_line = split(decode(data, path), path)
    problems = [
        Problem(path, first + n, "a tab in the indentation: indent with spaces")
        for n, line in enumerate(front_text.split("\n"))
        if "\t" in line[: len(line) - len(line.lstrip())]
    ]
    if problems:
        raise InputError(problems)
    fast = _fast(front_text, first)
    if fast is None:  # PyYAML's events: imported only for the files that need them (~14 ms a start)
        from .yamlread import parse_yaml

        root, lines = parse_yaml(front_text, first, path)
    else:
        root, lines = fast
    return EntrySource(path, root, lines, body, body_line)


# Fast path. Contract: _fast(front, first) is either None ("decline") or exactly what
# yamlread.parse_yaml(front, first, …) returns: the same root (keys, their order, values and types) and the same
# lines. tests/test_frontmatter_fast.py proves it with a hypothesis property over the accepted shapes and near
# misses of each, and a case per boundary.
# It reads what nearly every entry is about three times faster than libyaml's events through yamlread's builder:
#
#     kind: result               candidates:                             tags:
#     time: "03:17"                - {name: A, party: Lab, votes: 15671}   - Lab
#     title: 'Quoted: fine'        - name: B                             - "Con"
#     pinned:          (None)        votes: "9,512"
#
# Top-level fields start at column 0. A field with nothing after the colon may be followed by a block list whose
# "- " items stand at one column n (0, the key's own column, is allowed); an item is a scalar, a one-line flow
# mapping of plain or double-quoted values, or a mapping whose first field follows "- " and whose other fields stand
# at column n + 2. Blank lines, spaces at the end of a line and whole-line comments may stand anywhere.
#
# Declining is always safe: the slow path then reads the text as before, so every error and line number is its
# own. So anything unusual declines: tabs and every character that is not str.isprintable() (control characters,
# NEL, the line and paragraph separators, BOM, NBSP, surrogates, noncharacters); a plain scalar that starts with an
# indicator or contains ": " or " #" or ends with ":"; a quoted one with a backslash or its own quote inside it or
# anything after its closing quote; keys other than [A-Za-z_][A-Za-z0-9_-]* (up to 128 characters, libyaml's simple
# keys end at 1,024) or YAML's nulls; duplicate keys; other indentation (which would continue a scalar or nest);
# anything else in a flow mapping ("{ a: b }", "{a: b,c: d}", "[…]", "#", "'" openers, empty values); and front
# matter without a field. Widening what it accepts means widening the property test's grammar first.
_KEY_TEXT = r"[A-Za-z_][A-Za-z0-9_-]{0,127}"
_FAST_KEY = re.compile(rf"({_KEY_TEXT}):(?: +|$)")
# A flow mapping's value: double-quoted, or plain with no flow indicator, colon, "#" or double quote in it, starting
# with neither an indicator nor a space and not ending with a space.
_FLOW_VALUE = r"""("[^"\\]*"|[^-?:,\[\]{}#&*!|>'"%@`\s](?:[^,:\[\]{}#"]*[^,:\[\]{}#"\s])?)"""
_FLOW_PAIR = re.compile(rf"({_KEY_TEXT}): {_FLOW_VALUE}")
_FLOW_MAPPING = re.compile(rf"\{{{_KEY_TEXT}: {_FLOW_VALUE}(?:, {_KEY_TEXT}: {_FLOW_VALUE})*\}}")
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")
_NOT_A_FIELD = frozenset(" -#")  # what a line that is not a top-level field starts with


class _Decline(Exception):
    """Raised inside the fast path: the text is not one of its shapes, so the slow path reads it."""


def _fast(front: str, first: int) -> tuple[dict[str, Any], dict[Loc, int]] | None:
    """Front matter of the simple shapes above → (values, lines) exactly as ``yamlread.parse_yaml`` gives them,
    else None."""
    try:
        return _fast_read(front, first)
    except _Decline:
        return None


def _fast_read(front: str, first: int) -> tuple[dict[str, Any], dict[Loc, int]]:
    """Line by line: a top-level field, a list item, a field of a block-mapping item, or a blank or comment line."""
    root: dict[str, Any] = {}
    lines: dict[Loc, int] = {}
    open_key: str | None = None  # the last field, while it had no value: a list may follow
    items: list[Any] | None = None  # that field's list, once its first "- " is read
    column = 0  # the column of its items' "- "
    item: dict[str, Any] | None = None  # the last item, while it is a block mapping that may go on
    item_loc: Loc = ()
    for number, line in enumerate(front.split("\n"), first):
        line = line.rstrip(" ")
        if not line:
            continue
        if not line.isprintable():
            raise _Decline
        if line[0] not in _NOT_A_FIELD:  # a top-level field, the most common line: no lstrip needed
            key, value = _field(line, root)
            if not root:
                lines[()] = number
            root[key] = value
            lines[(key,)] = number
            open_key = key if line[-1] == ":" else None  # only "key:" with nothing after it
            items = item = None
            continue
        text = line.lstrip(" ")
        indent = len(line) - len(text)
        if text[0] == "#":
            continue
        if text[:2] == "- " and open_key is not None:
            if items is None:
                items, column = [], indent
                root[open_key] = items
            elif indent != column:
                raise _Decline
            item_loc = (open_key, len(items))
            item = _item(text[2:], item_loc, number, items, lines)
        elif item is not None and indent == column + 2:
            key, value = _field(text, item)
            item[key] = value
            lines[(*item_loc, key)] = number
        else:
            raise _Decline
    if not root:
        raise _Decline
    return root, lines


def _field(text: str, mapping: dict[str, Any]) -> tuple[str, str | None]:
    """A block mapping's ``key: value`` line (spaces at the end already gone) → (key, value), a new key."""
    match = _FAST_KEY.match(text)
    if match is None:
        raise _Decline
    key = match[1]
    if key in NULLS or key in mapping:
        raise _Decline
    rest = text[match.end() :]
    return key, (_scalar(rest) if rest else None)


def _scalar(text: str) -> str | None:
    """A one-line block scalar, not empty and with no spaces at either end → its value, as yamlread's builder
    keeps it."""
    quote = text[0]
    if quote == '"' or quote == "'":
        inner = text[1:-1]
        if len(text) < 2 or text[-1] != quote or quote in inner or "\\" in inner:
            raise _Decline
        return inner
    if quote in _INDICATORS or ": " in text or " #" in text or text[-1] == ":":
        raise _Decline
    return None if text in NULLS else text


def _item(text: str, loc: Loc, number: int, items: list[Any], lines: dict[Loc, int]) -> dict[str, Any] | None:
    """One "- " item, appended to ``items``; returns it when it is a block mapping more fields may join."""
    if text[0] == " ":  # "-  x": the item's column would not be n + 2
        raise _Decline
    lines[loc] = number
    if text[0] == "{":
        items.append(_flow_mapping(text, loc, number, lines))
        return None
    if _FAST_KEY.match(text) is None:
        items.append(_scalar(text))
        return None
    key, value = _field(text, {})
    lines[(*loc, key)] = number
    mapping = {key: value}
    items.append(mapping)
    return mapping


def _flow_mapping(text: str, loc: Loc, number: int, lines: dict[Loc, int]) -> dict[str, Any]:
    """``{key: value, key: "value"}`` on one line, exactly so spaced, and nothing after it."""
    if _FLOW_MAPPING.fullmatch(text) is None:
        raise _Decline
    mapping: dict[str, Any] = {}
    for key, value in _FLOW_PAIR.findall(text):  # the pairs the full match saw, in order
        if key in NULLS or key in mapping:
            raise _Decline
        mapping[key] = value[1:-1] if value[0] == '"' else None if value in NULLS else value
        lines[(*loc, key)] = number
    return mapping
