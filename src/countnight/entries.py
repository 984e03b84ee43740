"""Reading entry files: which files are entries, and bytes → a validated ``Entry`` or every problem."""

from __future__ import annotations

import re
from difflib import get_close_matches
from typing import Any

from pydantic import TypeAdapter, ValidationError

from .errors import InputError, Problem
from .frontmatter import EntrySource, read_entry
from .models import (
    KINDS,
    MAX_EMBEDS,
    Candidate,
    Context,
    Entry,
    EntryBase,
    Picture,
    QuoteEntry,
    ResultEntry,
    TurnoutEntry,
)
from .names import entry_id, is_id
from .parties import fold_party, is_known, near_party, party_name

_ADAPTER: TypeAdapter[Entry] = TypeAdapter(Entry)
# The lines `countnight new` writes into a body for the reporter to replace (newentry.py writes them from here). An
# entry that still holds one is not filled in: it never goes live, however valid the rest is (a watcher used to
# publish "Write the summary here, as a short list: -" the moment `new summary` made the file).
PLACEHOLDERS = {
    "update": "Write the update here (or delete this line for a headline on its own).",
    "summary": "Write the summary here, as a short list:",
}
_PLACEHOLDER_LINES = {line.casefold() for line in PLACEHOLDERS.values()}
_LIST_MARK = re.compile(r"[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]*")  # the whole line: an item with nothing in it
_ITEM = re.compile(r"[ \t]*(?:[-*+]|\d{1,9}[.)])(?:[ \t]|$)")  # a line that starts a list item
# A quick look for either in the whole body (nearly every body has neither), the line-by-line look only when it
# finds one: the words every placeholder starts with, and a line that is an empty item, found from its line feed
# (a search for a literal first character is ~1 µs a body; one regex of both, ignoring case, was ~20).
_PLACEHOLDER_START = "write the "
_EMPTY_ITEM = re.compile(r"\n[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]*(?=\n|$)")
assert all(line.lower().startswith(_PLACEHOLDER_START) for line in PLACEHOLDERS.values())
_FIELDS = {
    name
    for model in (EntryBase, ResultEntry, TurnoutEntry, QuoteEntry)
    for name in model.model_fields
    if name not in ("id", "body")
} | {"kind", "alt", "caption", "credit"}


def parse_entry(data: bytes, path: str, context: Context) -> Entry:
    """One entry file's bytes → a validated entry; InputError with every problem, each with its line."""
    ident = entry_id(path)
    if not is_id(ident):
        raise InputError.one(
            path, 0, "the file name becomes the entry's address: use letters, digits, '-', '_' and '.' only"
        )
    if len(ident) > context.longest_id:
        raise InputError.one(
            path,
            0,
            f"the file name is too long to publish: {len(ident)} characters before .md, and the output folder's "
            f"file system takes at most {context.longest_id} (for the share page update/ID.html): shorten it",
        )
    source = read_entry(data, path)
    front = dict(source.front)
    problems: list[Problem] = []
    for reserved in ("id", "body"):
        if reserved in front:
            problems.append(
                Problem(path, source.line_of((reserved,)), f"{reserved}: not a field (it comes from the file)")
            )
            del front[reserved]
    kind = front.get("kind", "update")
    if isinstance(kind, str) and kind.strip().lower() in KINDS:
        front["kind"] = kind.strip().lower()
    else:
        near = get_close_matches(str(kind).strip().lower(), KINDS, n=1, cutoff=0.6)
        hint = f" (did you mean {near[0]}?)" if near else ""
        problems.append(
            Problem(path, source.line_of(("kind",)), f"kind: '{kind}' is not one of {', '.join(KINDS)}{hint}")
        )
    if problems:
        raise InputError(problems)
    front["id"] = ident
    front["body"] = source.body.strip("\n")
    unfilled = _unfilled(source) if not context.shown else []
    try:
        entry = _ADAPTER.validate_python(front, context=context)
    except ValidationError as err:
        raise InputError(sorted({*_problems(err, source), *unfilled})) from None
    if unfilled:
        raise InputError(unfilled)
    return entry


def _unfilled(source: EntrySource) -> list[Problem]:
    """The body's lines that ``countnight new`` left for the reporter to fill in: its instruction lines, and a
    list item with nothing after its mark (Markdown shows an empty bullet). A lone ``-`` right under a line of
    text is a heading's underline, not an item, so only one that starts the body or follows a blank line or
    another item counts."""
    body = source.body
    if _PLACEHOLDER_START not in body.lower() and _EMPTY_ITEM.search("\n" + body) is None:
        return []
    problems: list[Problem] = []
    before = ""
    for number, line in enumerate(body.split("\n"), source.body_line):
        stripped = line.strip()
        if stripped.casefold() in _PLACEHOLDER_LINES:
            problems.append(
                Problem(
                    source.path,
                    number,
                    f"body: '{stripped}' is the placeholder `countnight new` wrote: write your text in its place "
                    "(the entry goes live once it is filled in)",
                )
            )
        elif stripped and _LIST_MARK.fullmatch(line) and (not before.strip() or _ITEM.match(before)):
            problems.append(
                Problem(
                    source.path, number, f"body: an empty list item ('{stripped}'): write the point or delete the line"
                )
            )
        before = line
    return problems


