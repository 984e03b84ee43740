"""The ``countnight`` command's entry point: answers a restart on an up-to-date site before loading the build.

``countnight build`` (or ``watch``) started again over a site that is already what a build would make
(see uptodate.py) need not wait for the build's libraries to load and every entry to be read: ``build``
says so and exits; ``watch`` says so at once, then loads and watches as always. Any other command, or
any argument this does not recognise, goes straight to the full command line (cli.py).
"""

from __future__ import annotations

import gc
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

_OPTIONS = {"--root": "root", "--out": "out"}
_KEPT: list[object] = []  # a one-off build's site, until the process ends (see ``_build``)
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


def quick(parsed: tuple[str, dict[str, str], set[str]]) -> bool:
    """Handle the command (as ``_parse`` read it) if the site is up to date; True when ``build`` is done and
    nothing more is to run."""
    started = time.perf_counter()
    command, values, flags = parsed
    from .folders import folder_problem  # the standard library only, like the check
    from .uptodate import up_to_date

    root = Path(values.get("root", "."))
    if folder_problem(root, Path(values["out"]) if "out" in values else None) is not None:
        return False  # the command line says what is wrong, as for every command
    out = Path(values["out"]) if "out" in values else root / "site"
    found = up_to_date(root, out)
    if found is None:
        return False
    seconds = time.perf_counter() - started
    if command == "build":
        print(f"published 0, rejected 0, scheduled {found.scheduled}, {found.live} live ({seconds:.2f} s): up to date")
        return True
    if not flags & {"-q", "--quiet"}:
        from .terminal import one_line  # the standard library only

        print(
            f"{one_line(out)}: up to date, {found.live} live (checked in {seconds:.2f} s); loading to watch", flush=True
        )
    return False


def main() -> None:
    """The command; a file system error nothing else caught (a state path of the wrong kind, a folder without
    permission) is said in one line naming the path, with exit status 1, never as a traceback."""
    try:
        _main()
    except OSError as err:
        from .errors import describe_os_error
        from .terminal import one_line

        where = f"{os.fsdecode(err.filename)}: " if isinstance(err.filename, str | bytes) else ""
        print(f"countnight: {one_line(where + describe_os_error(err))}", file=sys.stderr)
        sys.exit(1)


def _main() -> None:
    args = sys.argv[1:]
    parsed = _parse(args)
    if parsed is not None:
        if quick(parsed):
            return
        if parsed[0] == "build":
            _build(parsed[1])
    from .cli import main as cli_main

    if args[:1] != ["build"]:
        cli_main()
        return
    try:
        cli_main()
    except SystemExit as done:
        _exit_now(done.code)
    _exit_now(0)


def _build(values: dict[str, str]) -> None:
    """A plain ``build`` on folders fit to build: built here, without click and the other commands (~40 ms
    of every start); the same work, output and status as the command line's (oneoff.py). Folders that are
    not fit return, for the command line to say why as it says it for every command."""
    from .folders import folder_problem, output_problem

    root = Path(values.get("root", "."))
    out = Path(values["out"]) if "out" in values else None
    if folder_problem(root, out) is None and output_problem(root, out) is None:
        # This process ends (``_exit_now``) once the site is built: the cyclic collector is off from here, for
        # the imports too (the build pauses it for itself anyway: site.py), and the night stays in memory until
        # the end rather than being freed object by object (``keep``).
        gc.disable()
        from .oneoff import build_once

        _exit_now(build_once(root, out, keep=_KEPT))


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
