"""Reading entry files: which files are entries, and bytes → a validated ``Entry`` or every problem."""

from __future__ import annotations

from difflib import get_close_matches
from typing import Any

from pydantic import TypeAdapter, ValidationError

from .errors import InputError, Problem
from .frontmatter import EntrySource, read_entry
from .models import KINDS, Candidate, Context, Entry, EntryBase, QuoteEntry, ResultEntry, TurnoutEntry
from .names import entry_id, is_id

_ADAPTER: TypeAdapter[Entry] = TypeAdapter(Entry)
_FIELDS = {
    name
    for model in (EntryBase, ResultEntry, TurnoutEntry, QuoteEntry)
    for name in model.model_fields
    if name not in ("id", "body")
} | {"kind"}


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
        problems.append(Problem(path, source.line_of(("kind",)), f"kind: '{kind}' is not one of {', '.join(KINDS)}"))
    if problems:
        raise InputError(problems)
    front["id"] = ident
    front["body"] = source.body.strip("\n")
    try:
        return _ADAPTER.validate_python(front, context=context)
    except ValidationError as err:
        raise InputError(_problems(err, source)) from None


def _problems(err: ValidationError, source: EntrySource) -> list[Problem]:
    problems: list[Problem] = []
    for error in err.errors(include_url=False):
        loc = tuple(error["loc"])
        if loc and loc[0] in KINDS:  # the discriminated union puts the kind first
            loc = loc[1:]
        message = error["msg"].removeprefix("Value error, ")
        if not loc:  # a whole-entry check names its field at the start of the message
            head = message.split(":", 1)[0]
            if head in _FIELDS:
                loc = (head,)
                message = message.split(":", 1)[1].strip()
        if loc == ("body",) and error["type"] == "value_error":
            message = "is empty: write the text below the closing ---"
        problems.append(Problem(source.path, _line(source, loc), _describe(loc, error, message)))
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
        fields = sorted(Candidate.model_fields) if loc[0] == "candidates" else sorted(_FIELDS)
        near = get_close_matches(str(loc[-1]).lower(), fields, n=1)
        hint = f" (did you mean '{near[0]}'?)" if near else ""
        return f"{name}: unknown field{hint}"
    if kind == "missing":
        return f"{name}: required" if name != "body" else "the body is required for this kind: write it below the ---"
    if kind in ("list_type", "model_type", "dict_type"):
        want = "a list" if kind == "list_type" else "a set of fields"
        return f"{name}: must be {want}"
    if kind == "too_short" and loc and loc[-1] == "candidates":
        return f"{name}: list at least one candidate"
    if not name:
        return message
    return f"{name}: {message}"
