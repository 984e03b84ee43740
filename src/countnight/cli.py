"""The ``countnight`` command: a thin shell over the library. Each command is a few lines."""

from __future__ import annotations

import contextlib
import shutil
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .changes import Outlet
from .config import load_config
from .console import NORMAL, QUIET, VERBOSE, Console
from .errors import InputError
from .folders import folder_problem, output_problem
from .journal import Journal
from .listing import UnknownEntry, normalise_id, unknown
from .names import not_read
from .newentry import KINDS_NEW, outside_the_night, write_new_entry
from .oneoff import build_once
from .report import CheckReport
from .site import Site
from .terminal import lines, one_line

if TYPE_CHECKING:  # `build` loads neither the watcher, the preview server nor the editor's commands
    from .baseline import BaselineRow
    from .channel import LiveChannel
    from .editing import Edited
    from .objectstore import ObjectStoreOutlet
    from .watch import Watcher

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


def _echo(text: object, *, err: bool = False) -> None:
    """One line that names files or quotes them: escaped, so no control or bidi character reaches the terminal."""
    click.echo(one_line(text), err=err)


def _fail(err: InputError) -> None:
    for problem in err.problems:
        _echo(problem, err=True)
    sys.exit(1)


def _folders(root: Path, out: Path | None) -> None:
    found = folder_problem(root, out)
    if found is not None:
        raise click.BadParameter(one_line(found[1]), param_hint=found[0])
    wrong = output_problem(root, out)
    if wrong is not None:
        raise click.ClickException(one_line(wrong))


@contextlib.contextmanager
def _writer(root: Path, command: str) -> Iterator[None]:
    """The blog folder's lock (lock.py) for a command that publishes; a clear error (exit 1) when it is taken."""
    from .lock import Busy, writer

    held = contextlib.ExitStack()
    try:
        held.enter_context(writer(root, command))
    except Busy as err:
        raise click.ClickException(one_line(err)) from None
    with held:
        yield


def _site(root: Path, out: Path | None, *, watching: bool = False, outlets: Sequence[Outlet] = ()) -> Site:
    _folders(root, out)
    return Site(root, out, long_lived=watching, outlets=outlets)  # a watcher stays up all night: keep its memory down


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


DATA = click.option(
    "--data",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    envvar="COUNTNIGHT_DATA",
    show_envvar=True,
    default=None,
    help="Folder with the Commons Library GE2024 files and the 2019 notionals [the copy shipped with countnight].",
)


def _data(data: Path | None) -> Path:
    """The --data folder, or the Library's files shipped in the package (see their SOURCE.md)."""
    from .ge2024 import shipped_data

    return data if data is not None else shipped_data()


REGION = click.option("--region", help='Only this region or nation: "West Midlands", "Scotland".')
CONSTITUENCIES = click.option(
    "--constituency", "constituencies", multiple=True, help="Only this constituency; repeat for more."
)
CANDIDATES = click.option(
    "--candidates", is_flag=True, help="Also write ROOT/candidates.csv (2024's candidates) for the desk's forms."
)


@main.command("baseline")
@DATA
@REGION
@CONSTITUENCIES
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="File [ROOT/baseline.csv].")
@CANDIDATES
@ROOT
def baseline_command(
    data: Path | None,
    region: str | None,
    constituencies: tuple[str, ...],
    output: Path | None,
    candidates: bool,
    root: Path,
) -> None:
    """Write baseline.csv from the 2019 notionals: every seat, a region, or named constituencies.

    Example: countnight baseline --region "West Midlands"
    """
    from .baseline import write_baseline

    rows = _seats(_data(data), region, constituencies)
    path = output or root / "baseline.csv"
    write_baseline(rows, path)
    _echo(f"wrote {path} ({len(rows)} constituencies)")
    if candidates:
        _write_candidates(_data(data), rows, root)


def _seats(data: Path, region: str | None, constituencies: tuple[str, ...]) -> list[BaselineRow]:
    """The seats chosen by --region / --constituency, or the command's error."""
    from .replay import select_seats

    try:
        return select_seats(data, region, constituencies)
    except InputError as err:
        _fail(err)
        raise
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="--region / --constituency") from None


