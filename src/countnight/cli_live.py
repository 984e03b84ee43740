"""The night's long-running commands: `publish`, `watch`, `serve` and `demo`."""

from __future__ import annotations

import contextlib
import shutil
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .config import load_config
from .console import NORMAL, QUIET, VERBOSE, Console
from .errors import InputError
from .oneoff import build_once
from .site import Site

if TYPE_CHECKING:  # `build` loads neither the watcher, the preview server nor the editor's commands
    from .channel import LiveChannel
    from .objectstore import ObjectStoreOutlet
    from .watch import Watcher

from .cli_common import OUT, ROOT, main
from .cli_common import fail as _fail
from .cli_common import folders as _folders
from .cli_common import site as _site
from .cli_common import writer as _writer

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
    outlet = _outlet(root, out, to or "", endpoint, profile, Console())  # a mistyped target before any build
    status = build_once(root, out)
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
    site: Site,
    poll: bool,
    rescan: float,
    quiet: bool,
    verbose: bool,
    *,
    preview: bool = False,
    stores: Sequence[ObjectStoreOutlet] = (),
) -> tuple[Watcher, LiveChannel]:
    """The watcher, with the live channel (channel.py) among the site's outlets; ``preview``: serve offers
    the channel's event stream itself. The object ``stores`` get the channel's files as it writes them."""
    from .channel import LiveChannel, publish_url
    from .watch import Watcher

    def wrote(written: list[str], removed: list[str]) -> None:
        for store in stores:
            store.take(written, removed, build=False)

    console = Console(verbosity=QUIET if quiet else VERBOSE if verbose else NORMAL)
    channel = LiveChannel(
        site.out,
        publish_url=publish_url(site.root),
        local=preview,
        warn=console.warning,
        note=console.info,
        wrote=wrote,
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
        watcher, channel = _watcher(site, poll, rescan, quiet, verbose, stores=outlets)
        with _outlets_running(outlets):
            try:
                watcher.run_forever()
            finally:
                channel.close()  # its last files, then the stores: they finish what is pending


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
        _serve(*_watcher(site, poll, rescan, quiet, verbose, preview=True, stores=outlets), host, port, outlets=outlets)


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
