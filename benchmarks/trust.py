"""What the record's second copy and the ctime in signatures cost: one source tree against another.

    .venv/bin/python benchmarks/trust.py [--n 10000] [--runs 5] [--compare /path/to/other/src]

For each source tree (this one's ``src/``, and the one given with ``--compare``, such as an export of the
commit before), in turn run by run, on the same synthetic night (benchmarks/workload.py) written once and
left to settle:

- cold: ``countnight build`` as a new process, state and output folder removed first (its journal and the
  copy are written whole);
- restart: ``countnight build`` again, nothing changed (the up-to-date check alone);
- journal: ``Journal.open`` of the N-record journal the cold build wrote, in one process (the read a
  restart's full build, ``history`` and ``list`` pay).

Medians (and min-max) of ``--runs`` runs, wall time of the whole process. Printed as a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import workload

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def _run(src: Path, *args: str) -> float:
    env = dict(os.environ, PYTHONPATH=str(src))
    command = [sys.executable, "-c", "from countnight.launch import main; main()", *args]
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise RuntimeError(f"{command} exited {done.returncode}: {done.stderr[-2000:]}")
    return seconds


def _journal_open(src: Path, root: Path) -> float:
    code = (
        "import sys, time; from pathlib import Path; from countnight.journal import Journal; "
        "t = time.perf_counter(); j = Journal.open(Path(sys.argv[1])); print(time.perf_counter() - t, len(j.records))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(root)],
        env=dict(os.environ, PYTHONPATH=str(src)),
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.split()[0])


def _summary(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} s ({min(values):.3f}–{max(values):.3f})"


def measure_once(src: Path, root: Path, found: dict[str, list[float]]) -> None:
    """One cold build, one up-to-date restart and one journal read, added to ``found``."""
    out = root / "site"
    shutil.rmtree(root / ".countnight", ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)
    found["cold"].append(_run(src, "build", "--root", str(root), "--out", str(out)))
    found["restart"].append(_run(src, "build", "--root", str(root), "--out", str(out)))
    found["journal"].append(_journal_open(src, root))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--compare", type=Path, help="another tree's src/ to measure the same way")
    args = parser.parse_args()
    trees = {"this tree": REPO / "src"} | ({"compared": args.compare.resolve()} if args.compare else {})
    with tempfile.TemporaryDirectory(prefix="trust-bench-") as tmp:
        root = Path(tmp) / "night"
        root.mkdir()
        workload.write_countnight(root, workload.make_night(args.n))
        time.sleep(2.5)  # let the files settle (see uptodate.RACY_NS), as a night's files have
        results = {name: {"cold": [], "restart": [], "journal": []} for name in trees}
        for _ in range(args.runs):  # the trees in turn, so that both meet the same load from other jobs
            for name, src in trees.items():
                measure_once(src, root, results[name])
    print(f"| N = {args.n:,}, {args.runs} runs | " + " | ".join(results) + " |")
    print("| --- |" + " --- |" * len(results))
    for key, label in (("cold", "cold `build`"), ("restart", "restart, up to date"), ("journal", "Journal.open")):
        print(f"| {label} | " + " | ".join(_summary(r[key]) for r in results.values()) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