def _write_candidates(data: Path, rows: list[BaselineRow], root: Path) -> None:
    from .desk.candidates import FILE, write_candidates_file

    try:
        count = write_candidates_file(data, rows, root / FILE)
    except InputError as err:
        _fail(err)
    _echo(f"wrote {root / FILE} ({count} candidates, for the desk)")


@main.command()
@DATA
@click.option("--speed", type=click.FloatRange(min=0), default=60.0, show_default=True, help="60 = an hour a minute.")
@click.option("--instant", is_flag=True, help="Drop every entry at once (the same as --speed 0).")
@REGION
@CONSTITUENCIES
@click.option("--seed", type=int, default=2024, show_default=True, help="Seeds the invented declaration order.")
@CANDIDATES
@ROOT
def replay(
    data: Path | None,
    speed: float,
    instant: bool,
    region: str | None,
    constituencies: tuple[str, ...],
    seed: int,
    candidates: bool,
    root: Path,
) -> None:
    """Replay the 2024 election night into entries/; sets up a fresh folder; resumes where it stopped.

    Example: countnight replay --root wm --region "West Midlands" --speed 60
    """
    from .replay import Drop, replay_night

    def show(drop: Drop) -> None:
        _echo(f"{drop.at:%H:%M}  {drop.kind:<7}  {drop.constituency}")

    speed = 0 if instant else speed
    if candidates:
        rows = _seats(_data(data), region, constituencies)
        root.mkdir(parents=True, exist_ok=True)
        _write_candidates(_data(data), rows, root)
    try:
        report = replay_night(
            root,
            _data(data),
            speed=speed,
            seed=seed,
            region=region,
            constituencies=constituencies,
            note=_echo,
            on_drop=show if speed else None,
        )
    except InputError as err:
        _fail(err)
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="--region / --constituency") from None
    except KeyboardInterrupt:
        click.echo("stopped: run the same command again to carry on", err=True)
        sys.exit(130)
    click.echo(f"dropped {len(report.written)} entries into entries/ ({report.skipped} were already there)")


ENDPOINT = click.option(
    "--endpoint", envvar="AWS_ENDPOINT_URL", help="The store's address (MinIO, R2, SeaweedFS) [$AWS_ENDPOINT_URL]."
)
PROFILE = click.option("--profile", envvar="AWS_PROFILE", help="An AWS profile from ~/.aws [$AWS_PROFILE].")
PUBLISH = click.option(
    "--publish",
    "publish_to",
    is_flag=False,
    flag_value="",
    default=None,
    metavar="s3://BUCKET/PREFIX",
    help="Also mirror every build to an object store (alone: the [publish] table's `to`).",
)
StoreOptions = tuple[str | None, str | None, str | None]  # (--publish, --endpoint, --profile)


def _publish_options(command: Callable[..., None]) -> Callable[..., None]:
    """``watch`` and ``serve``: where to publish; credentials only ever from the environment or a profile."""
    return PUBLISH(ENDPOINT(PROFILE(command)))


def _outlet(
    root: Path, out: Path | None, to: str, endpoint: str | None, profile: str | None, console: Console
) -> ObjectStoreOutlet:
    from .storesetup import SetupError, open_outlet

    try:
        event = load_config(root)
        return open_outlet(root, out or root / "site", event, to, endpoint=endpoint, profile=profile, console=console)
    except InputError as err:
        _fail(err)
        raise  # not reached
    except SetupError as err:
        raise click.ClickException(str(err)) from None


def _store_outlets(
    root: Path, out: Path | None, store: StoreOptions, quiet: bool, verbose: bool
) -> list[ObjectStoreOutlet]:
    """The object-store outlet ``--publish`` asks for (none without it)."""
    to, endpoint, profile = store
    if to is None:
        return []
    _folders(root, out)
    console = Console(verbosity=QUIET if quiet else VERBOSE if verbose else NORMAL)
    return [_outlet(root, out, to, endpoint, profile, console)]


