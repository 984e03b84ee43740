"""`desk` and `reporter`: the reporters' desk and who may sign in to it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .config import load_config
from .errors import InputError

if TYPE_CHECKING:  # `build` loads neither the watcher, the preview server nor the editor's commands
    pass

from .cli_common import ROOT, main
from .cli_common import fail as _fail


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
