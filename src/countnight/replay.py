"""``countnight replay``: the 2024 general election night, dropped into ``entries/`` on a compressed clock.

The Commons Library files give every result but no declaration times, so the replay invents a
plausible night with a seeded model (``--seed``; the same seed always gives the same night):

* Each seat gets a score in rough "hours of counting": rural (``County``) seats +0.9, as ballot boxes
  travel further; Scotland +0.6, Northern Ireland +0.4, Wales +0.3; +0.5 per 5,000 electors away from
  a typical 73,000 register (capped at 2), because the exceptional seats are the big ones and the small
  island ones (Orkney and Shetland, Na h-Eileanan an Iar), both slow; safe seats earlier (−0.02 per point
  of majority), close ones (majority under 2%) +0.6 for the bundle checks and recounts; North East −1.0,
  whose counts race each other to declare first; plus Gaussian noise (σ 0.7) from the seed.
* The seats are ranked by score and the ranks spread over a cumulative curve shaped like a real
  night: the first declaration at 23:15 (the Sunderland-style sprint), a handful before 00:30, a fifth
  by 02:30, half by 03:30, 93% by 05:30 and the last at 07:00 (all BST, 5 July 2024).
* Each result is preceded by a turnout entry, 20–75 minutes earlier (never before 22:45), as a reporter
  at the count would send it: ballots verified (valid + rejected votes), the register and the percentage.

The plan is always made for all 650 seats and then filtered (``--region``, ``--constituency``), so a seat
declares at the same time whichever part of the night is replayed.

Files are written the maildir way: into ``ROOT/.countnight/replay-tmp/``, fsynced, then ``os.rename``d
into ``entries/``, so a watcher never sees half a file. Names come from the seat
(``0317-cannock-chase-result.md``); a run that finds a seat's turnout or result already in ``entries/``
(under any time) skips it, so an interrupted replay run again carries on without duplicates.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import random
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from .baseline import BaselineRow, fold_name, load_baseline, read_csv_table, write_baseline
from .clock import parse_time
from .config import CONFIG_NAME, load_config
from .errors import InputError
from .ge2024 import CONSTITUENCIES_FILE, Constituency2024, build_baseline, read_results
from .publish import write_atomic

__all__ = [
    "Declaration",
    "Drop",
    "ReplayReport",
    "entry_texts",
    "plan_night",
    "prepare_folder",
    "read_seat_types",
    "replay_night",
    "run_replay",
    "select_seats",
    "slug",
]

LONDON = ZoneInfo("Europe/London")
POLLS_CLOSE = datetime(2024, 7, 4, 22, 0, tzinfo=LONDON)
EARLIEST_TURNOUT = datetime(2024, 7, 4, 22, 45, tzinfo=LONDON)
TMP_DIR = Path(".countnight") / "replay-tmp"
AUTHOR = "Count night replay"
ROLE = "House of Commons Library results"

# Share of seats declared by each time (linear in between): the shape of a general election night.
_CURVE: tuple[tuple[datetime, float], ...] = tuple(
    (datetime(2024, 7, day, hour, minute, tzinfo=LONDON), share)
    for day, hour, minute, share in (
        (4, 23, 15, 0.0),
        (5, 0, 30, 0.01),
        (5, 1, 30, 0.05),
        (5, 2, 30, 0.20),
        (5, 3, 30, 0.50),
        (5, 4, 30, 0.78),
        (5, 5, 30, 0.93),
        (5, 6, 30, 0.99),
        (5, 7, 0, 1.0),
    )
)
_ENTRY_NAME = re.compile(r"^\d{4}-(?P<slug>.+)-(?P<kind>turnout|result)\.md$")


@dataclass(frozen=True)
class Declaration:
    """When one seat's turnout and result come in on the replayed night."""

    seat: Constituency2024
    turnout_at: datetime
    declared_at: datetime


