"""Whether a blog folder and an output folder can be built: the checks every writing command makes first.

The output folder is published whole, served by ``serve`` and pruned of what the build no longer makes, and
the watcher takes every change inside it for its own writes. So it must not be, or be inside, anything the
build reads or keeps (entries/, templates/, the record in .countnight/, the default theme), and must not
hold any of them (the blog folder itself, the config, the baseline): ``--out entries`` served a raw draft
over HTTP, and ``--out templates`` turned the pages into theme overrides. Every spelling of a path is
compared as the file system resolves it (symbolic links, ``..``, relative paths, the root folder itself).
The standard library only: the launcher's quick path calls it before loading the build.
"""

from __future__ import annotations

import contextlib
import os
import tomllib
from pathlib import Path

from .fileio import read_file
from .journal import STATE_DIR
from .names import CONFIG_NAME, default_theme

ENTRIES = "entries"
TEMPLATES = "templates"


def _real(path: Path | str) -> Path:
    return Path(os.path.realpath(path))


def _baseline(root: Path) -> str | None:
    """The config's ``baseline`` (the file it names is an input too), or None; a broken config is not this
    check's business (the build says what is wrong with it)."""
    with contextlib.suppress(OSError, ValueError, UnicodeDecodeError):
        name = tomllib.loads(read_file(root / CONFIG_NAME).decode("utf-8-sig")).get("baseline")
        return name if isinstance(name, str) and name else None
    return None


def inputs(root: Path) -> list[tuple[str, Path]]:
    """(what it is, where it really is) for every input and state path of the blog folder ``root``."""
    found = [
        (f"{ENTRIES}/", _real(root / ENTRIES)),
        (f"{TEMPLATES}/", _real(root / TEMPLATES)),
        (f"{STATE_DIR}/ (the record)", _real(root / STATE_DIR)),
        (CONFIG_NAME, _real(root / CONFIG_NAME)),
        ("the default theme", _real(default_theme())),
    ]
    baseline = _baseline(root)
    if baseline:
        found.append((f"the baseline ({baseline})", _real(root / baseline)))
    return found


def folder_problem(root: Path, out: Path | None) -> tuple[str, str] | None:
    """(the option, what is wrong) when ``root`` and ``out`` (None: ROOT/site) cannot be built; None when they can."""
    if not root.is_dir():
        return "--root", f"{root} is not a folder"
    target = out if out is not None else root / "site"
    option = "--out" if out is not None else "--root"
    real = _real(target)
    if _real(root).is_relative_to(real):
        # The output is published whole and `serve` serves it: the blog folder, or a folder above it, would
        # put the config, the record and entries/ (drafts, embargoed results) on the web, and the watcher
        # would take every change in entries/ for its own output and never rebuild.
        return option, f"{target} holds the blog folder; the output needs a folder of its own"
    for what, place in inputs(root):
        if real == place or real.is_relative_to(place):
            return (
                option,
                f"{target} is {'' if real == place else 'inside '}{what}; the output needs a folder of its own",
            )
        if place.is_relative_to(real):
            return option, f"{target} holds {what}; the output needs a folder of its own"
    return None


def output_problem(root: Path, out: Path | None) -> str | None:
    """What is wrong with the output folder's path on disk (a file in its place), or None. Not a usage error:
    the command is right, the folder is not (exit status 1, as for the record's paths)."""
    target = out if out is not None else root / "site"
    if os.path.lexists(target) and not os.path.isdir(target):
        return f"{target} is a file, not a folder: move it away, or give another --out"
    return None
