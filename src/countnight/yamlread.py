"""Front matter read through PyYAML's event stream: the specification of ``frontmatter``'s line reader, and
the reader of everything that one declines, errors included.

Imported only when a file needs it: PyYAML takes ~14 ms to import, and nearly every entry is read by the
line reader.
"""

from __future__ import annotations

from typing import Any

import yaml

from .errors import InputError, Problem
from .frontrules import MAX_DEPTH, NULLS, Loc

try:  # libyaml is much faster; the pure-Python parser gives the same events
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader


# What a reporter's usual YAML slips look like in PyYAML's words, and how to put each right. PyYAML says what the
# parser met ("mapping values are not allowed in this context"), which names the grammar, not the slip.
_HOW = (
    ("mapping values are not allowed", 'a ": " inside a value: put the whole value in double quotes'),
    ("cannot start any token", "a value cannot start with @, ` or %: put it in double quotes"),
    ("expected ',' or '}'", "in {…}, separate the fields with commas: {name: A, party: Lab, votes: 5}"),
    ("expected ',' or ']'", "in […], separate the items with commas"),
    ("while scanning an alias", "a value cannot start with *: put it in double quotes"),
    ("while scanning an anchor", "a value cannot start with &: put it in double quotes"),
    ("block sequence entries are not allowed", 'a value cannot start with "- ": put it in double quotes'),
    ("while scanning a quoted scalar", "a quote is not closed: end the value with the quote it starts with"),
    ("while scanning a block scalar", "a value cannot start with | or >: put it in double quotes"),
    (
        "did not find expected key",
        "check the quotes on this line: inside '…' write an apostrophe as '', or use double quotes",
    ),
)


def _how(what: str) -> str:
    for sign, how in _HOW:
        if sign in what:
            return f" ({how})"
    return ""


def parse_yaml(front_text: str, first: int, path: str) -> tuple[dict[str, Any], dict[Loc, int]]:
    """Front matter → (values, line of each value) through PyYAML's events: the specification
    ``frontmatter._fast`` must reproduce, and the reader of everything it declines, errors included."""
    builder = _Builder(path, first)
    try:
        for event in yaml.parse(front_text, Loader=_Loader):
            builder.feed(event)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = first + mark.line if mark else first
        if "nesting depth" in str(err.problem):
            # PyYAML 6.0.4's scanner stops a flow of "[" at its own limit, before our MAX_DEPTH is reached:
            # either way the reporter is told the same thing
            raise InputError.one(path, line, _too_deep()) from None
        what = str(err.problem or "")
        if err.context:
            what += f" ({err.context})"
        raise InputError.one(path, line, f"YAML syntax: {what}{_how(what)}") from None
    except yaml.YAMLError as err:  # pragma: no cover - unmarked errors are rare
        raise InputError.one(path, first, f"YAML syntax: {err}") from None
    if builder.problems:
        raise InputError(builder.problems)
    root = builder.root
    if root is None:
        root = {}
    if not isinstance(root, dict):
        kind = "a list" if isinstance(root, list) else "plain text"
        raise InputError.one(path, first, f"the front matter is {kind}; it must be 'field: value' lines")
    return root, builder.lines


def _too_deep() -> str:
    return f"lists and fields are nested more than {MAX_DEPTH} levels deep; an entry needs three at most"


class _Builder:
    """Turns YAML events into dicts, lists and strings, recording where each value stands."""

    def __init__(self, path: str, first: int) -> None:
        self.path = path
        self.first = first
        self.root: Any = None
        self.lines: dict[Loc, int] = {}
        self.problems: list[Problem] = []
        self._docs = 0
        # Each open collection: (container, its loc, pending key for mappings or None, key lines)
        self._stack: list[tuple[Any, Loc, list[Any], dict[str, int]]] = []

    def _line(self, event: yaml.Event) -> int:
        return self.first + event.start_mark.line

    def _refuse(self, event: yaml.Event) -> bool:
        anchor = getattr(event, "anchor", None)
        if isinstance(event, yaml.AliasEvent):
            self.problems.append(
                Problem(self.path, self._line(event), f"aliases (*{anchor}) are not allowed: write the value out")
            )
            return True
        if anchor:
            self.problems.append(
                Problem(self.path, self._line(event), f"anchors (&{anchor}) are not allowed: write the value out")
            )
        tag = getattr(event, "tag", None)
        if tag and tag != "!" and not (isinstance(event, yaml.ScalarEvent) and event.implicit[0]):
            shown = tag.replace("tag:yaml.org,2002:", "!!")
            self.problems.append(
                Problem(self.path, self._line(event), f"tags ({shown}) are not allowed: write the value without it")
            )
        return False

    def feed(self, event: yaml.Event) -> None:
        if type(event) is yaml.ScalarEvent and not event.anchor and (event.tag in (None, "!") or event.implicit[0]):
            # The common case, first and cheap: a plain or quoted value with no anchor or tag.
            value = event.value
            self._place(None if not event.style and value in NULLS else value, event)
            return
        if isinstance(event, yaml.DocumentStartEvent):
            self._docs += 1
            if self._docs > 1:
                self.problems.append(
                    Problem(
                        self.path,
                        self._line(event),
                        "only one block of fields is allowed between the --- lines",
                    )
                )
            return
        if isinstance(event, yaml.StreamStartEvent | yaml.StreamEndEvent | yaml.DocumentEndEvent):
            return
        if isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            container, loc, _, _ = self._stack.pop()
            self._place(container, event, loc_hint=loc)
            return
        if self._refuse(event):
            self._place(None, event)
            return
        if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            if len(self._stack) >= MAX_DEPTH:
                raise InputError.one(self.path, self._line(event), _too_deep())
            loc = self._child_loc()
            self.lines.setdefault(loc, self._line(event))
            container: Any = {} if isinstance(event, yaml.MappingStartEvent) else []
            self._stack.append((container, loc, [], {}))
            return
        if isinstance(event, yaml.ScalarEvent):
            plain = not event.style  # libyaml says "" for plain, the pure-Python parser None
            value = None if plain and event.value in NULLS else event.value
            self._place(value, event)

    def _child_loc(self) -> Loc:
        if not self._stack:
            return ()
        container, loc, pending, _ = self._stack[-1]
        if isinstance(container, list):
            return (*loc, len(container))
        return (*loc, pending[0]) if pending else loc

    def _place(self, value: Any, event: yaml.Event, loc_hint: Loc | None = None) -> None:
        if not self._stack:
            self.root = value
            return
        container, loc, pending, key_lines = self._stack[-1]
        if isinstance(container, list):
            if loc_hint is None:
                self.lines[(*loc, len(container))] = self._line(event)
            container.append(value)
            return
        if not pending:  # this value is a key
            line = self._line(event)
            if not isinstance(value, str):
                self.problems.append(Problem(self.path, line, "a field name must be plain text"))
                value = f"<line {line}>"
            if value in key_lines:
                self.problems.append(
                    Problem(self.path, line, f"duplicate field '{value}' (first at line {key_lines[value]})")
                )
            else:
                key_lines[value] = line
                self.lines[(*loc, value)] = line
            pending.append(value)
            return
        key = pending.pop()
        if key not in container:  # a duplicate keeps the first value; it is reported above
            container[key] = value
