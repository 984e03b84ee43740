"""What templates see: entries with their computed figures, headlines and times, ready to show."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TypeVar
from zoneinfo import ZoneInfo

from .baseline import Baseline
from .clock import show_clock, show_time
from .elections import ResultFigures, Vote, compute_result
from .figures import Figure, MadePicture, figures_of
from .models import Entry, QuoteEntry, ResultEntry, TurnoutEntry

T = TypeVar("T")


@dataclass(frozen=True)
class TurnoutFigures:
    """A turnout entry's numbers: the percent (as written, or from ballots), and its change."""

    pct: float
    ballots: int | None
    electorate: int | None
    previous: float | None

    @property
    def change(self) -> float | None:
        return None if self.previous is None else self.pct - self.previous


@dataclass(frozen=True)
class EntryView:
    """One entry as the page shows it."""

    entry: Entry
    id: str  # the entry's id, kept here because pages ask for it tens of thousands of times a build
    headline: str
    time_iso: str
    time_shown: str  # "03:17 BST 5 July"
    updated_iso: str | None
    updated_shown: str | None  # "02:41"
    result: ResultFigures | None = None
    turnout: TurnoutFigures | None = None
    # sha256 of the text the entry was read from (its file, or the journal's copy of the version readers were
    # shown): its version tag hashes this, not the entry's JSON (~5 us an entry less). "" where not known.
    source: str = ""
    figures: tuple[Figure, ...] = ()  # its pictures, made (an entry is shown only once all of them are)

    @property
    def kind(self) -> str:
        return self.entry.kind

    @property
    def modified(self) -> datetime:
        return self.entry.updated or self.entry.time


def memo(view: EntryView, name: str, make: Callable[[], T]) -> T:
    """A value derived from a view, computed once per view.

    The build keeps a view for as long as its entry is unchanged, so whatever is derived from it (its
    version tag, its results.json record) is too: a rebuild for one new entry does not redo the rest.
    """
    store = view.__dict__  # a frozen dataclass still has a __dict__; writing to it is the cached_property way
    key = f"_memo {name}"
    if key not in store:
        store[key] = make()
    return store[key]  # type: ignore[no-any-return]


def result_figures(entry: ResultEntry, baseline: Baseline | None) -> ResultFigures:
    row = baseline.get(entry.constituency) if baseline else None
    return compute_result(
        [Vote(c.name, c.party, c.votes) for c in entry.candidates],
        electorate=entry.electorate,
        rejected=entry.rejected,
        winner=entry.winner,
        baseline=row,
    )


def turnout_figures(entry: TurnoutEntry, baseline: Baseline | None) -> TurnoutFigures:
    row = baseline.get(entry.constituency) if baseline else None
    electorate = entry.electorate_used(baseline)
    if entry.turnout is not None:
        pct = float(entry.turnout)
    else:  # validation guarantees ballots and an electorate here
        assert entry.ballots is not None and electorate
        pct = entry.ballots * 100 / electorate
    previous: float | None = float(entry.previous) if entry.previous is not None else None
    if previous is None and row is not None and row.turnout is not None:
        previous = row.turnout
    return TurnoutFigures(pct, entry.ballots, electorate, previous)


def _pct(value: float | Decimal) -> str:
    text = f"{float(value):.2f}".rstrip("0").rstrip(".")
    return f"{text}%"


def headline(entry: Entry, result: ResultFigures | None, turnout: TurnoutFigures | None) -> str:
    """The entry's title, or the one generated for its kind."""
    if entry.title:
        return entry.title
    if isinstance(entry, ResultEntry) and result is not None:
        return result.headline(entry.constituency)
    if isinstance(entry, TurnoutEntry) and turnout is not None:
        shown = _pct(entry.turnout) if entry.turnout is not None else f"{turnout.pct:.1f}%"
        text = f"Turnout {shown} in {entry.constituency}"
        if turnout.change is not None and turnout.previous is not None:
            direction = "down" if turnout.change < 0 else "up" if turnout.change > 0 else "unchanged"
            text += f", {direction} from {_pct(turnout.previous)}" if direction != "unchanged" else ", unchanged"
        return text
    if isinstance(entry, QuoteEntry):
        words = " ".join(entry.quote.split())
        if len(words) > 90:
            words = words[:87].rsplit(" ", 1)[0] + "…"
        return f"{entry.speaker}: “{words}”"
    return "Summary"


def make_view(
    entry: Entry, baseline: Baseline | None, zone: ZoneInfo, source: str = "", made: Sequence[MadePicture] = ()
) -> EntryView:
    """Compute everything an entry shows. Pure: the same entry and baseline give the same view.

    ``source``: the digest of the text ``entry`` was read from (see EntryView.source). ``made``: the files
    made of its pictures, in the order it names them (pictures.py)."""
    result = result_figures(entry, baseline) if isinstance(entry, ResultEntry) else None
    turnout = turnout_figures(entry, baseline) if isinstance(entry, TurnoutEntry) else None
    updated = entry.updated
    return EntryView(
        entry=entry,
        id=entry.id,
        headline=headline(entry, result, turnout),
        time_iso=entry.time.isoformat(),
        time_shown=show_time(entry.time, zone),
        updated_iso=updated.isoformat() if updated else None,
        updated_shown=show_clock(updated, zone) if updated else None,
        result=result,
        turnout=turnout,
        source=source,
        figures=figures_of(entry.image, made) if entry.image else (),
    )
