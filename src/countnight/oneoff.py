"""``countnight build``'s work, without the command line: the site built once, recorded, and reported.

Both ways in call it: the command line (cli.py, click) and the launcher's quick path (launch.py), which
takes a plain ``build --root R --out O`` straight here without loading click and the other commands
(~40 ms of every start). The checks of the two folders live here too, so both say the same.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from . import uptodate
from .channel import LiveChannel, publish_url
from .report import BuildReport
from .site import Site


def folder_problem(root: Path, out: Path | None) -> tuple[str, str] | None:
    """(the option, what is wrong) when ``root`` and ``out`` cannot be built; None when they can."""
    if not root.is_dir():
        return "--root", f"{root} is not a folder"
    if out is not None and Path(os.path.realpath(root)).is_relative_to(os.path.realpath(out)):
        # The output is published whole and `serve` serves it: the blog folder, or a folder above it, would
        # put the config, the record and entries/ (drafts, embargoed results) on the web, and the watcher
        # would take every change in entries/ for its own output and never rebuild.
        return "--out", f"{out} holds the blog folder; the output needs a folder of its own"
    return None


def summary_line(report: BuildReport) -> str:
    """'published 45, rejected 1, scheduled 0, 45 live (0.21 s)'."""
    return (
        f"published {len(report.published)}, rejected {len(report.rejected)}, "
        f"scheduled {len(report.scheduled)}, {report.live} live ({report.seconds:.2f} s)"
    )


def build_once(root: Path, out: Path | None) -> int:
    """Build, record a clean build (uptodate.py), say what happened; the exit status (0: built, no problems)."""
    site = Site(root, out)
    channel = LiveChannel(
        site.out, publish_url=publish_url(root), warn=lambda message: print(f"warning: {message}", file=sys.stderr)
    )
    site.outlets = (channel,)  # polling pages see what this build changed; the push engine, when there is one
    report = site.build()
    channel.close()  # once its message is out
    uptodate.record_build(site, report)
    for problem in report.problems:
        print(problem, file=sys.stderr)
    for warning in [*report.warnings, *report.notices]:
        print(f"warning: {warning}", file=sys.stderr)
    print(summary_line(report) if report.built else "the site was not built; the previous site is unchanged")
    return 1 if report.problems or not report.built else 0
