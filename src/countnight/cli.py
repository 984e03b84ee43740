"""The ``countnight`` command: a thin shell over the library. Each command is a few lines.

The entry and editor commands are here; the others register on the same group from cli_data (baseline,
replay), cli_live (publish, watch, serve, demo) and cli_desk (desk, reporter)."""

from __future__ import annotations

import contextlib
import shutil
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from . import cli_data, cli_desk, cli_live  # noqa: F401 - imported for their commands, which register on main
from .cli_common import OUT, ROOT, main
from .cli_common import echo as _echo
from .cli_common import fail as _fail
from .cli_common import folders as _folders
from .cli_common import site as _site
from .config import load_config
from .errors import InputError
from .journal import Journal
from .listing import UnknownEntry, normalise_id, unknown
from .names import not_read
from .newentry import KINDS_NEW, outside_the_night, write_new_entry
from .oneoff import build_once
from .report import CheckReport
from .terminal import lines, one_line

if TYPE_CHECKING:  # `build` loads neither the watcher, the preview server nor the editor's commands
    from .editing import Edited


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
    now = datetime.now(UTC)
    try:
        event = load_config(root)
        path = write_new_entry(root, event, kind.lower(), constituency=constituency, title=title, now=now)
    except InputError as err:
        _fail(err)
    _echo(path.relative_to(root) if path.is_relative_to(root) else path)
    note = outside_the_night(event, now)
    if note:
        _echo(f"warning: {note}", err=True)


def _count(number: int, noun: str, plural: str = "") -> str:
    return f"{number:,} {noun if number == 1 else plural or noun + 's'}"


def checked(found: CheckReport) -> str:
    """``check``'s last line: what it found, and what it looked at (so that silence is never the answer)."""
    if found.problems:
        files = len({p.path for p in found.problems})
        said = f"{_count(len(found.problems), 'problem')} in {_count(files, 'file')}"
    else:
        said = "no problems"
    if found.warnings:
        said += f", {_count(len(found.warnings), 'warning')}"
    if found.entries == 0 and found.problems and not found.warnings:
        return said  # the config, baseline or theme stopped it before the entries
    inputs = "countnight.toml"
    if found.baseline is not None:
        inputs += f", {found.baseline[0]} ({_count(found.baseline[1], 'constituency', 'constituencies')})"
    return f"{said}: checked {inputs} and {_count(found.entries, 'entry file')}"


@main.command()
@ROOT
@OUT
def check(root: Path, out: Path | None) -> None:
    """Validate the config, baseline and every entry; print FILE:LINE: message per problem.

    Example: countnight check --root election-night/
    """
    found = _site(root, out).check_report()
    for problem in found.problems:
        _echo(problem)
    for warning in found.warnings:
        _echo(warning)
    _echo(checked(found), err=True)
    if found.problems:
        sys.exit(1)


@main.command()
@ROOT
@OUT
def build(root: Path, out: Path | None) -> None:
    """Build the site once. Invalid entries are reported and keep their last good version.

    Example: countnight build --root election-night/ --out /var/www/election
    """
    _folders(root, out)
    sys.exit(build_once(root, out))


@main.command()
@click.argument("entry_id")
@ROOT
def history(entry_id: str, root: Path) -> None:
    """Every version of an entry that readers were shown, and when it was withdrawn or deleted.

    Example: countnight history 0216-cannock-chase-result
    """
    try:
        journal = Journal.open(root)
    except InputError as err:
        _fail(err)
    for warning in journal.warnings:
        _echo(f"warning: {warning}", err=True)
    records = journal.versions(normalise_id(entry_id))
    if not records:
        ident = normalise_id(entry_id)
        _echo(unknown(ident, sorted(journal.ever_shown), f"'{ident}' was never shown to readers"), err=True)
        sys.exit(1)
    version = 0
    for record in records:
        if record.op == "shown":
            version += 1
            _echo(f"== version {version}, live from {record.at} (sha256 {record.hash[:12]})")
            click.echo(lines(record.text.rstrip("\n")))  # the entry's own lines, every control escaped
        else:
            _echo(f"== {record.op} at {record.at}")


# -- editors: change an entry's front matter in place, list the night, bring a version back ----------


@contextlib.contextmanager
def _editor_errors() -> Iterator[None]:
    """Editor commands' errors as the CLI says them: unknown id → usage error (exit 2), refusal → FILE:LINE
    (exit 1), a file system error → its file and reason (exit 1)."""
    try:
        yield
    except UnknownEntry as err:
        raise click.BadParameter(one_line(err), param_hint="'ENTRY_ID'") from None
    except InputError as err:
        _fail(err)
    except OSError as err:
        raise click.ClickException(one_line(f"{err.filename}: {err.strerror}")) from None


