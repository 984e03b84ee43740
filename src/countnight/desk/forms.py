"""A desk form → the text of an entry file, checked by the build's own reader, errors at their fields.

The desk never decides on its own whether an entry is good: it writes the YAML a reporter would have
typed (each value quoted by the editing code's ``yaml_scalar``, so it reads back exactly as typed), hands
it to ``entries.parse_entry`` as ``countnight check`` does, and maps each ``FILE:LINE: field: message``
back to the form field that wrote that line. The preview is the page's own card (``render.render_entry``
over ``views.make_view``), so the winner, majority, shares, turnout and gain or hold a reporter sees
before sending are the ones readers will see.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from markupsafe import Markup

from ..config import Event
from ..editing import yaml_scalar
from ..entries import parse_entry
from ..errors import InputError
from ..markup import MAX_MARKDOWN
from ..models import Context, Entry
from ..render import Theme, render_entry
from ..replay import slug
from ..themefault import template_problem
from ..views import make_view

KINDS = ("result", "turnout", "quote", "update")
MAX_CANDIDATES = 40
MAX_LINE = 300  # a name, a title, a role
MAX_TEXT = 2_000  # a quote, a correction note
FLAGS = ("breaking", "key", "recount")
# form field → YAML key, in the order they are written, per kind (candidates are written where "*" is)
_LAYOUT: dict[str, tuple[str, ...]] = {
    "result": ("time", "constituency", "electorate", "rejected", "*", "recount"),
    "turnout": ("time", "constituency", "turnout", "ballots", "electorate"),
    "quote": ("time", "speaker", "speaker_role", "quote"),
    "update": ("time", "title"),
}
_TAIL = ("author", "role", "breaking", "key")
_FIELD = re.compile(r"^(?P<key>[a-z_]+)(?:\[(?P<row>\d+)\](?:\.(?P<sub>[a-z_]+))?)?: (?P<message>.*)$", re.DOTALL)


@dataclass(frozen=True)
class Composed:
    """An entry file's text, and which form field wrote each of its lines."""

    text: str
    lines: dict[int, str]
    rows: tuple[int, ...]  # the form's candidate row of each candidate written (blank rows are skipped)
    errors: dict[str, list[str]] = field(default_factory=dict)  # too long, before YAML is even written


@dataclass(frozen=True)
class Checked:
    """A form checked as the build would check the file it makes."""

    text: str
    entry: Entry | None
    errors: dict[str, list[str]]  # form field ("votes-2", "time", "form" for the whole) → messages
    preview: str = ""  # the page's card for this entry, when it is valid

    @property
    def ok(self) -> bool:
        return self.entry is not None and not self.errors


def candidate_rows(form: Mapping[str, str]) -> int:
    """How many candidate rows the form has (``rows``), within bounds."""
    try:
        return max(0, min(int(form.get("rows", "0")), MAX_CANDIDATES))
    except ValueError:
        return 0


def _value(form: Mapping[str, str], key: str) -> str:
    return (form.get(key) or "").strip()


PHOTO_WORDS = ("alt", "caption", "credit")  # the photo's own fields: what it shows, its caption, who took it


def compose(kind: str, form: Mapping[str, str], *, draft: bool, photo: str | None = None) -> Composed:
    """The entry file a form describes. Empty fields are left out (the reader says what is required).

    ``photo``: the name of the photo sent with it (stored beside the entry), written as ``image:``."""
    lines: list[str] = ["---", f"kind: {kind}"]
    where: dict[int, str] = {}
    errors: dict[str, list[str]] = {}
    rows: list[int] = []

    def put(key: str, yaml_key: str, value: str, limit: int = MAX_LINE) -> None:
        if len(value) > limit:
            errors.setdefault(key, []).append(f"is {len(value):,} characters long; at most {limit:,}")
            return
        where[len(lines) + 1] = key
        lines.append(f"{yaml_key}: {yaml_scalar(value)}")

    for key in (*_LAYOUT[kind], *_TAIL):
        if key == "*":
            put_candidates(form, lines, where, rows, errors)
        elif key in FLAGS:
            if form.get(key):
                where[len(lines) + 1] = key
                lines.append(f"{key}: true")
        elif value := _value(form, key):
            put(key, key, value, MAX_TEXT if key == "quote" else MAX_LINE)
    if photo is not None:
        where[len(lines) + 1] = "photo"
        lines.append(f"image: {yaml_scalar(photo)}")
    for key in PHOTO_WORDS:  # without a photo too: the reader then says a description needs one
        if value := _value(form, key):
            put(key, key, value)
    if draft:
        lines.append("status: draft")
    lines.append("---")
    body = (form.get("body") or "").replace("\r\n", "\n").replace("\r", "\n").strip("\n")
    if len(body) > MAX_MARKDOWN:
        errors.setdefault("body", []).append(f"is {len(body):,} characters long; at most {MAX_MARKDOWN:,}")
        body = ""
    if body:
        where.update({len(lines) + 1 + n: "body" for n in range(body.count("\n") + 1)})
    text = "\n".join(lines) + "\n" + (body + "\n" if body else "")
    return Composed(text, where, tuple(rows), errors)


