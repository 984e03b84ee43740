"""CPU time of countnight at two revisions, side by side: a cold build (its process and its forked workers) and the
median of a watcher's one-entry builds (all of them, those of a result, those of the other kinds), each revision in
fresh processes, alternating, on the synthetic night of benchmarks/workload.py. CPU time, not wall time: on a
loaded machine it still compares the two. The cold build's is given whole (its process and its workers) and for its
own process alone: that process is busy from start to end (its workers take the rest), so on two otherwise idle
cores its CPU time is close to the build's wall time, and work moved from it into a core's idle time shows there,
not in the whole. Its wall time is given too, for a quiet machine.

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


def own_cpu():
    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime


shutil.rmtree(root / ".countnight", ignore_errors=True)
start, own_start, wall_start = cpu(), own_cpu(), time.perf_counter()
assert Site(root, out).build().built
cold, cold_own, cold_wall = cpu() - start, own_cpu() - own_start, time.perf_counter() - wall_start
watcher = Site(root, out.with_name(out.name + "-w"), long_lived=True)
assert watcher.build().built
one, results, others = [], [], []
for name, text in drops:
    (root / "entries" / name).write_text(text)
    start = time.process_time()
    assert watcher.build(changed=[f"entries/{name}"]).built
    one.append(time.process_time() - start)
    (results if "\nkind: result\n" in text else others).append(one[-1])
for name, _ in drops:
    (root / "entries" / name).unlink()
figures = {"cold": cold, "cold, its own process": cold_own, "cold, wall": cold_wall}
kinds = {"one result": statistics.median(results or [0.0]), "one entry of another kind": statistics.median(others)}
print(json.dumps({**figures, "one entry": statistics.median(one), **kinds}))
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
    for src in sides.values():  # compiled as an install has them (`make compiled`): else every start compiles
        env = dict(os.environ, PYTHONPATH=str(src))  # ~8,000 lines and the theme again (~0.2 s), the base's too
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(src)], env=env, check=True)
        compile_theme = "from countnight.render import compile_default_theme; compile_default_theme()"
        subprocess.run([sys.executable, "-c", compile_theme], env=env, check=True)
    trash = work / "trash"
    trash.mkdir()
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
                # Moved aside, deleted at the end: deleting ~10,000 files slows every file made in the next
                # minute on this file system (see run.py's fresh()), which the next build would pay for.
                if folder.exists():
                    folder.rename(trash / f"{i}-{name}-{folder.name}")
    print(f"{args.size:,} entries, {args.pairs} pairs, CPU time (base {args.base})")
    one_entry = ("one entry", "one result", "one entry of another kind")
    for figure in ("cold", "cold, its own process", "cold, wall", *one_entry):
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
