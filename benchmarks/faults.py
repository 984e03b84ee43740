"""What memory costs a cold build on this machine: the price of a page fault here, and how many a build takes.

    .venv/bin/python benchmarks/faults.py [--size 10000] [--runs 3] [--pages 100000]

1. The machine: ``--pages`` pages of new anonymous memory written one by one (a fresh page fault each: the
   kernel finds a page and zeroes it), then written again by a forked process (a copy-on-write fault each:
   it copies the page first). Microseconds a fault, from the CPU time the process spent meanwhile. On a
   virtual machine either can cost several times what it costs on bare metal (the host may back the page
   only when the guest first touches it), and the price drifts with the host's load.
2. countnight: ``countnight build`` of the synthetic night (benchmarks/workload.py), cold as run.py runs it
   (no ``.countnight/``, a new empty output folder, after ``sync()``): wall time, user and system CPU time and
   minor faults of its process and every process it forked (the reading and page workers, the card painter),
   from the rusage of the children this process has waited for.
3. A bracket of what the faults cost the build: its faults at the price of a fresh one and at that of a copy,
   as a share of its CPU time. Every fault is one or the other.

A cold build's own memory is what it faults in: its imports, every entry it holds (the reading workers' results
unpickled in the build's process), and the copies its page workers and the build's process make of the pages of
memory both touch after the fork (a reference count written is a page copied).
"""

from __future__ import annotations

import argparse
import mmap
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import workload  # noqa: E402
from run import COUNTNIGHT, WORK, empty_trash, fresh, quiet_disk  # noqa: E402

PAGE = mmap.PAGESIZE


def _cpu(who: int = resource.RUSAGE_SELF) -> tuple[float, int]:
    used = resource.getrusage(who)
    return used.ru_utime + used.ru_stime, used.ru_minflt


def fault_prices(pages: int) -> tuple[float, float]:
    """Microseconds of CPU a fresh page fault costs here, and a copy-on-write fault."""
    memory = mmap.mmap(-1, pages * PAGE)
    try:
        cpu, faults = _cpu()
        for at in range(0, pages * PAGE, PAGE):
            memory[at] = 1
        spent, taken = _cpu()
        fresh_us = (spent - cpu) / max(1, taken - faults) * 1e6
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the copy: every page shared with the parent, each written once
            try:
                cpu, faults = _cpu()
                for at in range(0, pages * PAGE, PAGE):
                    memory[at] = 2
                spent, taken = _cpu()
                os.write(write, f"{(spent - cpu) / max(1, taken - faults) * 1e6}".encode())
            finally:
                os._exit(0)
        os.close(write)
        with os.fdopen(read, "rb") as said:
            copy_us = float(said.read())
        os.waitpid(pid, 0)
    finally:
        memory.close()
    return fresh_us, copy_us


def cold_build(root: Path, out: Path) -> dict[str, float]:
    """One cold ``countnight build``: wall time, CPU time and minor faults of it and every process it forked."""
    fresh(root / ".countnight")
    os.sync()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([COUNTNIGHT, "build", "--root", root, "--out", out], capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"countnight build exited {done.returncode}:\n{done.stderr}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    user, system = after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime
    return {
        "wall": wall,
        "user": user,
        "sys": system,
        "cpu": user + system,
        "faults": after.ru_minflt - before.ru_minflt,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=10_000, help="entries in the synthetic night")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pages", type=int, default=100_000, help="pages touched to price a fault")
    args = parser.parse_args()
    base = WORK / f"faults-{args.size}"
    root = base / "countnight"
    if not root.is_dir():
        workload.write_all(base, args.size)
    quiet_disk()
    prices = [fault_prices(args.pages) for _ in range(args.runs)]
    fresh_us = statistics.median(p[0] for p in prices)
    copy_us = statistics.median(p[1] for p in prices)
    print(f"a page fault here: fresh {fresh_us:.1f} µs, copy-on-write {copy_us:.1f} µs (median of {args.runs})")
    for i in range(args.runs):
        run = cold_build(root, base / f"site-{time.time_ns()}")
        low, high = sorted((run["faults"] * fresh_us / 1e6, run["faults"] * copy_us / 1e6))
        print(
            f"cold build {i + 1}: {run['wall']:.2f} s wall, {run['cpu']:.2f} s CPU ({run['user']:.2f} user, "
            f"{run['sys']:.2f} system) in its processes, {run['faults']:,.0f} minor faults: {low:.2f}-{high:.2f} s "
            f"of CPU at those prices ({low / run['cpu']:.0%}-{high / run['cpu']:.0%})"
        )
    for site in base.glob("site-*"):  # deleted only now, and noted, so that the next run waits (see run.fresh)
        fresh(site)
    empty_trash()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