def put_candidates(
    form: Mapping[str, str], lines: list[str], where: dict[int, str], rows: list[int], errors: dict[str, list[str]]
) -> None:
    """``candidates:`` as a block list, a field a line, so every problem's line names its input."""
    where[len(lines) + 1] = "candidates"
    lines.append("candidates:")
    for row in range(1, candidate_rows(form) + 1):
        values = {sub: _value(form, f"{sub}-{row}") for sub in ("name", "party", "votes")}
        if not any(values.values()):
            continue
        rows.append(row)
        lead = "  - "
        for sub, value in values.items():
            if not value:
                continue
            if len(value) > MAX_LINE:
                errors.setdefault(f"{sub}-{row}", []).append(f"is {len(value):,} characters long; at most {MAX_LINE}")
                continue
            where[len(lines) + 1] = f"{sub}-{row}"
            lines.append(f"{lead}{sub}: {yaml_scalar(value)}")
            lead = "    "
        if lead == "  - ":  # every value was too long: keep the list item so the rows still line up
            lines.append("  - {}")


def check(
    kind: str,
    form: Mapping[str, str],
    event: Event,
    context: Context,
    theme: Theme,
    *,
    draft: bool,
    stem: str,
    photo: str | None = None,
) -> Checked:
    """Compose the form's entry and read it exactly as ``countnight check`` would, as ``entries/STEM.md``."""
    if kind not in KINDS:
        raise ValueError(kind)
    composed = compose(kind, form, draft=draft, photo=photo)
    errors = {key: list(messages) for key, messages in composed.errors.items()}
    try:
        entry: Entry | None = parse_entry(composed.text.encode("utf-8"), f"entries/{stem}.md", context)
    except InputError as err:
        entry = None
        for problem in err.problems:
            key, message = _field_of(kind, problem.line, problem.message, composed)
            errors.setdefault(key, []).append(message)
    if entry is not None and kind == "result" and not composed.rows:
        errors.setdefault("candidates", []).append("type the votes of at least one candidate")
    preview = ""
    if entry is not None and not errors:
        try:
            preview = render_entry(theme, make_view(entry, context.baseline, event.timezone))
        except Exception as err:  # the blog's own templates failed on it: the entry is still good to send
            if (problem := template_problem(err)) is None:
                raise
            preview = str(
                Markup('<p class="preview-problem">The blog\'s templates cannot show it: {}</p>').format(problem)
            )
    return Checked(composed.text, entry, errors, preview)


def _field_of(kind: str, line: int, message: str, composed: Composed) -> tuple[str, str]:
    """The form field a problem belongs to, and the message to show beside it."""
    match = _FIELD.match(message)
    if match:
        key, row, sub, text = match["key"], match["row"], match["sub"], match["message"]
        if key == "candidates" and row is not None:
            index = int(row) - 1
            if 0 <= index < len(composed.rows):
                return (f"{sub}-{composed.rows[index]}" if sub else f"votes-{composed.rows[index]}"), text
        if key in (*_LAYOUT[kind], *_TAIL, *PHOTO_WORDS, "candidates", "body"):
            if key in PHOTO_WORDS and text.startswith("describes a picture"):
                return "photo", "choose the photo this describes, or leave its description empty"
            return key, text
        if key == "image":
            return "photo", text
    return composed.lines.get(line, "form"), message


def file_stem(kind: str, entry: Entry | None, form: Mapping[str, str], event: Event, now: datetime) -> str:
    """``0216-cannock-chase-result``: the entry's time and what it is about, in letters, digits and '-'."""
    moment = entry.time if entry is not None else now
    about = _value(form, "constituency") or _value(form, "title") or _value(form, "speaker") or kind
    words = slug(about)[:48].strip("-") or kind
    stem = f"{moment.astimezone(event.timezone):%H%M}-{words}"
    return stem if words == kind or kind in ("update", "quote") else f"{stem}-{kind}"
