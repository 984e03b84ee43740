"""What one build did: the report the console prints and the tests read."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .changes import Changes
from .errors import Problem
from .models import Entry
from .views import EntryView


@dataclass
class BuildReport:
    """What one build did, for the console and for tests."""

    problems: list[Problem] = field(default_factory=list)  # every input problem, as FILE:LINE: message
    warnings: list[str] = field(default_factory=list)
    # What is published as written but worth a look (a party countnight does not know, a second result for a seat,
    # a file in entries/ that is not an entry), as FILE:LINE: field: message. Said once by the console, like a
    # warning; unlike one, it does not keep a build from being recorded as up to date (it is the input's, not
    # the machine's, and the same until the file changes).
    notices: list[str] = field(default_factory=list)
    published: list[EntryView] = field(default_factory=list)  # new or changed versions now shown
    removed: list[tuple[str, str]] = field(default_factory=list)  # (id, "withdrawn" | "deleted" | "draft")
    scheduled: list[Entry] = field(default_factory=list)  # published, but their time has not come
    live: int = 0
    written: list[str] = field(default_factory=list)
    seconds: float = 0.0
    built: bool = False  # False: config, baseline, theme or disk trouble kept the previous site
    next_due: datetime | None = None  # when the next scheduled entry goes live
    revised: set[str] = field(default_factory=set)  # ids in `published` that replaced a version readers saw
    held: list[str] = field(default_factory=list)  # ids whose file is gone, kept through the grace period
    hold_until: float | None = None  # time.monotonic() when the first held id's grace period ends
    valid_until: datetime | None = None  # when the site changes with time alone (an embargo lifts, coverage ends)
    cards_pending: int = 0  # share cards still to draw: a later build draws them (sharecards.CardBudget)
    # uptodate.disk_outputs of the site as it went out, for uptodate.record_build: taken while a publish into
    # an empty folder waited on the disk (None: not taken, record_build looks at the folder)
    outputs_digest: str | None = None
    changes: Changes | None = None  # what the build handed its outlets (None: it published nothing)

    @property
    def rejected(self) -> list[str]:
        return sorted({p.path for p in self.problems})


@dataclass
class CheckReport:
    """What ``countnight check`` found, and what it looked at (to say so when all is well)."""

    problems: list[Problem]
    warnings: list[str] = field(default_factory=list)
    entries: int = 0  # entry files read
    baseline: tuple[str, int] | None = None  # (its file, its constituencies), when the config names one
