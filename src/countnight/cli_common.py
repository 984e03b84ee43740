"""What every command shares: the group, the --root and --out options, and clean errors and output."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .changes import Outlet
from .errors import InputError
from .folders import folder_problem, output_problem
from .heap import keep_heap_small
from .site import Site
from .terminal import one_line

if TYPE_CHECKING:  # `build` loads neither the watcher, the preview server nor the editor's commands
    pass

ROOT = click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="The blog folder (holds countnight.toml and entries/).",
)
OUT = click.option(
    "--out", type=click.Path(file_okay=False, path_type=Path), default=None, help="Output folder [ROOT/site]."
)


def echo(text: object, *, err: bool = False) -> None:
    """One line that names files or quotes them: escaped, so no control or bidi character reaches the terminal."""
    click.echo(one_line(text), err=err)


def fail(err: InputError) -> None:
    for problem in err.problems:
        echo(problem, err=True)
    sys.exit(1)


def folders(root: Path, out: Path | None) -> None:
    found = folder_problem(root, out)
    if found is not None:
        raise click.BadParameter(one_line(found[1]), param_hint=found[0])
    wrong = output_problem(root, out)
    if wrong is not None:
        raise click.ClickException(one_line(wrong))


@contextlib.contextmanager
def writer(root: Path, command: str) -> Iterator[None]:
    """The blog folder's lock (lock.py) for a command that publishes; a clear error (exit 1) when it is taken."""
    from .lock import Busy, writer

    held = contextlib.ExitStack()
    try:
        held.enter_context(writer(root, command))
    except Busy as err:
        raise click.ClickException(one_line(err)) from None
    with held:
        yield


def site(root: Path, out: Path | None, *, watching: bool = False, outlets: Sequence[Outlet] = ()) -> Site:
    folders(root, out)
    if watching:  # a watcher stays up all night: keep its memory down
        keep_heap_small()
    return Site(root, out, long_lived=watching, outlets=outlets)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="countnight")
def main() -> None:
    """countnight: a live election-night results blog from a folder of entry files."""
