"""Shared fixtures: tiny blog folders written from ``{path: text}`` into tmp_path, and the sample night."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# The sample night was over by noon on 5 July 2024: a fixed clock makes every build reproducible.
AFTER_THE_NIGHT = datetime.fromisoformat("2024-07-05T13:00:00+01:00")
DURING_THE_NIGHT = datetime.fromisoformat("2024-07-05T03:30:00+01:00")

CONFIG = """\
title = "Test night"
timezone = "Europe/London"
coverage_start = "2024-07-04T22:00:00+01:00"
coverage_end = "2024-07-05T12:00:00+01:00"
editor = "Tim Page"
"""

# Two rows of the sample night's baseline (2019 notional results, 2024 electorates).
BASELINE = """\
constituency,electorate,turnout,winner,Lab,Con,LD,RUK,Green
Cannock Chase,76974,61.30,Con,25.39,68.31,,,6.30
Stafford,70608,72.70,Con,31.20,57.94,6.38,,4.48
"""

BlogMaker = Callable[..., Path]


def write_blog(root: Path, files: dict[str, str | bytes], *, config: str | None = CONFIG) -> Path:
    """Write a blog folder: ``countnight.toml`` (unless None) plus ``files`` (text is dedented)."""
    root.mkdir(parents=True, exist_ok=True)
    if config is not None:
        (root / "countnight.toml").write_text(config)
    (root / "entries").mkdir(exist_ok=True)
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content))
    return root


@pytest.fixture
def blog(tmp_path: Path) -> BlogMaker:
    """``blog({"entries/0101-x.md": "..."}, config=...)`` → the folder."""

    def make(files: dict[str, str | bytes] | None = None, *, config: str | None = CONFIG) -> Path:
        return write_blog(tmp_path / "blog", files or {}, config=config)

    return make


def copy_sample(root: Path) -> Path:
    """Copy the repository's own blog folder (config, baseline, entries) to ``root``, a new folder."""
    root.mkdir(parents=True)
    for name in ("countnight.toml", "baseline.csv"):
        shutil.copy(REPO / name, root / name)
    shutil.copytree(REPO / "entries", root / "entries")
    return root


@pytest.fixture
def sample_night(tmp_path: Path) -> Path:
    """A copy of the sample night to build and change freely."""
    return copy_sample(tmp_path / "night")


COUNTNIGHT = [sys.executable, "-c", "from countnight.launch import main; main()"]  # the installed entry point


def run_countnight(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``countnight ARGS`` in its own process, as a user runs it (launch.py first); output as text."""
    return subprocess.run(
        [*COUNTNIGHT, *args], capture_output=True, text=True, timeout=timeout, check=False, errors="surrogateescape"
    )