@dataclass(frozen=True)
class Drop:
    """One entry file to drop into ``entries/`` at ``at`` (night time)."""

    at: datetime
    kind: str  # "turnout" | "result"
    constituency: str
    name: str  # the file name: "0317-cannock-chase-result.md"
    text: str

    @property
    def key(self) -> tuple[str, str]:
        """What makes it a duplicate: the seat and the kind, whatever the time in the name."""
        return slug(self.constituency), self.kind


@dataclass
class ReplayReport:
    """What a replay run did."""

    written: list[Drop] = field(default_factory=list)
    skipped: int = 0  # already in entries/ from an earlier run


def slug(name: str) -> str:
    """'Ynys Môn' → 'ynys-mon': the seat's part of its entry file names."""
    return fold_name(name).replace(" ", "-")


def read_seat_types(path: Path) -> dict[str, str]:
    """ONS ID → "borough" or "county" (urban or rural), from the Library's ``Constituency type``."""
    header, rows = read_csv_table(path, str(path))
    if "ONS ID" not in header or "Constituency type" not in header:
        return {}
    ons, kind = header.index("ONS ID"), header.index("Constituency type")
    return {f[ons].strip(): f[kind].strip().casefold() for _, f in rows if len(f) > max(ons, kind)}


def _score(seat: Constituency2024, seat_type: str, noise: float) -> float:
    """Lower declares earlier; see the module docstring for each term."""
    score = 0.9 if seat_type == "county" else 0.0
    score += {"Scotland": 0.6, "Northern Ireland": 0.4, "Wales": 0.3}.get(seat.country, 0.0)
    score += min(2.0, 0.5 * abs(seat.electorate - 73_000) / 5_000)
    majority_pct = 100 * seat.majority / seat.valid_votes if seat.valid_votes else 0.0
    score += -0.02 * majority_pct + (0.6 if majority_pct < 2 else 0.0)
    score += -1.0 if seat.region == "North East" else 0.0
    return score + noise


def _curve_time(share: float) -> datetime:
    """The time by which ``share`` (0–1) of the seats have declared, on the night's curve."""
    for (t0, s0), (t1, s1) in itertools.pairwise(_CURVE):
        if share <= s1:
            fraction = 0.0 if s1 == s0 else (share - s0) / (s1 - s0)
            return t0 + (t1 - t0) * fraction
    return _CURVE[-1][0]


def _minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def plan_night(seats: Sequence[Constituency2024], seat_types: dict[str, str], seed: int) -> list[Declaration]:
    """Every seat's turnout and declaration time, in declaration order (see the module docstring)."""
    rng = random.Random(seed)
    ordered = sorted(seats, key=lambda s: s.ons_id)  # draw the noise in a fixed order, whatever the file's
    noise = {s.ons_id: rng.gauss(0.0, 0.7) for s in ordered}
    leads = {s.ons_id: rng.uniform(20, 75) for s in ordered}
    ranked = sorted(ordered, key=lambda s: (_score(s, seat_types.get(s.ons_id, ""), noise[s.ons_id]), s.ons_id))
    plan = []
    for rank, seat in enumerate(ranked):
        declared = _minute(_curve_time(rank / max(1, len(ranked) - 1)))
        turnout = max(EARLIEST_TURNOUT, _minute(declared - timedelta(minutes=leads[seat.ons_id])))
        plan.append(Declaration(seat, turnout, declared))
    return plan


def select_seats(data: Path, region: str | None, constituencies: Sequence[str] | None) -> list[BaselineRow]:
    """The baseline rows of the seats chosen (all, a region or nation, or named seats).

    Raises InputError (FILE:LINE) for bad data files and ValueError for a region or name that matches nothing.
    """
    return build_baseline(data, region=region, constituencies=list(constituencies) if constituencies else None)