def _problems(err: ValidationError, source: EntrySource) -> list[Problem]:
    problems: list[Problem] = []
    for error in err.errors(include_url=False):
        loc = tuple(error["loc"])
        if loc and loc[0] in KINDS:  # the discriminated union puts the kind first
            loc = loc[1:]
        if loc[:1] == ("embed",) and len(loc) == 2 and not isinstance(source.front.get("embed"), list):
            loc = ("embed",)  # one address, written as one: no [1] after its name
        message = error["msg"].removeprefix("Value error, ")
        if not loc:  # a whole-entry check names its field at the start of the message
            head = message.split(":", 1)[0]
            if head in _FIELDS:
                loc = (head,)
                message = message.split(":", 1)[1].strip()
        if loc == ("body",) and error["type"] == "value_error":
            message = "is empty: write the text below the closing ---"
        at = loc
        if len(loc) == 3 and loc[:2] == ("image", 0) and isinstance(source.front.get("image"), str):
            # `image: NAME` with `alt:` beside it (models._pictures made it a list): said as it was written
            loc = ("image",) if loc[2] == "file" else (loc[2],)
            at = loc if loc[0] in source.front else ("image",)
        problems.append(Problem(source.path, _line(source, at), _describe(loc, error, message)))
    return sorted(set(problems))


def _line(source: EntrySource, loc: tuple[Any, ...]) -> int:
    if loc == ("body",):
        return source.body_line
    if loc and loc[0] not in source.front:  # a missing field: point at the front matter's first line
        return source.line_of(())
    return source.line_of(loc)


def _describe(loc: tuple[Any, ...], error: Any, message: str) -> str:
    name = "".join(f"[{part + 1}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".")
    kind = error["type"]
    if kind == "extra_forbidden":
        fields = sorted(
            Candidate.model_fields if loc[0] == "candidates" else Picture.model_fields if loc[0] == "image" else _FIELDS
        )
        near = get_close_matches(str(loc[-1]).lower(), fields, n=1)
        hint = f" (did you mean '{near[0]}'?)" if near else ""
        return f"{name}: unknown field{hint}"
    if kind == "missing" and loc[-1] == "alt":
        return f"{name}: required: say what the picture shows, for readers who cannot see it"
    if kind == "missing":
        return f"{name}: required" if name != "body" else "the body is required for this kind: write it below the ---"
    if kind in ("list_type", "model_type", "dict_type"):
        want = "a list" if kind == "list_type" else "a set of fields"
        return f"{name}: must be {want}"
    if kind == "too_short" and loc and loc[-1] == "candidates":
        return f"{name}: list at least one candidate"
    if kind == "too_short" and loc == ("embed",):
        return f"{name}: the list is empty: give at least one address, or remove the line"
    if kind == "too_long" and loc == ("embed",):
        return f"{name}: at most {MAX_EMBEDS} posts or videos an entry (make a second entry for the rest)"
    if not name:
        return message
    return f"{name}: {message}"


def entry_warnings(entry: Entry, text: str, path: str) -> tuple[Problem, ...]:
    """What a valid entry publishes that is worth a second look, as ``FILE:LINE: field: message``: a party
    countnight does not know and that did not stand in 2024 (published as written: new parties and independents
    are real; a near miss of one it knows is refused as an error instead, see models._party). The file's text is
    read again only then."""
    if not isinstance(entry, ResultEntry):
        return ()
    unknown = [(number, c.party) for number, c in enumerate(entry.candidates) if not is_known(c.party)]
    if unknown:  # a party that stood in 2024 is real: no colour of its own, but nothing to look at again
        from .ge2024 import parties_2024  # its file is read only when a result names a party we do not know

        stood = parties_2024()
        unknown = [(n, party) for n, party in unknown if not {fold_party(party), _bare(party)} & stood]
    if not unknown:
        return ()
    try:
        source: EntrySource | None = read_entry(text.encode(), path)
    except InputError:  # pragma: no cover - the entry was read from this very text
        source = None
    warnings = []
    for number, written in unknown:
        line = source.line_of(("candidates", number, "party")) if source is not None else 0
        near = near_party(written, short=True)
        hint = f"; if you meant {party_name(near)}, write {near}" if near else ""
        warnings.append(
            Problem(
                path,
                line,
                f"candidates[{number + 1}].party: '{written}' is not a party countnight knows: published as written, "
                f"in grey{hint} (right for a small party or an independent)",
            )
        )
    return tuple(warnings)


def _bare(party: str) -> str:
    """A party's folded name without the words people add or drop: "The …", "… Party"."""
    return re.sub(r"party$", "", re.sub(r"^the", "", fold_party(party)))
