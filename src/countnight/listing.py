"""The night's entries as the build reads them, for editors: finding an entry by id, and ``countnight list``.

Every entry is read with the functions the build uses (``is_entry_name``, ``parse_entry``, the event's
window and baseline, ``Entry.live_at``), so the list and the page never disagree about an entry.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from datetime import datetime
from difflib import get_close_matches
from pathlib import Path, PurePath
from zoneinfo import ZoneInfo

from .baseline import load_baseline
from .clock import show_clock
from .config import Event, load_config
from .entries import parse_entry
from .errors import InputError, Problem
from .fileio import read_file
from .journal import Journal
from .models import Context, Entry
from .names import entry_id, is_entry_name
from .reading import taken_down
from .terminal import one_line
from .views import make_view

ENTRIES = "entries"


class UnknownEntry(LookupError):
    """No entry has this id; the message offers the nearest ids."""


def load_context(root: Path) -> tuple[Event, Context]:
    """The event and the validation context (window, baseline), read as ``Site.build`` reads them."""
    event = load_config(root)
    baseline = load_baseline(root / event.baseline, event.baseline) if event.baseline else None
    return event, Context(event.window, baseline)


def entry_files(root: Path) -> dict[str, Path]:
    """id → file, for every file in entries/ that SPEC counts as an entry."""
    folder = root / ENTRIES
    if not folder.is_dir():
        if os.path.lexists(folder):  # a file in its place: say so, not "no entries"
            raise InputError.one(f"{ENTRIES}/", 0, "is a file, not a folder: move it away")
        return {}
    return {entry_id(p.name): p for p in sorted(folder.iterdir()) if is_entry_name(p.name) and p.is_file()}


def normalise_id(text: str) -> str:
    """``entries/0317-x.md``, ``0317-x.md`` and ``0317-x`` all name the entry ``0317-x`` (tab completion)."""
    return entry_id(PurePath(text.strip()).name)


def unknown(ident: str, known: list[str], message: str) -> UnknownEntry:
    """``message`` and the ids closest to ``ident``, for did-you-mean."""
    near = get_close_matches(ident, known, n=3, cutoff=0.5)
    near += [k for k in known if ident and ident in k and k not in near][: 3 - len(near)]
    hint = f" (did you mean {' or '.join(repr(n) for n in near)}?)" if near else ""
    return UnknownEntry(f"{message}{hint}")


def find_entry(root: Path, text: str) -> Path:
    """The file of the entry named ``text``; UnknownEntry (with did-you-mean) when there is none."""
    ident = normalise_id(text)
    files = entry_files(root)
    if ident not in files:
        raise unknown(ident, sorted(files), f"no entry '{ident}' in {ENTRIES}/")
    return files[ident]


@dataclass(frozen=True)
class Listed:
    """One row of ``countnight list``."""

    id: str
    kind: str
    time: datetime | None
    status: str  # live, scheduled, draft, withdrawn, deleted, error
    flags: str  # B breaking, K key, P pinned, C corrected
    text: str  # the headline, or the first problem
    problems: tuple[Problem, ...] = ()
    fallback: bool = False  # invalid file, readers still see its last good version


def _row(ident: str, entry: Entry, event: Event, context: Context, now: datetime, status: str = "") -> Listed:
    view = make_view(entry, context.baseline, event.timezone)
    flags = "".join(
        letter if on else "-"
        for letter, on in (
            ("B", entry.breaking),
            ("K", entry.key),
            ("P", entry.pinned),
            ("C", entry.updated is not None or entry.correction is not None),
        )
    )
    if not status:
        status = entry.status
        if entry.status == "published":
            status = "live" if entry.live_at(now) else "scheduled"
    return Listed(ident, entry.kind, entry.time, status, flags, view.headline)


def list_entries(root: Path, now: datetime) -> list[Listed]:
    """Every entry file, plus every entry readers were shown whose file is gone, oldest first.

    Raises InputError when the config or baseline is broken (nothing can be validated without them).
    """
    event, context = load_context(root)
    journal = Journal.open(root)
    rows: list[Listed] = []
    files = entry_files(root)
    for ident, path in files.items():
        display = f"{ENTRIES}/{path.name}"
        try:
            data = read_file(path)
            entry = parse_entry(data, display, context)
        except InputError as err:
            first = err.problems[0]
            more = f" (+{len(err.problems) - 1} more)" if len(err.problems) > 1 else ""
            taken = taken_down(data, display)  # as the build: a broken file that says withdrawn is taken down
            shown = ident in journal.current and not taken
            note = f"; {taken} all the same" if taken else "; readers see its last good version" if shown else ""
            rows.append(Listed(ident, "?", None, "error", "----", f"{first}{more}{note}", err.problems, shown))
            continue
        except OSError as err:
            rows.append(Listed(ident, "?", None, "error", "----", f"{display}: cannot read ({err.strerror})"))
            continue
        rows.append(_row(ident, entry, event, context, now))
    for ident, record in journal.ever_shown.items():
        if ident in files:
            continue
        try:
            shown = replace(context, shown=True)  # as the build reads a version readers were shown
            entry = parse_entry(record.text.encode(), record.path or f"{ENTRIES}/{ident}.md", shown)
        except InputError:
            rows.append(Listed(ident, "?", None, "deleted", "----", "(its last version no longer validates)"))
            continue
        rows.append(_row(ident, entry, event, context, now, status="deleted"))
    far = datetime.max.replace(tzinfo=event.timezone)
    rows.sort(key=lambda r: (r.time or far, r.id))
    return rows


def format_table(rows: list[Listed], zone: ZoneInfo, width: int | None = None) -> list[str]:
    """The rows as aligned text lines: ID  KIND  TIME  STATUS  FLAGS  HEADLINE-OR-ERROR.

    With a ``width`` (a terminal's), headlines are cut to fit; errors never are (FILE:LINE matters).
    """
    ids = [one_line(r.id) for r in rows]  # a file name's controls and bidi characters escaped, not obeyed
    id_width = max([len("ID"), *(len(i) for i in ids)])
    lines = [f"{'ID':<{id_width}}  {'KIND':<8} {'TIME':<5}  {'STATUS':<9}  {'FLAGS':<5}  HEADLINE"]
    for r, ident in zip(rows, ids, strict=True):
        clock = show_clock(r.time, zone) if r.time else "--:--"
        text = one_line(r.text)
        room = max((width or 0) - id_width - 37, 30)
        if width and r.status != "error" and len(text) > room:
            text = text[: room - 1] + "…"
        lines.append(f"{ident:<{id_width}}  {r.kind:<8} {clock:<5}  {r.status:<9}  {r.flags:<5}  {text}")
    return lines
