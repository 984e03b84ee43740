"""`make check-web`: the built pages as two outside tools see them, with the figures printed.

- The Nu Html Checker (npm ``vnu-jar``, on Java) reads every kind of page (the index, the oldest older page, a
  share page, results.html) of the sample night and of the whole 2024 night replayed
  (``countnight replay --instant``), each built into a scratch folder.
- Lighthouse 12 (npm ``lighthouse``, mobile, Debian's Chromium) loads the national replay's index.html and
  results.html from nginx with deploy/nginx.conf on a free loopback port, ``--runs`` times each (3 unless told);
  the run with the median performance score is the one reported, as Lighthouse's own docs advise.

Exit 1 on any Nu error or any Lighthouse category below 95; 0 otherwise. Run from the repository:

    .venv/bin/python scripts/check_web.py [--runs 3] [--keep DIR] [--lighthouse-only] [--pages results.html]

``--lighthouse-only`` builds only the national replay and skips the Nu checker: Lighthouse alone on the pages
named, each run's metrics printed with the machine's load average (the scores follow the load of a shared
machine: total blocking time and largest contentful paint say why).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
from browser_support import CHROMIUM, start_nginx  # noqa: E402  (the tests' nginx: deploy/nginx.conf, loopback)

VNU = REPO / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
LIGHTHOUSE = REPO / "node_modules" / ".bin" / "lighthouse"
COUNTNIGHT = Path(sys.executable).with_name("countnight")
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
FLOOR = 95
# The checker refuses loopback addresses unless told (it guards a public checker against reaching its own host).
ALLOW_LOOPBACK = "-Dnu.validator.servlet.allow-forbidden-hosts=true"
CHROME_FLAGS = "--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage"


def build_sample(root: Path) -> Path:
    """A copy of the repository's own blog folder, built now (its night is over): the site's folder."""
    root.mkdir(parents=True)
    for name in ("countnight.toml", "baseline.csv"):
        shutil.copy(REPO / name, root / name)
    shutil.copytree(REPO / "entries", root / "entries")
    return _build(root)


def build_national(root: Path) -> Path:
    """The whole 2024 night replayed at once, built: a live page (the replay's config has no coverage_end)."""
    subprocess.run([str(COUNTNIGHT), "replay", "--root", str(root), "--instant"], check=True, stdout=subprocess.DEVNULL)
    return _build(root)


def _build(root: Path) -> Path:
    """``countnight build``, as a user runs it (with the live channel's files a live page polls)."""
    subprocess.run([str(COUNTNIGHT), "build", "--root", str(root)], check=True, stdout=subprocess.DEVNULL)
    return root / "site"


def page_kinds(site: Path) -> list[str]:
    """One page of each kind: the index, the oldest older page, the newest entry's share page, results.html."""
    index = (site / "index.html").read_text()
    marker = 'class="entry__share" href="'
    share = index[index.index(marker) + len(marker) :].split('"', 1)[0]
    return ["index.html", "page/1.html", share, "results.html"]


@dataclass(frozen=True)
class NuFigures:
    errors: int
    warnings: int
    messages: list[str]


def nu(urls: dict[str, str]) -> NuFigures:
    """The Nu Html Checker on the pages at ``urls`` (name → address, served as readers get them: a file: address
    would make the pages' own Content-Security-Policy refuse their assets), one JVM for all: its errors and
    warnings, each said in a line."""
    run = subprocess.run(
        ["java", ALLOW_LOOPBACK, "-jar", str(VNU), "--format", "json", "--exit-zero-always", *urls.values()],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    messages = json.loads(run.stderr or run.stdout)["messages"]
    names = {url: name for name, url in urls.items()}
    errors = [m for m in messages if m.get("type") in ("error", "non-document-error")]
    warnings = [m for m in messages if m.get("type") == "info" and m.get("subType") == "warning"]
    said = [
        f"  {'error' if m in errors else 'warning'}: {names.get(m.get('url', ''), m.get('url', '?'))}"
        f":{m.get('lastLine', '?')}: {m.get('message', '')}"
        for m in errors + warnings
    ]
    return NuFigures(len(errors), len(warnings), said)


# The metrics that make up Lighthouse 12's performance score, with the unit each is printed in.
METRICS = {
    "first-contentful-paint": "FCP", "largest-contentful-paint": "LCP", "total-blocking-time": "TBT",
    "cumulative-layout-shift": "CLS", "speed-index": "SI",
}  # fmt: skip


def lighthouse(url: str, runs: int, keep: Path) -> dict[str, Any]:
    """Lighthouse ``runs`` times on ``url``: the report of the run with the median performance score. Each run's
    score and metrics are printed as it ends, with the load average when it started and the UTC time."""
    env = {**os.environ, "CHROME_PATH": str(CHROMIUM)}
    reports = []
    for number in range(runs):
        started, load = time.strftime("%H:%M:%S", time.gmtime()), os.getloadavg()[0]
        out = keep / f"lighthouse-{url.rsplit('/', 1)[1].removesuffix('.html')}-{number + 1}.json"
        subprocess.run(
            [
                str(LIGHTHOUSE), url, "--quiet", "--output=json", f"--output-path={out}", "--form-factor=mobile",
                f"--only-categories={','.join(CATEGORIES)}", f"--chrome-flags={CHROME_FLAGS}",
            ],
            check=True, env=env, cwd=keep,
        )  # fmt: skip
        reports.append(json.loads(out.read_text()))
        print(f"    run {number + 1} at {started} UTC, load {load:.2f}: {run_figures(reports[-1])}", flush=True)
    reports.sort(key=lambda r: r["categories"]["performance"]["score"] or 0)
    median = reports[len(reports) // 2]
    median["_performance_runs"] = [round((r["categories"]["performance"]["score"] or 0) * 100) for r in reports]
    return median


def run_figures(report: dict[str, Any]) -> str:
    """One run said in a line: its performance score and the metrics it is made of."""
    audits = report["audits"]
    said = [f"performance {scores(report)['performance']}"]
    for audit, name in METRICS.items():
        value = audits.get(audit, {}).get("numericValue")
        said.append(f"{name} {value:.3f}" if name == "CLS" else f"{name} {value:.0f} ms" if value is not None else name)
    return ", ".join(said)


def scores(report: dict[str, Any]) -> dict[str, int]:
    return {c: round((report["categories"][c]["score"] or 0) * 100) for c in CATEGORIES}


def weak_audits(report: dict[str, Any]) -> list[str]:
    """The audits that lost points (score below 0.9), with what they measured."""
    found = []
    for audit in report["audits"].values():
        if audit.get("score") is not None and audit["score"] < 0.9 and audit.get("scoreDisplayMode") != "informative":
            found.append(f"{audit['id']} {audit['score']:.2f} ({audit.get('displayValue', '')})")
    return sorted(found)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=3, help="Lighthouse runs per page (the median is reported)")
    parser.add_argument("--keep", type=Path, help="build and keep everything here (default: a temporary folder)")
    parser.add_argument("--pages", nargs="+", default=["index.html", "results.html"], help="the pages for Lighthouse")
    parser.add_argument("--lighthouse-only", action="store_true", help="no Nu checker, no sample night")
    args = parser.parse_args(argv)
    for need, what in ((VNU, "vnu-jar"), (LIGHTHOUSE, "lighthouse"), (CHROMIUM, "chromium")):
        if not need.exists():
            raise SystemExit(f"check-web: {what} is not installed at {need} (run `make check-web`, which installs it)")
    if shutil.which("java") is None:
        raise SystemExit("check-web: java is not installed (run `make check-web`, which installs it)")
    scratch = args.keep or Path(tempfile.mkdtemp(prefix="countnight-check-web-"))
    scratch.mkdir(parents=True, exist_ok=True)
    failed = False
    try:
        nights = "the national replay" if args.lighthouse_only else "the sample night and the national replay"
        print(f"check-web: building {nights}…", flush=True)
        sites = {"national": build_national(scratch / "national")}
        if not args.lighthouse_only:
            sites["sample"] = build_sample(scratch / "sample")
        servers = {night: start_nginx(site, scratch / f"nginx-{night}") for night, site in sites.items()}
        try:
            urls = {
                f"{night}/{page}": servers[night].url + page for night in sites for page in page_kinds(sites[night])
            }
            if not args.lighthouse_only:
                figures = nu(urls)
                print(f"\nNu Html Checker ({len(urls)} pages: {', '.join(urls)})")
                print(f"  {figures.errors} errors, {figures.warnings} warnings")
                print("\n".join(figures.messages) or "  (nothing said)")
                failed |= figures.errors > 0

            server = servers["national"]
            print(f"\nLighthouse {_version()} (mobile), the national replay served by nginx at {server.url}")
            print(f"  {'page':<14}" + "".join(f"{c:>16}" for c in CATEGORIES) + "   DOM elements   performance runs")
            for page in args.pages:
                report = lighthouse(server.url + page, args.runs, scratch)
                got = scores(report)
                dom = report["audits"].get("dom-size", {}).get("numericValue")
                runs = report["_performance_runs"]
                line = "".join(f"{got[c]:>16}" for c in CATEGORIES)
                print(f"  {page:<14}{line}   {dom!s:>12}   {runs} (median {statistics.median(runs):.0f})")
                print("    below 0.9: " + ("; ".join(weak_audits(report)) or "none"))
                failed |= any(score < FLOOR for score in got.values())
        finally:
            for server in servers.values():
                server.stop()
    finally:
        if args.keep is None:
            shutil.rmtree(scratch, ignore_errors=True)
    print(f"\ncheck-web: {'FAILED' if failed else 'passed'} (no Nu error, every Lighthouse category at least {FLOOR})")
    return 1 if failed else 0


def _version() -> str:
    package = REPO / "node_modules" / "lighthouse" / "package.json"
    return str(json.loads(package.read_text())["version"])


if __name__ == "__main__":
    sys.exit(main())
