"""Where the time goes: pyinstrument on a cold build and on incremental builds of the same night.

    .venv/bin/python benchmarks/profile.py [--n 10000]

In process, as the watcher runs it: ``Site.build()`` with no ``.countnight/`` state (cold; and again with
the workers off, to see inside them), then a new update and a new result dropped into entries/, each
followed by ``Site.build(changed=[that file])`` on the same ``Site``, as the watcher hands it the file
its event named (incremental). pyinstrument
comes from benchmarks/.venv-peers (``bash benchmarks/setup.sh``), appended to sys.path after countnight's
own packages so it is not a dependency of the project. Writes the call trees and a summary
(self time by function; cumulative time of countnight's own functions) to benchmarks/results/.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import workload

HERE = Path(__file__).resolve().parent
PEERS = HERE / ".venv-peers" / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages"
sys.path.append(str(PEERS))

from pyinstrument import Profiler  # noqa: E402

from countnight import publish as publish_module  # noqa: E402

try:  # where the build reads a cold build's entries on every core (site.py, before it was split)
    from countnight import readstate as site_module
except ImportError:
    from countnight import site as site_module
from countnight.site import Site  # noqa: E402

TOP = 12


def _where(frame: Any) -> str:
    return f"{frame.function} ({frame.file_path_short}:{frame.line_no})"


def _frames(frame: Any, ancestors: frozenset[str] = frozenset()) -> Iterator[tuple[Any, Any, bool]]:
    """(frame, its parent, whether it is the outermost call of its function on its stack), every frame."""
    key = _where(frame)
    for child in frame.children:
        yield child, frame, _where(child) not in ancestors | {key}
        yield from _frames(child, ancestors | {key})


def summary(title: str, profiler: Profiler) -> str:
    session = profiler.last_session
    assert session is not None
    root = session.root_frame()
    total = root.time if root is not None else 0.0
    own: dict[str, float] = defaultdict(float)
    cumulative: dict[str, float] = defaultdict(float)
    if root is not None:
        for frame, parent, outermost in _frames(root):
            if frame.function == "[self]":  # pyinstrument's leaf for time spent in the parent itself
                own[_where(parent)] += frame.time
                continue
            if not frame.children:
                own[_where(frame)] += frame.time
            if outermost and "countnight" in (frame.file_path or ""):
                cumulative[_where(frame)] += frame.time
    lines = [f"### {title}: {total:.3f} s sampled", "", "Self time (the function itself, not what it calls):", ""]
    lines += ["| function | self | % |", "|---|---:|---:|"]
    for where, seconds in sorted(own.items(), key=lambda kv: -kv[1])[:TOP]:
        lines.append(f"| `{where}` | {seconds:.3f} s | {100 * seconds / total:.1f}% |")
    lines += ["", "Cumulative time in countnight's own functions (with what they call):", ""]
    lines += ["| function | total | % |", "|---|---:|---:|"]
    for where, seconds in sorted(cumulative.items(), key=lambda kv: -kv[1])[: TOP + 4]:
        lines.append(f"| `{where}` | {seconds:.3f} s | {100 * seconds / total:.1f}% |")
    return "\n".join(lines) + "\n"


def profiled(run: Callable[[], Any], interval: float) -> tuple[Profiler, float]:
    profiler = Profiler(interval=interval)
    started = time.perf_counter()
    profiler.start()
    run()
    profiler.stop()
    return profiler, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10000, help="entries [10000]")
    args = parser.parse_args()
    base = HERE / ".work" / f"profile-{args.n}"
    if base.exists():
        shutil.rmtree(base)
    night = workload.make_night(args.n)
    root = base / "countnight"
    workload.write_countnight(root, night)
    runs: list[tuple[str, Profiler, float]] = []
    if hasattr(site_module, "usable_cpus"):  # the cold build forks workers: profile it on one core as well,
        serial = Site(root, base / "serial")  # to see inside what the workers do
        with (
            mock.patch.object(site_module, "usable_cpus", lambda: 1),
            mock.patch.object(publish_module, "usable_cpus", lambda: 1),
        ):
            runs.append(("cold-serial", *profiled(serial.build, 0.001)))
        shutil.rmtree(root / ".countnight", ignore_errors=True)
    cold, cold_s = profiled(Site(root, base / "site").build, 0.001)  # as `countnight build` runs it
    shutil.rmtree(root / ".countnight", ignore_errors=True)
    site = Site(root, base / "watched", long_lived=True)  # as the watcher runs it: its first build, then drops
    site.build()
    site.build()  # settled, as a watcher is between drops
    drops = []
    for k, name in ((0, "incremental"), (1, "incremental-result")):  # an update; a result (the seats change too)
        item = workload.drop_item(night, k, "profile")
        (root / "entries" / f"{item.id}.md").write_text(workload.countnight_text(item))
        hint = [f"entries/{item.id}.md"]  # what the watcher hands the build: the file its event named
        drops.append((name, *profiled(lambda hint=hint: site.build(changed=hint), 0.0002)))

    out = HERE / "results"
    out.mkdir(exist_ok=True)
    texts = []
    for name, profiler, seconds in [("cold", cold, cold_s), *runs, *drops]:
        tree = profiler.output_text(unicode=True, color=False, show_all=False)
        (out / f"profile-{name}-{args.n}.txt").write_text(tree)
        label = {
            "cold-serial": "Cold build on one core (workers off)",
            "incremental": "Incremental build, one new update",
            "incremental-result": "Incremental build, one new result",
        }.get(name, f"{name.capitalize()} build")
        texts.append(summary(f"{label}, N = {args.n:,} ({seconds:.3f} s wall)", profiler))
    text = "\n".join(texts)
    (out / f"profile-{args.n}.md").write_text(text)
    print(text)
    shutil.rmtree(base)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
