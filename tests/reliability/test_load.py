"""Load: 2,000 entry files dropped within one second, and the real 2024 night replayed into a running
``countnight watch``. Everything must be published; the tests measure how long it takes.
"""

from __future__ import annotations

import io
import json
import os
import statistics
import threading
import time
from pathlib import Path

import pytest
from watch_harness import CONFIG, FULL, TIMEOUT, Dropper, WatchProcess, missing, record, site_problems, wait_for

from conftest import REPO, write_blog
from countnight import ge2024, replay
from countnight.console import VERBOSE, Console
from countnight.site import Site
from countnight.watch import Watcher

FILES = 2000
DATA = Path(os.environ.get("COUNTNIGHT_DATA") or REPO.parent / "shared" / "data" / "ge2024")
# Issue 7: all 650 seats at 120x (about four minutes). By default one region, fast: every path, in seconds.
REPLAY_REGION, REPLAY_SPEED = (None, 120.0) if FULL else ("North East", 7200.0)


@pytest.mark.slow
def test_2000_files_dropped_within_a_second_are_all_published(tmp_path: Path) -> None:
    root = write_blog(tmp_path / "blog", {}, config=CONFIG.format(page_size=20))
    out = io.StringIO()
    watcher = Watcher(Site(root), console=Console(out, verbosity=VERBOSE, colour=False))  # the CLI's settings
    watcher.start()
    dropper = Dropper(root)
    staged = [dropper.stage(n) for n in range(FILES)]
    try:
        builds = watcher.builds
        began = time.monotonic()
        dropped = dropper.burst(staged)
        wait_for(lambda: not missing(root / "site", dropper.dropped), f"all {FILES} published", detail=out.getvalue)
        seconds = time.monotonic() - began
        wait_for(lambda: watcher.last_built is not None and watcher.last_built.live == FILES, "the last report")
    finally:
        watcher.stop()
    assert dropped < 1.0, f"the drop itself took {dropped:.2f} s"
    assert not site_problems(root / "site")
    assert out.getvalue().count(" published ") == FILES  # each announced once, none twice
    record(
        "load_2000_files",
        {
            "files": FILES,
            "dropped_within_s": round(dropped, 3),
            "lost": len(missing(root / "site", dropper.dropped)),
            "all_published_after_s": round(seconds, 2),
            "builds": watcher.builds - builds,
        },
    )


@pytest.mark.slow
@pytest.mark.skipif(not (DATA / ge2024.CANDIDATES_FILE).is_file(), reason=f"the GE2024 data files are not in {DATA}")
def test_a_replay_into_a_running_watcher_publishes_every_entry_and_measures_latency(tmp_path: Path) -> None:
    root = tmp_path / "night"
    rows = replay.select_seats(DATA, REPLAY_REGION, None)
    root.mkdir()
    replay.prepare_folder(root, rows, REPLAY_REGION)
    drops = replay.make_drops(replay.plan_for(DATA, rows, seed=2024), replay.night_clock(root))
    ids = [Path(d.name).stem for d in drops]
    watcher = WatchProcess(root, tmp_path / "watch.log")  # `countnight watch --root night -q`, as on the night
    out = root / "site"
    wait_for(lambda: (out / "live.json").exists(), "the first build", detail=watcher.tail)

    dropped_at: dict[str, float] = {}
    seen_at: dict[str, float] = {}
    failure: list[BaseException] = []

    def run() -> None:
        try:
            replay.run_replay(
                root,
                drops,
                speed=REPLAY_SPEED,
                on_drop=lambda d: dropped_at.setdefault(Path(d.name).stem, time.monotonic()),
            )
        except BaseException as err:  # reported by the main thread
            failure.append(err)

    thread = threading.Thread(target=run, name="replay", daemon=True)
    began = time.monotonic()
    thread.start()
    try:
        deadline = began + 30_000 / REPLAY_SPEED + TIMEOUT  # the night is under 30,000 s long
        while len(seen_at) < len(ids):  # poll live.json as an open page does, only far more often
            assert time.monotonic() < deadline, f"{len(ids) - len(seen_at)} never reached live.json\n{watcher.tail()}"
            assert not failure, failure
            try:
                current = {e["id"] for e in json.loads((out / "live.json").read_bytes())["entries"]}
            except ValueError as err:
                pytest.fail(f"live.json torn: {err}")
            now = time.monotonic()
            for ident in current:
                seen_at.setdefault(ident, now)
            time.sleep(0.005)
        thread.join(TIMEOUT)
        wall = time.monotonic() - began
        lost = missing(out, ids)
        assert not lost, f"lost {sorted(lost)[:10]}"
        results = json.loads((out / "results.json").read_bytes())
        assert results["declared"] == len(rows) == len(ids) // 2
    finally:
        returncode = watcher.stop()
    assert returncode == 0, watcher.tail()
    assert not site_problems(out)
    in_order = [seen_at[i] - dropped_at[i] for i in ids]  # in the order they were dropped
    latencies = sorted(in_order)
    tenth = max(1, len(ids) // 10)
    record(
        "replay_latency",
        {
            "region": REPLAY_REGION or "all",
            "seats": len(rows),
            "entries": len(ids),
            "speed": REPLAY_SPEED,
            "wall_s": round(wall, 1),
            "lost": len(lost),
            "latency_ms_median": round(1000 * statistics.median(latencies)),
            "latency_ms_p95": round(1000 * latencies[int(0.95 * (len(latencies) - 1))]),
            "latency_ms_max": round(1000 * latencies[-1]),
            # Each build grows with the night (every page is rendered again): early and late latency.
            "latency_ms_median_first_tenth": round(1000 * statistics.median(in_order[:tenth])),
            "latency_ms_median_last_tenth": round(1000 * statistics.median(in_order[-tenth:])),
        },
    )