@contextlib.contextmanager
def _outlets_running(outlets: Sequence[ObjectStoreOutlet]) -> Iterator[None]:
    """The outlets run beside the watcher; on the way out they get a few seconds to finish what is pending."""
    for outlet in outlets:
        outlet.start()
    try:
        yield
    finally:
        for outlet in outlets:
            outlet.stop()


def _outstanding(watcher: Watcher, outlets: Sequence[ObjectStoreOutlet]) -> list[str]:
    """The preview banner: the watcher's errors, and how far behind a failing object store is."""
    from .objectstore import describe

    behind = [describe(outlet.state()) for outlet in outlets]
    return watcher.outstanding() + [line for line in behind if line]


@main.command()
@click.option("--to", "to", metavar="s3://BUCKET/PREFIX", help="Where to [the [publish] table's `to`].")
@ENDPOINT
@PROFILE
@ROOT
@OUT
def publish(to: str | None, endpoint: str | None, profile: str | None, root: Path, out: Path | None) -> None:
    """Build, then mirror the site to an S3-compatible object store, in an order that never lets a reader
    load a file naming one not yet uploaded. Only changed objects go up.

    Example: AWS_ENDPOINT_URL=https://ACCOUNT.r2.cloudflarestorage.com countnight publish --to s3://night/2024
    """
    from .storesetup import mirror_once

    _folders(root, out)
    status = build_once(root, out)
    outlet = _outlet(root, out, to or "", endpoint, profile, Console())
    problem = mirror_once(outlet)
    if problem is not None:
        raise click.ClickException(f"{outlet.store.target}: {problem}; run it again to carry on")
    state = outlet.state()
    click.echo(f"{outlet.store.target}: up to date ({state.uploaded} uploaded, {state.deleted} deleted)")
    sys.exit(status)


def _watch_options(command: Callable[..., None]) -> Callable[..., None]:
    """The options ``watch`` and ``serve`` share."""
    for option in reversed(
        [
            click.option("--poll", is_flag=True, help="Poll instead of inotify (network shares, synced folders)."),
            click.option("--rescan", default=30.0, show_default=True, help="Seconds between full rescans."),
            click.option("-q", "--quiet", is_flag=True, help="Only problems and errors."),
            click.option("-v", "--verbose", is_flag=True, help="Also every build, held file and timing."),
        ]
    ):
        command = option(command)
    return command


def _watcher(
    site: Site, poll: bool, rescan: float, quiet: bool, verbose: bool, *, preview: bool = False
) -> tuple[Watcher, LiveChannel]:
    """The watcher, with the live channel (channel.py) among the site's outlets; ``preview``: serve offers
    the channel's event stream itself."""
    from .channel import LiveChannel, publish_url
    from .watch import Watcher

    console = Console(verbosity=QUIET if quiet else VERBOSE if verbose else NORMAL)
    channel = LiveChannel(
        site.out, publish_url=publish_url(site.root), local=preview, warn=console.warning, note=console.info
    )
    site.outlets = (*site.outlets, channel)
    return Watcher(site, console=console, poll=poll, rescan=rescan), channel


@main.command()
@ROOT
@OUT
@_watch_options
@_publish_options
def watch(
    root: Path,
    out: Path | None,
    poll: bool,
    rescan: float,
    quiet: bool,
    verbose: bool,
    publish_to: str | None,
    endpoint: str | None,
    profile: str | None,
) -> None:
    """Build, then rebuild on every change in entries/, the config or templates until Ctrl-C.

    Example: countnight watch --root election-night/ --out /var/www/election --publish s3://night/2024
    """
    outlets = _store_outlets(root, out, (publish_to, endpoint, profile), quiet, verbose)
    site = _site(root, out, watching=True, outlets=outlets)
    with _writer(root, "watch"):  # one writer per blog folder (lock.py)
        watcher, channel = _watcher(site, poll, rescan, quiet, verbose)
        try:
            with _outlets_running(outlets):
                watcher.run_forever()
        finally:
            channel.close()


