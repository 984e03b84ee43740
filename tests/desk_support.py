"""Fixtures for the desk's tests: a blog folder with the 2024 candidates, reporters, a real desk server,
a real watcher thread and the preview server of the site it publishes."""

from __future__ import annotations

import functools
import io
import os
import re
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from conftest import DURING_THE_NIGHT, REPO, write_blog
from countnight.desk.candidates import write_candidates_file
from countnight.desk.reporters import Reporters
from countnight.desk.server import DeskServer
from countnight.ge2024 import read_results
from countnight.replay import select_seats
from countnight.serve import PreviewServer
from countnight.watch import Watcher

DATA = Path(os.environ.get("COUNTNIGHT_DATA") or Path(__file__).resolve().parents[2] / "shared/data/ge2024")
TIMEOUT = 15.0
SEATS = ("Burton and Uttoxeter", "Cannock Chase", "Stafford")
SIX = "Burton and Uttoxeter"  # six candidates in 2024


def clock() -> datetime:
    """The desk's clock: 03:30 on the night, so "now" in its forms is a clock time of the night."""
    return DURING_THE_NIGHT


def make_desk_blog(root: Path, *, approval: bool = False) -> Path:
    """The sample night's config and baseline, no entries, and ``candidates.csv`` from the Library's data."""
    config = (REPO / "countnight.toml").read_text() + ("\n[desk]\napproval = true\n" if approval else "")
    write_blog(root, {"baseline.csv": (REPO / "baseline.csv").read_text()}, config=config)
    (root / "candidates.csv").write_bytes(_candidates_csv())
    return root


@functools.cache
def _candidates_csv() -> bytes:
    """candidates.csv for SEATS, written once a test session by the command's own code (reading the Library's
    files takes a second)."""
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "candidates.csv"
        write_candidates_file(DATA, select_seats(DATA, None, SEATS), path)
        return path.read_bytes()


@dataclass(frozen=True)
class Declared:
    name: str
    party: str
    votes: int


@functools.cache
def official(seat: str) -> list[Declared]:
    """The seat's 2024 candidates and votes, as the Library published them."""
    found = next(s for s in read_results(DATA) if s.name == seat)
    return [Declared(c.name, c.party, c.votes) for c in found.candidates]


def add_reporter(root: Path, name: str, *, editor: bool = False, role: str = "BBC Radio Stoke") -> str:
    """Add a reporter; returns the path of their sign-in link."""
    return "/signin/" + Reporters(root).add(name, role, editor, datetime.now(UTC))


CSRF = re.compile(r'name="csrf" value="([^"]*)"')


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match[1]


def sign_in(client: TestClient, link: str) -> None:
    page = client.get(link)
    assert page.status_code == 200
    done = client.post("/signin", data={"csrf": csrf_of(page.text), "token": link.rsplit("/", 1)[1]})
    assert done.status_code == 200 and "File an entry" in done.text, done.text


@dataclass
class Night:
    """A blog folder with its desk, its watcher and the preview server of its site, all running."""

    root: Path
    desk: DeskServer
    watcher: Watcher
    site: PreviewServer
    console: io.StringIO

    def wait_live(self, ident: str) -> None:
        """Until the site's live.json carries the entry."""
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            try:
                if f'"id":"{ident}"' in (self.root / "site" / "live.json").read_text():
                    return
            except FileNotFoundError:
                pass
            time.sleep(0.01)
        pytest.fail(f"{ident} never went live\n{self.console.getvalue()}")
