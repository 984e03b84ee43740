"""What share cards cost a cold build (issue 22), against the code without them, on the same synthetic night.

    git archive main | (mkdir -p /tmp/countnight-base && tar -x -C /tmp/countnight-base)
    .venv/bin/python benchmarks/share_cards.py --base /tmp/countnight-base [--n 10000] [--runs 3]

For N entries (benchmarks/workload.py's night) it times ``countnight build`` as a new process, wall time around
the whole process, alternating:

- ``base``: the code in ``--base`` (its ``src/`` first on the path, its ``templates/`` its theme), no cards;
- ``cards``: this checkout, cold: a new, empty output folder and no ``.countnight/`` (every card drawn);
- ``kept``: this checkout, a new, empty output folder but the previous run's ``.countnight/`` kept (the cards
  read from ``.countnight/cards``, as after a restart into a new folder or a change of theme).

Wall time, and the CPU time of the build's process and its workers (user + system, from ``getrusage``): on a
machine shared with other work the wall time swings with their load, the CPU time much less.

Then, in this process, it draws 200 different result cards one after another (sharecards.draw_card, glyphs
already kept) and says what one costs, and how much of that is the PNG encoder.

Each build starts after ``sync()``; its output is moved aside, not deleted, until the end (benchmarks/run.py's
``fresh`` says why). Prints the medians and every sample, and the cards' count and bytes.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import workload

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
WORK = HERE / ".work" / "share-cards"
PYTHON = REPO / ".venv" / "bin" / "python"
# The base code as `countnight build` runs it: its src/ ahead of this checkout's editable install, and its
# templates/ as countnight.theme (the editable install maps that name to this checkout's templates/).
BASE_SHIM = """
import sys, importlib.util
base = sys.argv.pop(1)
sys.path.insert(0, base + "/src")
import countnight
spec = importlib.util.spec_from_file_location(
    "countnight.theme", base + "/templates/__init__.py", submodule_search_locations=[base + "/templates"]
)
theme = importlib.util.module_from_spec(spec)
sys.modules["countnight.theme"] = theme
spec.loader.exec_module(theme)
assert countnight.__file__.startswith(base), countnight.__file__
"""
RUN = "from countnight.launch import main; main()"
# The default theme compiled into its __pycache__ first, as `make compiled` does for this checkout.
COMPILE = "from countnight.render import compile_default_theme; compile_default_theme()"


def python(code: str, base: Path | None) -> list[str]:
    return [str(PYTHON), "-c", BASE_SHIM + code, str(base)] if base else [str(PYTHON), "-c", code]


def build(root: Path, out: Path, base: Path | None) -> tuple[float, float]:
    """Wall seconds, and CPU seconds of the build's process and the workers it forks (user + system)."""
    command = python(RUN, base)
    os.sync()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([*command, "build", "--root", str(root), "--out", str(out)], capture_output=True, text=True)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"build failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return seconds, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def draw_cost(count: int = 200) -> tuple[float, float]:
    """Milliseconds to draw one card, and to encode one (the PNG encoder's share), over ``count`` cards."""
    import io

    from PIL import Image

    from countnight.parties import party_colour
    from countnight.sharecards import Card, draw_card

    def card(i: int) -> Card:
        bar = tuple(
            (party_colour(p), 20_000 - 2_000 * k - i) for k, p in enumerate(("Lab", "Con", "RUK", "LD", "Green"))
        )
        figures = (
            f"Candidate A (Lab) {15_000 + i:,} votes, 36.{i % 10}%",
            f"Majority {3_000 + i:,} (7.2%) · turnout 56.9%",
        )
        return Card(
            "Labour gain from Conservative",
            party_colour("Lab"),
            "#FFFFFF",
            f"Labour gain Seat {i:04d} from the Conservatives",
            figures,
            bar,
            "Benchmark night: 10000 synthetic entries",
            "02:16 BST 5 July",
        )

    draw_card(card(-1))  # the glyphs drawn once, as a worker has them after its first card
    started = time.perf_counter()
    drawn = [draw_card(card(i)) for i in range(count)]
    drawing = (time.perf_counter() - started) / count * 1000
    image = Image.open(io.BytesIO(drawn[0]))
    image.load()
    started = time.perf_counter()
    for _ in range(count):
        image.save(io.BytesIO(), format="PNG", compress_level=1)
    return drawing, (time.perf_counter() - started) / count * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", type=Path, required=True, help="a checkout of the code to compare against")
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    root = WORK / str(args.n)
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    workload.write_countnight(root, workload.make_night(args.n))
    trash = WORK / "trash"
    trash.mkdir(exist_ok=True)
    state = root / ".countnight"
    for base in (args.base.resolve(), None):
        subprocess.run(python(COMPILE, base), check=True)
    times: dict[str, list[float]] = {"base": [], "cards": [], "kept": []}
    cpu: dict[str, list[float]] = {"base": [], "cards": [], "kept": []}
    cards = (0, 0)
    for run in range(args.runs):
        for name in ("base", "cards", "kept"):
            out = root / "site"
            if out.exists():
                out.rename(trash / f"{time.time_ns()}-site")
            if name != "kept" and state.exists():
                state.rename(trash / f"{time.time_ns()}-state")
            seconds, used = build(root, out, args.base.resolve() if name == "base" else None)
            times[name].append(seconds)
            cpu[name].append(used)
            print(f"run {run + 1} {name}: {seconds:.2f} s, {used:.2f} s of CPU", file=sys.stderr, flush=True)
            if name == "cards":
                files = list((out / "cards").iterdir())
                cards = (len(files), sum(f.stat().st_size for f in files))
    print(f"N = {args.n:,}, {args.runs} runs each, {os.cpu_count()} cores")
    for what, table in (("wall", times), ("CPU", cpu)):
        for name, samples in table.items():
            shown = ", ".join(f"{s:.2f}" for s in samples)
            middle, low, high = statistics.median(samples), min(samples), max(samples)
            print(f"{what:4} {name:6} median {middle:.2f} s (min {low:.2f}, max {high:.2f}): {shown}")
    print(f"cards: {cards[0]:,} files, {cards[1] / 1e6:.1f} MB, {cards[1] / max(1, cards[0]) / 1e3:.1f} KB each")
    drawing, encoding = draw_cost()
    print(f"one card: {drawing:.1f} ms to draw, {encoding:.1f} ms of it the PNG encoder")
    shutil.rmtree(trash, ignore_errors=True)


if __name__ == "__main__":
    main()
