"""The desk's pytest fixtures (loaded with ``pytest_plugins = ["desk_fixtures"]``; helpers are in desk_support):
a blog folder with the 2024 candidates, test clients signed in, and a running night."""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from countnight.console import VERBOSE, Console
from countnight.desk.app import make_app
from countnight.desk.server import DeskServer
from countnight.serve import PreviewServer
from countnight.site import Site
from countnight.watch import Watcher
from desk_support import TIMEOUT, Night, add_reporter, clock, make_desk_blog, sign_in


@pytest.fixture
def desk_blog(tmp_path: Path) -> Path:
    return make_desk_blog(tmp_path / "night")


@pytest.fixture
def client_for() -> Iterator[Callable[..., TestClient]]:
    """``client_for(root, name=None, editor=False)`` → a TestClient of the desk, signed in as ``name``."""
    clients: list[TestClient] = []

    def make(root: Path, name: str | None = None, *, editor: bool = False) -> TestClient:
        client = TestClient(make_app(root, clock), follow_redirects=True)
        clients.append(client)
        if name:
            sign_in(client, add_reporter(root, name, editor=editor))
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def night_for(tmp_path: Path) -> Iterator[Callable[..., Night]]:
    """``night_for(approval=False)`` → a running Night; everything is stopped afterwards."""
    started: list[Night] = []

    def start(*, approval: bool = False) -> Night:
        root = make_desk_blog(tmp_path / f"night{len(started)}", approval=approval)
        out = io.StringIO()
        watcher = Watcher(
            Site(root),
            console=Console(out, verbosity=VERBOSE, colour=False),
            quiet=0.03,
            grace=0.3,
            health=0.1,
            retry=0.1,
        )
        watcher.start()
        deadline = time.monotonic() + TIMEOUT
        while not (root / "site" / "index.html").exists():
            if time.monotonic() > deadline:
                pytest.fail(f"the first build never came\n{out.getvalue()}")
            time.sleep(0.01)
        site = PreviewServer(root / "site", "127.0.0.1", 0)
        site.start()
        night = Night(root, DeskServer(root, clock).start(), watcher, site, out)
        started.append(night)
        return night

    yield start
    for night in started:
        night.desk.stop()
        night.site.stop()
        night.watcher.stop()