@main.command()
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (loopback by default).")
@ROOT
@OUT
@_watch_options
@_publish_options
def serve(
    port: int,
    host: str,
    root: Path,
    out: Path | None,
    poll: bool,
    rescan: float,
    quiet: bool,
    verbose: bool,
    publish_to: str | None,
    endpoint: str | None,
    profile: str | None,
) -> None:
    """Watch, and serve the site for preview on http://127.0.0.1:8000 with a banner of outstanding errors.

    Example: countnight serve --port 8080
    """
    outlets = _store_outlets(root, out, (publish_to, endpoint, profile), quiet, verbose)
    site = _site(root, out, watching=True, outlets=outlets)
    with _outlets_running(outlets):
        _serve(*_watcher(site, poll, rescan, quiet, verbose, preview=True), host, port, outlets=outlets)


def _serve(
    watcher: Watcher,
    channel: LiveChannel,
    host: str,
    port: int,
    meanwhile: Callable[[], object] | None = None,
    outlets: Sequence[ObjectStoreOutlet] = (),
) -> None:
    """The watcher and the preview server (with the live channel's event stream) until Ctrl-C; ``meanwhile``
    runs in a thread of its own once both are up."""
    import threading

    from .serve import PreviewServer

    with _writer(watcher.site.root, "serve"):  # one writer per blog folder (lock.py)
        try:
            server = PreviewServer(
                watcher.site.out, host, port, problems=lambda: _outstanding(watcher, outlets), channel=channel
            )
        except OSError as err:
            raise click.ClickException(f"cannot listen on {host}:{port}: {err.strerror or err}") from None
        watcher.start()
        server.start()
        watcher.console.info(f"serving {watcher.site.out} at {server.url}")
        if meanwhile is not None:
            threading.Thread(target=meanwhile, name="countnight-meanwhile", daemon=True).start()
        try:
            watcher.run_forever()
        finally:
            channel.close()
            server.stop()


@main.command()
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (loopback by default).")
@click.option(
    "--speed",
    type=click.FloatRange(min=0, min_open=True),
    default=120.0,
    show_default=True,
    help="Night seconds a real second: 120 plays an hour in 30 s.",
)
@click.option(
    "--max-gap",
    type=click.FloatRange(min=0),
    default=6.0,
    show_default=True,
    help="The longest real wait between two entries, in seconds.",
)
@click.option(
    "--into",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The scratch blog folder [a new temporary folder, removed at the end].",
)
@ROOT
@_watch_options
def demo(
    port: int, host: str, speed: float, max_gap: float, into: Path | None, root: Path,
    poll: bool, rescan: float, quiet: bool, verbose: bool,
) -> None:  # fmt: skip
    """Play ROOT's night again, live: its entries dropped one by one into a scratch folder that is served.

    ROOT is only read. Example: countnight demo --root . --speed 120   (what `make run` runs)
    """
    import tempfile
    import threading

    from . import demo as night

    scratch = into or Path(tempfile.mkdtemp(prefix="countnight-demo-"))
    if into is not None and into.resolve() == root.resolve():
        raise click.BadParameter(
            "must be a folder other than --root: the demo never writes into the blog", param_hint="--into"
        )
    if into is not None and (into / "entries").is_dir() and any((into / "entries").iterdir()):
        raise click.BadParameter(f"{into}/entries is not empty: give a new folder", param_hint="--into")
    stop = threading.Event()
    try:
        try:
            drops = night.plan(root)
            night.prepare(root, scratch)
        except InputError as err:
            _fail(err)
        watcher, channel = _watcher(_site(scratch, None, watching=True), poll, rescan, quiet, verbose, preview=True)
        watcher.console.info(f"replaying {len(drops)} entries of {root.resolve()} into {scratch}")

        def run() -> None:
            delivered = night.play(scratch, drops, speed=speed, max_gap=max_gap, stop=stop)
            if delivered == len(drops):
                watcher.console.info(f"the whole night is out ({delivered} entries); Ctrl-C to stop")

        _serve(watcher, channel, host, port, meanwhile=run)
    finally:
        stop.set()
        if into is None:
            shutil.rmtree(scratch, ignore_errors=True)


# -- the reporters' desk ---------------------------------------------------------------------------------


