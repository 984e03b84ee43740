"""Fixtures for the checks of the page as readers get it (tests/test_phone.py, tests/test_pa11y.py): the sample
night and the whole 2024 night (``countnight replay --instant``, 650 results), each built after it ended and
served by nginx with deploy/nginx.conf on a loopback port, once per test module."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from browser_support import NGINX, Nginx, need, start_nginx
from conftest import AFTER_THE_NIGHT, copy_sample
from countnight.cli import main
from countnight.site import Site


def serve_built(root: Path, now: datetime) -> Iterator[Nginx]:
    """Build the blog folder ``root`` at ``now`` and serve its site until the generator is closed."""
    need(NGINX.exists(), f"nginx is not installed at {NGINX}")
    report = Site(root).build(now)
    assert report.built and not report.problems, report.problems
    server = start_nginx(root / "site", root.parent / "nginx")
    yield server
    server.stop()


def replay_national(root: Path) -> Path:
    """The whole 2024 night replayed into ``root`` at once, its coverage ended (as the sample's: a live page
    would listen to the push channel, which needs nchan's publisher)."""
    result = CliRunner().invoke(main, ["replay", "--root", str(root), "--instant"])
    assert result.exit_code == 0, result.output
    assert len(list((root / "entries").glob("*.md"))) > 1000
    with (root / "countnight.toml").open("a") as config:
        config.write('coverage_end = "2024-07-05T12:00:00+01:00"\n')
    return root


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nginx]:
    """The sample night after it ended."""
    yield from serve_built(copy_sample(tmp_path_factory.mktemp("sample") / "night"), AFTER_THE_NIGHT)


@pytest.fixture(scope="module")
def national(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nginx]:
    """The whole 2024 night replayed at once, after it ended."""
    yield from serve_built(replay_national(tmp_path_factory.mktemp("national") / "night"), AFTER_THE_NIGHT)