def _q(text: str) -> str:
    """A YAML double-quoted scalar (JSON's string syntax is valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def entry_texts(declaration: Declaration, clock: Callable[[datetime], str]) -> tuple[str, str]:
    """The turnout and result entry files of one declaration; ``clock`` writes a time ("03:17")."""
    seat = declaration.seat
    ballots = seat.valid_votes + seat.invalid_votes
    pct = 100 * ballots / seat.electorate
    byline = f"author: {_q(AUTHOR)}\nrole: {_q(ROLE)}\n"
    turnout = (
        f"---\nkind: turnout\ntime: {_q(clock(declaration.turnout_at))}\nconstituency: {_q(seat.name)}\n"
        f"turnout: {pct:.2f}\nballots: {ballots}\nelectorate: {seat.electorate}\n{byline}---\n"
    )
    ordered = sorted(
        ((c.name, c) for c in seat.candidates), key=lambda nc: (-nc[1].votes, nc[0].casefold(), nc[1].party)
    )
    candidates = "".join(f"  - {{name: {_q(name)}, party: {_q(c.party)}, votes: {c.votes}}}\n" for name, c in ordered)
    result = (
        f"---\nkind: result\ntime: {_q(clock(declaration.declared_at))}\nconstituency: {_q(seat.name)}\n"
        f"electorate: {seat.electorate}\nrejected: {seat.invalid_votes}\ncandidates:\n{candidates}{byline}---\n"
    )
    return turnout, result


def make_drops(plan: Iterable[Declaration], clock: Callable[[datetime], str]) -> list[Drop]:
    """The entry files of a plan, in the order they arrive (a turnout before a result at the same minute)."""
    drops = []
    for declaration in plan:
        name = declaration.seat.name
        texts = entry_texts(declaration, clock)
        for kind, at, text in zip(
            ("turnout", "result"), (declaration.turnout_at, declaration.declared_at), texts, strict=True
        ):
            drops.append(Drop(at, kind, name, f"{at:%H%M}-{slug(name)}-{kind}.md", text))
    return sorted(drops, key=lambda d: (d.at, d.kind != "turnout", d.name))


def _config_text(region: str | None) -> str:
    title = f"General election 2024: {region} (replay)" if region else "General election 2024 (replay)"
    return (
        "# Written by `countnight replay`: the 2024 general election night, replayed.\n"
        f"title = {_q(title)}\n"
        'timezone = "Europe/London"\n'
        "# No coverage_end, so the page stays live while the replay runs; times resolve into the 24 hours\n"
        "# from polls closing, so the replay's 03:17 is 03:17 on 5 July 2024.\n"
        'coverage_start = "2024-07-04T22:00:00+01:00"\n'
        'baseline = "baseline.csv"\n'
    )


def prepare_folder(root: Path, rows: Sequence[BaselineRow], region: str | None) -> list[str]:
    """Make ``root`` ready for the replay; returns notes for the user.

    Writes ``countnight.toml`` (a coverage window for the 2024 night) if there is none, and the baseline
    file it names if that does not exist. An existing baseline must list every replayed seat, or the
    entries would be rejected; InputError says which are missing.
    """
    notes: list[str] = []
    (root / "entries").mkdir(parents=True, exist_ok=True)
    if not (root / CONFIG_NAME).exists():
        write_atomic(root / CONFIG_NAME, _config_text(region).encode())
        notes.append(f"wrote {CONFIG_NAME}")
    event = load_config(root)
    if event.baseline is None:
        notes.append(f"{CONFIG_NAME} names no baseline: results will show no gains or swings")
        return notes
    path = root / event.baseline
    if not path.exists():
        write_baseline(rows, path)
        notes.append(f"wrote {event.baseline} ({len(rows)} constituencies)")
        return notes
    baseline = load_baseline(path, event.baseline)
    missing = [row.constituency for row in rows if row.constituency not in baseline]
    if missing:
        shown = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
        raise InputError.one(
            event.baseline, 0, f"does not list {shown}: replay a region it covers, or delete it to have it rewritten"
        )
    return notes


def night_clock(root: Path) -> Callable[[datetime], str]:
    """How entries write a time: "03:17" when the event's window resolves it to that moment, else full ISO."""
    window = load_config(root).window

    def clock(moment: datetime) -> str:
        short = f"{moment:%H:%M}"
        try:
            if parse_time(short, window) == moment:
                return short
        except ValueError:
            pass
        return moment.isoformat()

    return clock


