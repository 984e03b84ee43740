"""`countnight demo` (what `make run` runs): the sample night played again, live, into a scratch folder."""

from __future__ import annotations

import hashlib
import io
import re
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import REPO
from countnight import demo
from countnight.cli import main
from countnight.console import NORMAL, Console
from countnight.site import Site
from countnight.watch import Watcher


def _tree_digest(root: Path) -> dict[str, str]:
    """What the demo reads of a blog folder (its config, baseline, entries and templates), by digest."""
    files = [root / "countnight.toml", root / "baseline.csv"]
    files += [
        p
        for folder in ("entries", "templates")
        for p in sorted((root / folder).rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts  # compiled templates: a cache, made by other tests too
    ]
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def test_the_plan_is_every_sample_entry_in_the_order_of_its_time() -> None:
    drops = demo.plan(REPO)
    names = sorted(p.name for p in (REPO / "entries").glob("*.md"))
    assert sorted(d.name for d in drops) == names
    times = [d.at for d in drops]
    assert all(t is not None for t in times)
    assert times == sorted(times)  # type: ignore[type-var]
    assert drops[0].name.startswith("2200-")  # 22:00 on 4 July comes before 00:10 on the 5th


def test_prepare_makes_a_live_copy_and_never_writes_the_blog(tmp_path: Path) -> None:
    before = _tree_digest(REPO)
    demo.prepare(REPO, tmp_path / "night")
    config = (tmp_path / "night" / "countnight.toml").read_text()
    assert "coverage_end" not in config  # the page stays live: no "Coverage ended"
    assert 'title = "Election 2024: Staffordshire and Cheshire"' in config
    assert (tmp_path / "night" / "baseline.csv").read_bytes() == (REPO / "baseline.csv").read_bytes()
    assert not (tmp_path / "night" / "templates").exists()  # the default theme is not copied as overrides
    assert list((tmp_path / "night" / "entries").iterdir()) == []
    assert _tree_digest(REPO) == before


def test_play_delivers_whole_files_on_a_compressed_clock_with_a_longest_gap(tmp_path: Path) -> None:
    demo.prepare(REPO, tmp_path)
    drops = demo.plan(REPO)
    started = time.monotonic()
    delivered = demo.play(tmp_path, drops, speed=1e6, max_gap=0.0, stop=threading.Event())
    assert delivered == len(drops)
    assert time.monotonic() - started < 120  # no gap waited for (max_gap 0): the night would take hours
    for drop in drops:
        assert (tmp_path / "entries" / drop.name).read_bytes() == drop.data


def test_play_stops_when_asked(tmp_path: Path) -> None:
    demo.prepare(REPO, tmp_path)
    stop = threading.Event()
    stop.set()
    assert demo.play(tmp_path, demo.plan(REPO), speed=1.0, max_gap=60.0, stop=stop) == 0


@pytest.mark.parametrize(("speed", "gap"), [(0.0, 1.0), (float("nan"), 1.0), (1.0, -1.0), (1.0, float("inf"))])
def test_play_refuses_a_speed_or_gap_that_cannot_be(tmp_path: Path, speed: float, gap: float) -> None:
    with pytest.raises(ValueError, match="speed"):
        demo.play(tmp_path, [], speed=speed, max_gap=gap, stop=threading.Event())


def test_a_watcher_publishes_the_whole_sample_night_as_it_arrives_with_no_error(tmp_path: Path) -> None:
    demo.prepare(REPO, tmp_path)
    drops = demo.plan(REPO)
    out = io.StringIO()
    watcher = Watcher(Site(tmp_path, long_lived=True), console=Console(out, verbosity=NORMAL, colour=False))
    watcher.start()
    try:
        demo.play(tmp_path, drops, speed=1e6, max_gap=0.02, stop=threading.Event())
        deadline = time.monotonic() + 60
        while not (watcher.last and watcher.last.live == len(drops)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert watcher.last is not None
        assert watcher.last.live == len(drops), out.getvalue()
        assert not watcher.outstanding(), out.getvalue()
    finally:
        watcher.stop()
    index = (tmp_path / "site" / "index.html").read_text()
    assert "Coverage ended" not in index
    assert len(re.findall(r"<article\b", index)) >= 20


def test_the_command_refuses_to_play_into_the_blog_itself() -> None:
    result = CliRunner().invoke(main, ["demo", "--root", str(REPO), "--into", str(REPO), "--port", "0"])
    assert result.exit_code == 2
    assert "must be a folder other than --root" in result.output