@main.command()
@click.option("--port", default=8010, show_default=True, type=click.IntRange(0, 65535))
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (put a TLS proxy in front).")
@ROOT
def desk(port: int, host: str, root: Path) -> None:
    """Serve the reporters' desk: phones file entries into entries/ (run `watch` or `serve` beside it).

    Example: countnight desk --port 8010   (behind Caddy or nginx for TLS; see the README)
    """
    try:
        load_config(root)
    except InputError as err:
        _fail(err)
    import jinja2

    from .desk.server import serve_forever

    click.echo(f"the desk for {root.resolve()} at http://{host}:{port} (Ctrl-C stops it)")
    try:
        serve_forever(root, host, port)
    except jinja2.TemplateError as err:  # the blog's own templates: the preview is the page's card
        raise click.ClickException(f"templates: {err}") from None


@main.group()
def reporter() -> None:
    """Who may use the desk: add (prints a one-time sign-in link), list, remove (revokes at once), link."""


def _desk_url(root: Path, url: str | None) -> str:
    if url:
        return url.rstrip("/")
    try:
        configured = load_config(root).desk.url
    except InputError:
        configured = None
    return (configured or "http://127.0.0.1:8010").rstrip("/")


URL = click.option("--url", help="The desk's public address for the link [config [desk] url, else local].")


def _journal(root: Path, action: str, name: str) -> None:
    """The desk's log says who changed who may use it, as it says who filed what."""
    import getpass

    from .desk.drop import log_action

    try:
        who = f"{getpass.getuser()} (command line)"
    except (KeyError, OSError):  # no user name for this uid (a container)
        who = "command line"
    log_action(root, who, action, detail=name, at=datetime.now(UTC))


@reporter.command("add")
@click.argument("name")
@click.option("--role", default="", help='Shown in the byline: "BBC Radio Stoke".')
@click.option("--editor", is_flag=True, help="May approve, correct, withdraw, pin and key entries.")
@URL
@ROOT
def reporter_add(name: str, role: str, editor: bool, url: str | None, root: Path) -> None:
    """Add a reporter and print their one-time sign-in link (send it to their phone).

    Example: countnight reporter add "Hannah Birch" --role "BBC Radio Stoke"
    """
    from .desk.reporters import Reporters

    try:
        token = Reporters(root).add(name, role, editor, datetime.now(UTC))
    except InputError as err:
        _fail(err)
    _journal(root, "added an editor" if editor else "added a reporter", name)
    click.echo(f"{_desk_url(root, url)}/signin/{token}")
    click.echo("works once, within 7 days; `countnight reporter link NAME` makes a new one", err=True)


@reporter.command("link")
@click.argument("name")
@URL
@ROOT
def reporter_link(name: str, url: str | None, root: Path) -> None:
    """A new one-time sign-in link for a reporter (a new phone); the old link stops working.

    Example: countnight reporter link "Hannah Birch"
    """
    from .desk.reporters import Reporters

    try:
        token = Reporters(root).new_link(name, datetime.now(UTC))
    except InputError as err:
        _fail(err)
    _journal(root, "made a new sign-in link", name)
    click.echo(f"{_desk_url(root, url)}/signin/{token}")


@reporter.command("list")
@ROOT
def reporter_list(root: Path) -> None:
    """Every reporter: name, role, editor or not, sessions open.

    Example: countnight reporter list
    """
    from .desk.reporters import Reporters

    try:
        rows = Reporters(root).all()
    except InputError as err:
        _fail(err)
    for who, sessions in rows:
        kind = "editor" if who.editor else "reporter"
        click.echo(f"{who.name}\t{who.role}\t{kind}\t{sessions} session(s)\tadded {who.added}")
    click.echo(f"{len(rows)} reporter(s)", err=True)


@reporter.command("remove")
@click.argument("name")
@ROOT
def reporter_remove(name: str, root: Path) -> None:
    """Remove a reporter: their link and every session they have stop working at once.

    Example: countnight reporter remove "Hannah Birch"
    """
    from .desk.reporters import Reporters

    try:
        removed = Reporters(root).remove(name)
    except InputError as err:
        _fail(err)
    _journal(root, "removed", removed)
    click.echo(f"removed {removed}; their sessions are closed")
