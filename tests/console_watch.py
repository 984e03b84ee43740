"""A real watcher in a thread with its console captured, and a wait on what the console says (with a deadline,
never a fixed sleep): for the tests of what the newsroom is told."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from countnight.console import VERBOSE, Console
from countnight.site import Site
from countnight.watch import Watcher

TIMEOUT = 20.0  # generous: the suite runs two workers on a loaded two-core machine


@dataclass
class Watching:
    watcher: Watcher
    out: io.StringIO
    deadline: float = field(default_factory=lambda: time.monotonic() + TIMEOUT)

    @property
    def said(self) -> str:
        return self.out.getvalue()

    def wait_for(self, text: str) -> None:
        """Until the console has said ``text``; fails with what it did say once the deadline passes."""
        self.until(lambda: text in self.said, text)

    def until(self, condition: object, what: str) -> None:
        while not condition():  # type: ignore[operator]
            assert time.monotonic() < self.deadline, f"timed out waiting for {what}\n--- console ---\n{self.said}"
            time.sleep(0.01)


@contextmanager
def watching(root: Path) -> Iterator[Watching]:
    """A watcher on ``root`` with a verbose, colourless console; stopped on the way out."""
    out = io.StringIO()
    watcher = Watcher(Site(root), console=Console(out, verbosity=VERBOSE, colour=False), quiet=0.03, grace=0.3)
    watcher.start()
    try:
        yield Watching(watcher, out)
    finally:
        watcher.stop()
