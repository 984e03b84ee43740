"""The ``countnight`` command: a thin shell over the library. Each command is a few lines."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from .config import load_config
from .errors import InputError
from .journal import Journal
from .newentry import KINDS_NEW, write_new_entry
from .site import BuildReport, Site

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


def _fail(err: InputError) -> None:
    for problem in err.problems:
        click.echo(str(problem), err=True)
    sys.exit(1)


def _site(root: Path, out: Path | None) -> Site:
    if not root.is_dir():
        raise click.BadParameter(f"{root} is not a folder", param_hint="--root")
    return Site(root, out)


def summary_line(report: BuildReport) -> str:
    """'published 45, rejected 1, scheduled 0, 45 live (0.21 s)'."""
    return (
        f"published {len(report.published)}, rejected {len(report.rejected)}, "
        f"scheduled {len(report.scheduled)}, {report.live} live ({report.seconds:.2f} s)"
    )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="countnight")
def main() -> None:
    """countnight: a live election-night results blog from a folder of entry files."""


@main.command()
@click.argument("kind", type=click.Choice(KINDS_NEW, case_sensitive=False))
@click.option("--constituency", help="The constituency it is about (result and turnout need one).")
@click.option("--title", help="The headline.")
@ROOT
@OUT
def new(kind: str, constituency: str | None, title: str | None, root: Path, out: Path | None) -> None:
    """Write a ready-to-fill entry file into entries/ and print its path.

    Example: countnight new result --constituency "Cannock Chase"
    """
    try:
        event = load_config(root)
        path = write_new_entry(root, event, kind.lower(), constituency=constituency, title=title)
    except InputError as err:
        _fail(err)
    click.echo(path.relative_to(root) if path.is_relative_to(root) else path)


@main.command()
@ROOT
@OUT
def check(root: Path, out: Path | None) -> None:
    """Validate the config, baseline and every entry; print FILE:LINE: message per problem.

    Example: countnight check --root election-night/
    """
    problems = _site(root, out).check()
    for problem in problems:
        click.echo(str(problem))
    if problems:
        click.echo(f"{len(problems)} problem(s) in {len({p.path for p in problems})} file(s)", err=True)
        sys.exit(1)


@main.command()
@ROOT
@OUT
def build(root: Path, out: Path | None) -> None:
    """Build the site once. Invalid entries are reported and keep their last good version.

    Example: countnight build --root election-night/ --out /var/www/election
    """
    report = _site(root, out).build()
    for problem in report.problems:
        click.echo(str(problem), err=True)
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(summary_line(report) if report.built else "the site was not built; the previous site is unchanged")
    if report.problems or not report.built:
        sys.exit(1)


@main.command()
@click.argument("entry_id")
@ROOT
def history(entry_id: str, root: Path) -> None:
    """Every version of an entry that readers were shown, and when it was withdrawn or deleted.

    Example: countnight history 0216-cannock-chase-result
    """
    journal = Journal.open(root)
    for warning in journal.warnings:
        click.echo(f"warning: {warning}", err=True)
    records = journal.versions(entry_id)
    if not records:
        click.echo(f"{entry_id}: never shown to readers", err=True)
        sys.exit(1)
    version = 0
    for record in records:
        if record.op == "shown":
            version += 1
            click.echo(f"== version {version}, live from {record.at} (sha256 {record.hash[:12]})")
            click.echo(record.text.rstrip("\n"))
        else:
            click.echo(f"== {record.op} at {record.at}")


@main.command()
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (loopback by default).")
@ROOT
@OUT
def serve(port: int, host: str, root: Path, out: Path | None) -> None:
    """Build, then serve the site for preview on http://127.0.0.1:8000.

    Example: countnight serve --port 8080
    """
    from .serve import run_server

    site = _site(root, out)
    report = site.build(datetime.now(UTC))
    for problem in report.problems:
        click.echo(str(problem), err=True)
    click.echo(summary_line(report))
    run_server(site.out, host, port)
