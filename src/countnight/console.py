"""What watch mode tells the newsroom: one line per entry that went out, came down or was refused.

``02:16:04 published 0216-cannock-result — Lab gain Cannock Chase (14 ms)``; problems exactly as
``countnight check`` prints them (``FILE:LINE: message``, so an editor can jump to them); a status line
after every build that changed something. Colour only on a terminal (plain ANSI, honouring NO_COLOR).
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TextIO

from .errors import Problem
from .report import BuildReport
from .terminal import lines, one_line

QUIET, NORMAL, VERBOSE = 0, 1, 2

_COLOURS = {
    "published": "32",  # green
    "updated": "36",  # cyan
    "withdrawn": "33",  # yellow
    "scheduled": "34",  # blue
    "rejected": "31",  # red
    "fixed": "32",
    "error": "31;1",
    "warning": "33",
    "held": "2",
    "time": "2",  # dim
}
_REMOVED = {"deleted": "file deleted", "withdrawn": "status: withdrawn", "draft": "back to draft"}


def _local_now() -> datetime:
    return datetime.now().astimezone()


class Console:
    """Writes watch mode's lines to a stream; safe to call from the builder and server threads."""

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        verbosity: int = NORMAL,
        colour: bool | None = None,
        clock: Callable[[], datetime] = _local_now,
    ) -> None:
        self.stream = stream if stream is not None else sys.stdout
        self.verbosity = verbosity
        if colour is None:
            colour = "NO_COLOR" not in os.environ and getattr(self.stream, "isatty", lambda: False)()
        self.colour = colour
        self._clock = clock
        self._lock = threading.Lock()

    # -- primitives -----------------------------------------------------------------------------

    def _paint(self, text: str, style: str) -> str:
        code = _COLOURS.get(style)
        return f"\x1b[{code}m{text}\x1b[0m" if self.colour and code else text

    def _write(self, text: str, level: int) -> None:
        if self.verbosity < level:
            return
        with self._lock:
            self.stream.write(text + "\n")
            self.stream.flush()

    def _stamp(self) -> str:
        return self._paint(self._clock().strftime("%H:%M:%S"), "time")

    def entry(self, verb: str, ident: str, what: str = "", seconds: float | None = None, level: int = NORMAL) -> None:
        """``02:16:04 published 0216-cannock-result — Lab gain Cannock Chase (14 ms)``."""
        # A name or a headline is the reporter's text: escaped, so no control or bidi character reaches the terminal.
        text = f"{self._stamp()} {self._paint(verb, verb)} {one_line(ident)}"
        if what:
            text += f" — {one_line(what)}"
        if seconds is not None:
            text += f" ({seconds * 1000:.0f} ms)"
        self._write(text, level)

    def problem(self, problem: Problem) -> None:
        """``FILE:LINE: message``, even under --quiet: problems are what --quiet is for."""
        text = one_line(problem)
        self._write(self._paint(text, "rejected") if self.colour else text, QUIET)

    def error(self, message: str) -> None:
        self._write(f"{self._stamp()} {self._paint('error', 'error')} {one_line(message)}", QUIET)

    def warning(self, message: str) -> None:
        self._write(f"{self._stamp()} {self._paint('warning', 'warning')} {one_line(message)}", NORMAL)

    def info(self, message: str, level: int = NORMAL) -> None:
        self._write(f"{self._stamp()} {lines(message)}", level)  # a traceback (verbose) keeps its lines

    def status(self, live: int, errors: int, next_due: tuple[datetime, str] | None = None) -> None:
        """``02:16:04 47 live · 1 error outstanding · next scheduled 22:00 (2200-exit-poll)``."""
        parts = [f"{live} live", f"{errors} error{'s' if errors != 1 else ''} outstanding" if errors else "no errors"]
        if next_due is not None:
            parts.append(f"next scheduled {next_due[0].astimezone():%H:%M:%S} ({one_line(next_due[1])})")
        self._write(f"{self._stamp()} {self._paint(' · '.join(parts), 'time' if not errors else 'warning')}", NORMAL)

    # -- one build ------------------------------------------------------------------------------

    def build(
        self,
        report: BuildReport,
        previous: BuildReport | None,
        *,
        touched: Iterable[str] = (),
        latency: dict[str, float] | None = None,
        live: int | None = None,
    ) -> bool:
        """Say what this build changed compared with the previous one; True if anything was said.

        ``touched``: the files this build was started for (a reporter who saves the same mistake again
        hears about it again); ``latency``: per file, seconds from its first event to published.
        """
        touched = set(touched)
        latency = latency or {}
        said = False
        for view in report.published:
            verb = "updated" if view.id in report.revised else "published"
            seconds = latency.get(f"entries/{view.id}.md", report.seconds)
            self.entry(verb, view.id, view.headline, seconds)
            said = True
        for ident, why in report.removed:
            self.entry("withdrawn", ident, _REMOVED.get(why, why), latency.get(f"entries/{ident}.md", report.seconds))
            said = True
        before = {e.id for e in previous.scheduled} if previous is not None else set()
        for entry in report.scheduled:
            if entry.id not in before or f"entries/{entry.id}.md" in touched:
                what = f"{entry.title + ', ' if entry.title else ''}goes live at {entry.time.astimezone():%H:%M:%S}"
                self.entry("scheduled", entry.id, what)
                said = True
        said |= self._problems(report, previous, touched)
        old_warnings = {*previous.warnings, *previous.notices} if previous is not None else set()
        for warning in [*report.warnings, *report.notices]:
            if warning not in old_warnings:
                self.warning(warning)
                said = True
        for ident in report.held:
            self.entry("held", ident, "file gone; kept until its grace period ends", level=VERBOSE)
        if said or self.verbosity >= VERBOSE:
            due = report.scheduled[0] if report.scheduled else None
            self.status(
                report.live if live is None else live,
                len(report.problems),
                (due.time, due.id) if due is not None else None,
            )
        return said

    def _problems(self, report: BuildReport, previous: BuildReport | None, touched: set[str]) -> bool:
        said = False
        before: dict[str, set[Problem]] = {}
        for problem in previous.problems if previous is not None else ():
            before.setdefault(problem.path, set()).add(problem)
        now: dict[str, list[Problem]] = {}
        for problem in report.problems:
            now.setdefault(problem.path, []).append(problem)
        if not report.built and report.problems and (previous is None or previous.built):
            self.error("the site was not rebuilt; the last good site stays live until this is fixed")
            said = True
        for path, problems in now.items():
            if set(problems) == before.get(path) and path not in touched:
                continue  # already said, and nobody has touched the file since
            count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
            keep = "; its last good version (if any) stays live" if path.startswith("entries/") else ""
            self.entry("rejected", path, count + keep)
            for problem in problems:
                self.problem(problem)
            said = True
        for path in sorted(set(before) - set(now)):
            self.entry("fixed", path, "no problems now")
            said = True
        return said
