"""CPU time of countnight at two revisions, side by side: a cold build (its process and its forked workers) and
the median of a watcher's one-entry builds, each revision in fresh processes, alternating, on the synthetic night
of benchmarks/workload.py. CPU time, not wall time: on a loaded machine it still compares the two.

    .venv/bin/python benchmarks/ab.py --base REV [--size 10000] [--pairs 4] [--drops 15]

The base revision is checked out (git worktree, detached) into benchmarks/.work/ab-base and run from its src/
with this checkout's virtual environment; the other side is this checkout.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
import workload  # noqa: E402

CHILD = r"""
import json, resource, shutil, statistics, sys, time
from pathlib import Path
from countnight.site import Site

root, out = Path(sys.argv[1]), Path(sys.argv[2])
drops = json.loads(Path(sys.argv[3]).read_text())


def cpu():
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


shutil.rmtree(root / ".countnight", ignore_errors=True)
start = cpu()
assert Site(root, out).build().built
cold = cpu() - start
watcher = Site(root, out.with_name(out.name + "-w"), long_lived=True)
assert watcher.build().built
one = []
for name, text in drops:
    (root / "entries" / name).write_text(text)
    start = time.process_time()
    assert watcher.build(changed=[f"entries/{name}"]).built
    one.append(time.process_time() - start)
for name, _ in drops:
    (root / "entries" / name).unlink()
print(json.dumps({"cold": cold, "one entry": statistics.median(one)}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", required=True, help="the revision to compare this checkout with")
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--pairs", type=int, default=4)
    parser.add_argument("--drops", type=int, default=15)
    args = parser.parse_args()
    work = HERE / ".work" / "ab"
    base = HERE / ".work" / "ab-base"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    if base.exists():
        subprocess.run(["git", "worktree", "remove", "--force", str(base)], cwd=REPO, check=False)
    subprocess.run(["git", "worktree", "add", "--detach", "--quiet", str(base), args.base], cwd=REPO, check=True)
    # The default theme is the top-level templates/, packaged as countnight.theme by the install's package-dir
    # mapping, which only knows this checkout: without the link the base would render with this side's theme.
    (base / "src" / "countnight" / "theme").symlink_to(base / "templates", target_is_directory=True)
    night = workload.make_night(args.size)
    root = work / "night"
    workload.write_countnight(root, night)
    drops = [workload.drop_item(night, k, "ab") for k in range(args.drops)]
    (work / "drops.json").write_text(json.dumps([[f"{d.id}.md", workload.countnight_text(d)] for d in drops]))
    sides = {"base": base / "src", "this": REPO / "src"}
    results: dict[str, list[dict[str, float]]] = {"base": [], "this": []}
    for i in range(args.pairs):
        for name in ("base", "this") if i % 2 == 0 else ("this", "base"):
            out = work / f"out-{name}-{i}"
            env = dict(os.environ, PYTHONPATH=str(sides[name]))
            command = [sys.executable, "-c", CHILD, str(root), str(out), str(work / "drops.json")]
            done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
            if done.returncode:
                sys.exit(f"ab.py: the {name} side failed (exit {done.returncode}):\n{done.stderr}")
            line = done.stdout.splitlines()[-1]
            results[name].append(json.loads(line))
            for folder in (out, out.with_name(out.name + "-w"), root / ".countnight"):
                shutil.rmtree(folder, ignore_errors=True)
    print(f"{args.size:,} entries, {args.pairs} pairs, CPU time (base {args.base})")
    for figure in ("cold", "one entry"):
        before = [r[figure] for r in results["base"]]
        after = [r[figure] for r in results["this"]]
        ratios = [a / b for a, b in zip(after, before, strict=True)]
        print(
            f"{figure}: base {statistics.median(before) * 1000:.1f} ms, this {statistics.median(after) * 1000:.1f} ms;"
            f" this ÷ base, pair by pair: median {statistics.median(ratios):.3f} ({min(ratios):.3f}–{max(ratios):.3f})"
        )
    subprocess.run(["git", "worktree", "remove", "--force", str(base)], cwd=REPO, check=False)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