def _edit(action: Callable[[], Edited], done: str, already: str) -> None:
    """Run an editing command; unknown id → usage error (exit 2), refusal → FILE:LINE (exit 1)."""
    with _editor_errors():
        edited = action()
    for problem in edited.problems:
        _echo(f"warning: {problem}", err=True)
    name = f"entries/{edited.path.name}"
    _echo(f"{name}: {done}" if edited.changed else f"{name}: {already}")


@main.command()
@click.argument("entry_id")
@click.option("--note", required=True, help="What was corrected, as readers will see it.")
@click.option("--at", metavar="TIME", help="When it was corrected: 02:41 or ISO 8601 [now].")
@click.option(
    "--set",
    "settings",
    metavar="FIELD=VALUE",
    multiple=True,
    help="Also change a one-line field, in place: title=..., candidates[2].votes=12546. Repeat for more.",
)
@ROOT
def correct(entry_id: str, note: str, at: str | None, settings: tuple[str, ...], root: Path) -> None:
    """Mark an entry corrected: `updated` set to now and the `correction` note readers see.

    Example: countnight correct 0317-burton-and-uttoxeter-result --note "Labour's majority is 2,266, not 2,666."
    """
    from .editing import correct as correct_entry

    changes = {}
    for setting in settings:
        field, equals, value = setting.partition("=")
        if not equals or not field.strip():
            raise click.BadParameter(f"'{setting}' is not FIELD=VALUE", param_hint="--set")
        changes[field.strip()] = value
    done = "corrected; readers see it at the next build"
    _edit(lambda: correct_entry(root, entry_id, note, datetime.now(UTC), at=at, changes=changes), done, "unchanged")


@main.command()
@click.argument("entry_id")
@ROOT
def withdraw(entry_id: str, root: Path) -> None:
    """Take an entry off readers' pages (`status: withdrawn`); the record keeps every version shown.

    Example: countnight withdraw 0255-congleton-turnout
    """
    from .editing import withdraw as withdraw_entry

    done = "withdrawn; the next build takes it off readers' pages"
    _edit(lambda: withdraw_entry(root, entry_id), done, "already withdrawn; unchanged")


def _flag_command(name: str, field: str, on: bool, summary: str, example: str) -> None:
    """pin, unpin, key, unkey: set one true/false field of an entry."""

    def command(entry_id: str, root: Path) -> None:
        from .editing import set_flag

        state = f"{field}: {'true' if on else 'false'}"
        _edit(lambda: set_flag(root, entry_id, field, on), f"{state}; readers see it at the next build", "unchanged")

    command.__doc__ = f"{summary}\n\n    Example: countnight {name} {example}\n    "
    main.command(name)(ROOT(click.argument("entry_id")(command)))


_flag_command("pin", "pinned", True, "Pin an entry above the stream until unpinned.", "0645-summary")
_flag_command("unpin", "pinned", False, "Unpin an entry: it goes back to its place in the stream.", "0645-summary")
_flag_command("key", "key", True, "List an entry among the key events at the top.", "2200-exit-poll")
_flag_command("unkey", "key", False, "Take an entry out of the key events.", "2200-exit-poll")


@main.command("list")
@ROOT
def list_command(root: Path) -> None:
    """Every entry: id, kind, time, status (live, scheduled, draft, withdrawn, deleted, error), flags, headline.

    Flags: B breaking, K key event, P pinned, C corrected. An entry with a problem shows its first FILE:LINE.

    Example: countnight list --root election-night/
    """
    from .listing import format_table, list_entries

    try:
        event = load_config(root)
        rows = list_entries(root, datetime.now(UTC))
    except InputError as err:
        _fail(err)
    width = shutil.get_terminal_size().columns if sys.stdout.isatty() else None  # piped: whole headlines
    for line in format_table(rows, event.timezone, width):
        click.echo(line)
    for name, why in not_read(root / "entries"):  # as check and the build say it
        click.echo(f"entries/{name}: {why}", err=True)
    counts = Counter(r.status for r in rows)
    click.echo(f"{len(rows)} entries: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())), err=True)


@main.command()
@click.argument("entry_id")
@click.option("--version", "number", type=click.IntRange(min=1), help="Which version (countnight history) [newest].")
@click.option("--force", is_flag=True, help="Replace the entry's file if it exists.")
@ROOT
def restore(entry_id: str, number: int | None, force: bool, root: Path) -> None:
    """Write a version readers were shown back into entries/ (refuses to overwrite without --force).

    Example: countnight restore 0255-congleton-turnout --version 1
    """
    from .editing import restore as restore_entry

    with _editor_errors():
        done = restore_entry(root, entry_id, number, force=force)
    name = f"entries/{done.path.name}"
    what = f"version {done.version} (live from {done.record.at})"
    _echo(f"{name}: restored {what}" if done.changed else f"{name}: already holds {what}; unchanged")
