"""`baseline` and `replay`: the 2024 results and the 2019 notionals, into a blog folder."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .errors import InputError

if TYPE_CHECKING:  # `build` loads neither the watcher, the preview server nor the editor's commands
    from .baseline import BaselineRow

from .cli_common import ROOT, main
from .cli_common import echo as _echo
from .cli_common import fail as _fail

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
