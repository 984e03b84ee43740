"""The ``countnight`` command's entry point: answers a restart on an up-to-date site before loading the build.

``countnight build`` (or ``watch``) started again over a site that is already what a build would make
(see uptodate.py) need not wait for the build's libraries to load and every entry to be read: ``build``
says so and exits; ``watch`` says so at once, then loads and watches as always. Any other command, or
any argument this does not recognise, goes straight to the full command line (cli.py).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

_OPTIONS = {"--root": "root", "--out": "out"}
_WATCH_FLAGS = {"--poll", "-q", "--quiet", "-v", "--verbose"}


def _parse(args: Sequence[str]) -> tuple[str, dict[str, str], set[str]] | None:
    """(command, {root, out}, flags) for ``build``/``watch`` with only the options known here; else None."""
    if not args or args[0] not in ("build", "watch"):
        return None
    values: dict[str, str] = {}
    flags: set[str] = set()
    rest = list(args[1:])
    while rest:
        arg = rest.pop(0)
        name, eq, value = arg.partition("=")
        if name in _OPTIONS and _OPTIONS[name] not in values:
            if not eq:
                if not rest:
                    return None
                value = rest.pop(0)
            values[_OPTIONS[name]] = value
        elif args[0] == "watch" and arg in _WATCH_FLAGS:
            flags.add(arg)
        else:
            return None  # --help, --rescan, a typo: the full command line answers
    return args[0], values, flags


def quick(args: Sequence[str]) -> bool:
    """Handle the command if the site is up to date; True when ``build`` is done and nothing more is to run."""
    started = time.perf_counter()
    parsed = _parse(args)
    if parsed is None:
        return False
    command, values, flags = parsed
    from .uptodate import up_to_date  # the standard library only

    root = Path(values.get("root", "."))
    out = Path(values["out"]) if "out" in values else root / "site"
    found = up_to_date(root, out)
    if found is None:
        return False
    seconds = time.perf_counter() - started
    if command == "build":
        print(f"published 0, rejected 0, scheduled {found.scheduled}, {found.live} live ({seconds:.2f} s): up to date")
        return True
    if not flags & {"-q", "--quiet"}:
        print(f"{out}: up to date, {found.live} live (checked in {seconds:.2f} s); loading to watch", flush=True)
    return False


def main() -> None:
    args = sys.argv[1:]
    if quick(args):
        return
    from .cli import main as cli_main

    if args[:1] != ["build"]:
        cli_main()
        return
    try:
        cli_main()
    except SystemExit as done:
        _exit_now(done.code)
    _exit_now(0)


def _exit_now(code: object) -> None:
    """End a one-off build's process without tearing its objects down one by one.

    Everything it publishes is written, synced and closed before it reports, and its workers have
    ended; what is left is the interpreter freeing the night (10,000 entries, views and pages) object
    by object at exit, ~0.15 s for nothing. Output is flushed first; the exit status is click's.
    """
    if code is None:
        code = 0
    elif not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can be said
            code = code or 1
    os._exit(code)