def plan_for(data: Path, rows: Sequence[BaselineRow], seed: int) -> list[Declaration]:
    """Read the Library files, plan the whole night, and keep the chosen seats' declarations."""
    seats = read_results(data)
    seat_types = read_seat_types(data / CONSTITUENCIES_FILE)
    chosen = {fold_name(row.constituency) for row in rows}
    return [d for d in plan_night(seats, seat_types, seed) if fold_name(d.seat.name) in chosen]


def _present(entries: Path) -> set[tuple[str, str]]:
    """(seat slug, kind) of the turnout and result files already in ``entries/``."""
    found = set()
    for name in os.listdir(entries):
        match = _ENTRY_NAME.match(name)
        if match:
            found.add((match["slug"], match["kind"]))
    return found


def _drop(root: Path, drop: Drop) -> None:
    """Write into the temp folder, fsync, then rename into ``entries/``: a watcher sees it whole or not at all."""
    tmp = root / TMP_DIR / drop.name
    with open(tmp, "w", encoding="utf-8", newline="\n") as out:
        out.write(drop.text)
        out.flush()
        os.fsync(out.fileno())
    os.chmod(tmp, 0o644)
    os.rename(tmp, root / "entries" / drop.name)


def run_replay(
    root: Path,
    drops: Sequence[Drop],
    *,
    speed: float,
    monotonic: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    on_drop: Callable[[Drop], None] | None = None,
) -> ReplayReport:
    """Drop the entries not yet in ``entries/``, ``speed`` night-seconds per real second (0: all at once).

    The replayed clock starts at the first entry still to come, so a resumed replay does not wait
    through the part of the night it has already written.
    """
    if speed < 0 or math.isnan(speed):
        raise ValueError("the speed must be 0 (all at once) or more")
    report = ReplayReport()
    tmp_dir = root / TMP_DIR
    tmp_dir.mkdir(parents=True, exist_ok=True)
    for leftover in tmp_dir.iterdir():  # half-written by an interrupted run: never renamed, so never seen
        leftover.unlink()
    present = _present(root / "entries")
    pending = [d for d in drops if d.key not in present]
    report.skipped = len(drops) - len(pending)
    if not pending:
        return report
    night_start, real_start = pending[0].at, monotonic()
    for drop in pending:
        if speed > 0:
            due = real_start + (drop.at - night_start).total_seconds() / speed
            wait = due - monotonic()
            if wait > 0:
                sleep(wait)
        _drop(root, drop)
        report.written.append(drop)
        if on_drop is not None:
            on_drop(drop)
    return report


def replay_night(
    root: Path,
    data: Path,
    *,
    speed: float,
    seed: int,
    region: str | None = None,
    constituencies: Sequence[str] | None = None,
    note: Callable[[str], None] = lambda _: None,
    on_drop: Callable[[Drop], None] | None = None,
    monotonic: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> ReplayReport:
    """The whole ``countnight replay``: choose the seats, set up the folder, plan the night, drop the entries.

    The data files are read and checked before anything is written. Raises InputError (FILE:LINE)
    for bad data, config or baseline files, ValueError for a region or constituency that is not there.
    """
    rows = select_seats(data, region, constituencies)
    plan = plan_for(data, rows, seed)
    root.mkdir(parents=True, exist_ok=True)
    for line in prepare_folder(root, rows, region):
        note(line)
    drops = make_drops(plan, night_clock(root))
    return run_replay(root, drops, speed=speed, monotonic=monotonic, sleep=sleep, on_drop=on_drop)
