"""``countnight new``: a ready-to-fill entry file, time filled in, in the event's timezone.

What it leaves for the reporter (an empty field, a placeholder line in the body) fails validation, so a file made by
`new` goes live only once it has been filled in, however soon a running watcher sees it.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path

from .clock import show_time
from .config import Event
from .entries import PLACEHOLDERS
from .errors import InputError

KINDS_NEW = ("update", "result", "turnout", "quote", "summary")

_FIELDS = {
    "update": "title: {title}\n",
    "result": (
        "constituency: {constituency}\n"
        "# electorate: 70608\n"
        "# rejected: 123\n"
        "candidates:\n"
        "  - {{name: , party: , votes: }}\n"
        "  - {{name: , party: , votes: }}\n"
    ),
    "turnout": "constituency: {constituency}\nturnout:   # percent, like 65.39; or give ballots: 46169\n",
    "quote": "speaker: \nspeaker_role: \nquote: \n",
    "summary": "",
}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:48].strip("-") or "entry"


def render_new_entry(event: Event, kind: str, now: datetime, constituency: str | None, title: str | None) -> str:
    """The text of a new entry file."""
    if kind in ("result", "turnout") and not constituency:
        raise InputError.one("--constituency", 0, f"a {kind} entry needs --constituency NAME")
    local = now.astimezone(event.timezone)
    clock = f"{local:%H:%M}"
    if not event.window.holds(now):
        # Outside the window a clock time would resolve to another moment, or not at all. The full time is
        # refused too (by check, build and the watcher, naming the window) until the reporter sets a time on
        # the night: never published silently at a wrong date, and ``outside_the_night`` says so at once.
        clock = local.isoformat(timespec="minutes")
    fields = _FIELDS[kind].format(title=_yaml_text(title or ""), constituency=_yaml_text(constituency or ""))
    head = f'---\nkind: {kind}\ntime: "{clock}"\n'
    if kind != "update" and title:
        head += f"title: {_yaml_text(title)}\n"
    # A body to fill in where the kind's fields do not already wait for the reporter (an update with --title, a
    # summary): validation refuses these lines (entries.PLACEHOLDERS), so the file cannot go live as `new` wrote it.
    body = {"summary": f"{PLACEHOLDERS['summary']}\n\n- \n", "update": f"{PLACEHOLDERS['update']}\n"}.get(kind, "")
    return f"{head}{fields}author: \n---\n{body}"


def outside_the_night(event: Event, now: datetime) -> str | None:
    """What ``new`` tells a reporter who runs it outside the coverage window (None inside it)."""
    window = event.window
    if window.holds(now):
        return None
    return (
        f"it is {show_time(now, event.timezone)}, outside the coverage window ({window.describe()}): "
        "the entry is refused until its time: is changed to a time on the night"
    )


def _yaml_text(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"' if text else ""


def write_new_entry(
    root: Path,
    event: Event,
    kind: str,
    *,
    constituency: str | None,
    title: str | None,
    now: datetime | None = None,
) -> Path:
    """Create ``entries/HHMM-slug.md`` (never overwriting) and return its path."""
    now = now or datetime.now(UTC)
    text = render_new_entry(event, kind, now, constituency, title)
    folder = root / "entries"
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{now.astimezone(event.timezone):%H%M}-{_slug(constituency or title or kind)}"
    if kind in ("result", "turnout") and constituency:
        stem += f"-{kind}"
    for n in range(1, 1000):
        path = folder / (f"{stem}.md" if n == 1 else f"{stem}-{n}.md")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        return path
    raise InputError.one(str(folder), 0, "could not find a free file name")
