"""``countnight build``'s work, without the command line: the site built once, recorded, and reported.

Both ways in call it: the command line (cli.py, click) and the launcher's quick path (launch.py), which
takes a plain ``build --root R --out O`` straight here without loading click and the other commands
(~40 ms of every start). Both check the two folders with folders.py first, so both say the same.
"""

from __future__ import annotations

import sys
from pathlib import Path

from . import uptodate
from .channel import LiveChannel, publish_url
from .lock import Busy, writer
from .report import BuildReport
from .site import Site
from .terminal import one_line


def summary_line(report: BuildReport) -> str:
    """'published 45, rejected 1, scheduled 0, 45 live (0.21 s)'."""
    return (
        f"published {len(report.published)}, rejected {len(report.rejected)}, "
        f"scheduled {len(report.scheduled)}, {report.live} live ({report.seconds:.2f} s)"
    )


def build_once(root: Path, out: Path | None, *, keep: list[object] | None = None) -> int:
    """Build, record a clean build (uptodate.py), say what happened; the exit status (0: built, no problems).

    Holds the blog folder's lock throughout (lock.py): a second writer is refused, and says which one.
    ``keep``: where the build's ``Site`` is left, for a caller that ends its process right after without
    tearing it down (launch.py): let go here, a night of 10,000 entries, with its views and fragments, is
    freed object by object before the command can end (~45 ms), for nothing."""
    try:
        with writer(root, "build"):
            return _build_once(root, out, [] if keep is None else keep)
    except Busy as err:
        print(f"error: {one_line(err)}", file=sys.stderr)
        return 1


def _build_once(root: Path, out: Path | None, keep: list[object]) -> int:
    site = Site(root, out)
    keep.append(site)
    channel = LiveChannel(
        site.out, publish_url=publish_url(root), warn=lambda message: print(f"warning: {message}", file=sys.stderr)
    )
    site.outlets = (channel,)  # polling pages see what this build changed; the push engine, when there is one
    report = site.build()
    site.read.pictures.close()  # its pictures were made before it was written (a one-off build waits for them)
    channel.close()  # once its message is out
    uptodate.record_build(site, report)
    for problem in report.problems:
        print(one_line(problem), file=sys.stderr)  # names and messages escaped: see terminal.py
    for warning in [*report.warnings, *report.notices]:
        print(f"warning: {one_line(warning)}", file=sys.stderr)
    print(summary_line(report) if report.built else "the site was not built; the previous site is unchanged")
    return 1 if report.problems or not report.built else 0
