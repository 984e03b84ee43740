"""What the custom Jinja code generator (render._CodeGenerator) saves: the night's rendering (every entry's
<article>, then every page made from nothing, as a cold build makes them) with it and with Jinja's own
CodeGenerator, each in fresh processes, alternating, in CPU time. The two must give the same bytes.

    .venv/bin/python benchmarks/jinja_generator.py [--size 2000] [--pairs 4]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import workload  # noqa: E402

CHILD = r"""
import hashlib, json, sys, time
from datetime import datetime
from pathlib import Path
import jinja2.compiler
from countnight import pages, render

which = sys.argv[2]
sys.dont_write_bytecode = True  # nothing kept of either compilation
render._CODE = "measured with " + which  # and never the kept compiled theme: compiled here, by this generator
if which == "Jinja's":
    render._Environment.code_generator_class = jinja2.compiler.CodeGenerator
from countnight.site import Site

site = Site(Path(sys.argv[1]), Path(sys.argv[3]))
assert site.build(datetime.fromisoformat("2024-07-05T13:00:00+01:00")).built  # one clock: the same pages
setup = site.rules.read()
views = list(site.stream.live.values())
start = time.process_time()
for view in views:
    render.render_entry(setup.theme, view)
articles = time.process_time() - start
night = site.stream.night(setup, site.stream.at, None)
start = time.process_time()
made = pages.render_pages(setup.theme, night)
whole = time.process_time() - start
digest = hashlib.sha256(b"".join(made[path] for path in sorted(made))).hexdigest()
print(json.dumps({"articles": articles, "pages": whole, "digest": digest}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=2000)
    parser.add_argument("--pairs", type=int, default=4)
    args = parser.parse_args()
    work = HERE / ".work" / "jinja-generator"
    shutil.rmtree(work, ignore_errors=True)
    root = work / "night"
    workload.write_countnight(root, workload.make_night(args.size))
    results: dict[str, list[dict[str, object]]] = {"ours": [], "Jinja's": []}
    for i in range(args.pairs):
        for which in ("ours", "Jinja's") if i % 2 == 0 else ("Jinja's", "ours"):
            out = work / f"out-{i}"
            shutil.rmtree(root / ".countnight", ignore_errors=True)
            command = [sys.executable, "-c", CHILD, str(root), which, str(out)]
            line = subprocess.run(command, capture_output=True, text=True, check=True).stdout.splitlines()[-1]
            results[which].append(json.loads(line))
            shutil.rmtree(out, ignore_errors=True)
    digests = {str(r["digest"]) for side in results.values() for r in side}
    assert len(digests) == 1, "the two generators made different pages"
    print(f"{args.size:,} entries, {args.pairs} pairs, CPU time; the same bytes from both")
    for figure in ("articles", "pages"):
        ours = [float(r[figure]) for r in results["ours"]]  # type: ignore[arg-type]
        jinja = [float(r[figure]) for r in results["Jinja's"]]  # type: ignore[arg-type]
        ratios = [j / o for o, j in zip(ours, jinja, strict=True)]
        low, high = min(ratios), max(ratios)
        print(
            f"{figure}: ours {statistics.median(ours) * 1000:.0f} ms, Jinja's {statistics.median(jinja) * 1000:.0f} ms;"
            f" Jinja's ÷ ours, pair by pair: median {statistics.median(ratios):.2f}× ({low:.2f}–{high:.2f})"
        )
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
