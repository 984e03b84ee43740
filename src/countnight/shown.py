"""What readers were shown: an entry file's outcome for the stream, and a version readers were shown read
again under the rules it was shown under (the journal keeps each version with its coverage window).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from .clock import Window
from .entries import parse_entry
from .errors import InputError, Problem
from .figures import MadePicture
from .journal import Record
from .models import Context, Entry


@dataclass(frozen=True)
class Outcome:
    """What one entry file gives the stream: its entry (or, when it fails validation, the version readers
    were last shown), its problems, and a withdrawal it says it is even though it fails."""

    entry: Entry | None
    problems: tuple[Problem, ...] = ()
    taken: str | None = None
    redated: str = ""  # the time new rules give a file readers were shown, while they keep the old version
    made: tuple[MadePicture, ...] = ()  # its pictures, made (for a last good version: those it was shown with)


def window_text(window: Window) -> str:
    """A window as a journal record keeps it (``Record.window``)."""
    return f"{window.start.isoformat()} {window.end.isoformat()} {window.zone.key}"


def as_shown(record: Record, path: str, context: Context) -> Entry | None:
    """A version readers were shown that the rules now in force refuse (the coverage window moved, the
    baseline lost its constituency), read under the rules it was shown under: its own window, and no baseline
    (the baseline only narrows what is accepted). A change of config or baseline refuses the file, never takes
    down the version readers see. None only when even that fails (a record from before windows were kept)."""
    window = context.window
    with contextlib.suppress(ValueError, KeyError):
        start, end, zone = record.window.split(" ")
        window = Window(ZoneInfo(zone), datetime.fromisoformat(start), datetime.fromisoformat(end))
    try:
        return parse_entry(record.text.encode(), path, Context(window, None, shown=True))
    except InputError:
        return None
