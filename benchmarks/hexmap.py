"""The results map's budgets: its size, the time to make it for 650 seats, and what one new result costs.

The whole 2024 night is replayed into a scratch folder (the House of Commons Library's files; no synthetic seats,
since the map draws only seats the layout knows) and built once. Then, each figure the median of ``--runs``:

- cold: the full map of 650 declared seats from views never drawn before (every hex made);
- one new result: the full map again, from the one kept in the build's store, when one seat's result is a new
  view (one hex made, 649 kept);
- charts: the seats and vote-share charts from scratch, and with one new result against the kept totals;
- a declaration, end to end: the night's last ``--runs`` results are held back, then dropped one by one into
  ``entries/`` of a watcher-style ``Site`` (long-lived, incremental), which publishes every page each changes
  (index.html and live.json with the compact map, results.html with the map and charts, the share page),
  timed in-process from the call to its return;
- sizes: the full map, results.html and the live page's map panel, raw and gzipped at nginx's level 5
  (deploy/nginx.conf).

Run: ``.venv/bin/python benchmarks/hexmap.py [--data DIR] [--runs 30]`` (the data shipped in the package by default).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from countnight import replay
from countnight.baseline import Baseline, load_baseline
from countnight.charts import charts
from countnight.ge2024 import shipped_data
from countnight.hexmap import render_map
from countnight.site import Site
from countnight.views import EntryView, make_view

AFTER_THE_NIGHT = datetime.fromisoformat("2024-07-05T13:00:00+01:00")


def median_ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    return f"{statistics.median(ordered) * 1000:.2f} ms (min {ordered[0] * 1000:.2f}, max {ordered[-1] * 1000:.2f})"


def night_order(path: Path) -> tuple[bool, str]:
    """A replayed entry's place in the night from its name ("2315-…" before "0016-…"): the night starts at 22:00."""
    return (path.name[:4] < "2200", path.name)


def timed(make: Callable[[], object]) -> float:
    started = time.perf_counter()
    make()
    return time.perf_counter() - started


def fresh(view: EntryView, baseline: Baseline) -> EntryView:
    """The same result as a view never drawn (nothing memoised on it), as a corrected entry would be."""
    return make_view(view.entry, baseline, view.entry.time.tzinfo)  # type: ignore[arg-type]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=shipped_data(), help="the GE2024 data folder")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args(argv)
    os.fsync = lambda fd: None  # type: ignore[assignment] # the replay's 1,300 fsyncs test the disk, not the map
    with tempfile.TemporaryDirectory(prefix="hexmap-bench-") as scratch:
        root = Path(scratch) / "uk"
        replay.replay_night(root, args.data, speed=0, seed=2024)
        # The night's last declarations are held back, to be dropped one by one as the newest entries.
        results = sorted((root / "entries").glob("*-result.md"), key=night_order)
        held = {path: path.read_bytes() for path in results[-args.runs :]}
        for path in held:
            path.unlink()
        site = Site(root, long_lived=True)
        assert site.build(AFTER_THE_NIGHT).built
        drops, drops_cpu = [], []
        for path, data in held.items():
            path.write_bytes(data)
            cpu = time.process_time()
            drops.append(timed(lambda path=path: site.build(AFTER_THE_NIGHT, changed=[f"entries/{path.name}"])))
            drops_cpu.append(time.process_time() - cpu)
        views = list(site.stream.results or [])
        baseline = load_baseline(root / "baseline.csv", "baseline.csv")
        assert len(views) == 650
        board = site.stream.board
        assert board is not None

        cold, one, charts_cold, charts_one = [], [], [], []
        for _ in range(args.runs):
            again = [fresh(v, baseline) for v in views]
            cold.append(timed(lambda again=again: render_map(again)))
            swapped = [fresh(again[0], baseline), *again[1:]]
            kept: dict[str, object] = {}
            render_map(again, store=kept)
            one.append(timed(lambda swapped=swapped, kept=kept: render_map(swapped, store=kept)))
            charts_cold.append(timed(lambda again=again: charts(board, again, {})))
            store: dict[str, object] = {}
            charts(board, again, store)
            charts_one.append(timed(lambda swapped=swapped, store=store: charts(board, swapped, store)))

        whole = render_map(views)
        assert whole is not None
        out = root / "site"
        live = json.loads((out / "live.json").read_text())
        sizes = {
            "the full map (SVG, legend, list)": whole.html.encode(),
            "results.html (map, charts, table)": (out / "results.html").read_bytes(),
            "the live page's map panel": live["panels"]["map"]["html"].encode(),
            "live.json": (out / "live.json").read_bytes(),
        }
    print(f"650 seats, {args.runs} runs, Python {sys.version.split()[0]}")
    print(f"map, cold (650 hexes made):          {median_ms(cold)}")
    print(f"map, one new result (1 hex made):    {median_ms(one)}")
    print(f"charts, from scratch:                {median_ms(charts_cold)}")
    print(f"charts, one new result:              {median_ms(charts_one)}")
    print(f"a declaration, built and published:  {median_ms(drops)}")
    print(f"  the same, CPU time of the process:  {median_ms(drops_cpu)}")
    for name, data in sizes.items():
        print(f"{name}: {len(data):,} bytes, {len(gzip.compress(data, 5)):,} gzipped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
