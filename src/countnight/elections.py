"""Election arithmetic: shares, majority, turnout, gain/hold, share change, Butler swing, seat tally.

Pure functions over frozen values; nothing here reads files. Figures keep full precision; only the
JSON records (:meth:`ResultFigures.as_dict`, :meth:`Scoreboard.as_dict`) round to 2 decimals.

Share change, decided here once for every page:

* a party's share is the sum over its candidates (several Independents in one seat add up);
* a party with no share in the baseline row did not stand there, so its previous share is 0 and its
  change is its whole share (Reform UK where the Brexit Party did not stand: +26.9);
* a party that stood before but not now has a change of minus its previous share;
* ``Ind`` has no share change (None): independents are unrelated people, so the sum of tonight's
  independents against the sum of last time's says nothing about anyone. Swing still needs a number,
  so there Ind's previous share is the baseline's ``Ind`` share (0 when none stood);
* the Speaker stands as ``Spk`` and is compared with the previous ``Spk`` share like any party.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from countnight.baseline import Baseline, BaselineRow
from countnight.parties import MAIN_PARTIES, party, party_object, party_subject

__all__ = [
    "CandidateFigures",
    "ResultFigures",
    "Scoreboard",
    "Swing",
    "Vote",
    "compute_result",
    "results_document",
    "tally",
]

# Parties whose share change is not meaningful (see the module docstring).
NO_SHARE_CHANGE: frozenset[str] = frozenset({"Ind"})


@dataclass(frozen=True)
class Vote:
    """One candidate's votes as declared; ``party`` is already a code (see ``parties.party_code``)."""

    name: str
    party: str
    votes: int


@dataclass(frozen=True)
class CandidateFigures:
    """A candidate with share (% of valid votes) and their party's share change in points."""

    name: str
    party: str
    votes: int
    share: float
    share_change: float | None

    def as_dict(self) -> dict[str, Any]:
        """The ``results.json`` candidate record: ``{name, party, votes, share}``."""
        return {"name": self.name, "party": self.party, "votes": self.votes, "share": _round(self.share)}


@dataclass(frozen=True)
class Swing:
    """Butler swing from ``from_party`` to ``to_party`` in points; negative when it went the other way."""

    from_party: str
    to_party: str
    points: float

    def as_dict(self) -> dict[str, Any]:
        """The ``results.json`` swing record: ``{from, to, points}``."""
        return {"from": self.from_party, "to": self.to_party, "points": _round(self.points)}


@dataclass(frozen=True)
class ResultFigures:
    """Everything computed from one declared result (and its baseline row, when there is one)."""

    candidates: tuple[CandidateFigures, ...]
    winner: CandidateFigures
    runner_up: CandidateFigures | None
    valid_votes: int
    rejected: int | None
    majority: int
    majority_pct: float
    ballots: int
    electorate: int | None
    turnout_pct: float | None
    previous_turnout: float | None
    turnout_change: float | None
    previous_winner: str | None
    gain: bool | None
    swing: Swing | None
    share_change: Mapping[str, float | None] = field(default_factory=dict)
    previous_shares: Mapping[str, float] = field(default_factory=dict)

    def __reduce__(self) -> tuple[Any, ...]:
        # Cold builds compute figures in worker processes; a mappingproxy does not pickle, its dict does.
        values = dict(self.__dict__)  # its fields (dataclasses.fields and a getattr each: 3x the time)
        values["share_change"] = dict(self.share_change)
        values["previous_shares"] = dict(self.previous_shares)
        return (_unpickle_figures, (values,))

    @property
    def verdict(self) -> str:
        """ "Lab gain from Con", "Con hold", or "Lab win" for a seat outside the baseline."""
        code = self.winner.party
        if self.gain is None:
            return f"{code} win"
        return f"{code} gain from {self.previous_winner}" if self.gain else f"{code} hold"

    def headline(self, constituency: str) -> str:
        """A headline: "Labour gain Cannock Chase from the Conservatives", "Conservatives hold Stafford"."""
        code = self.winner.party
        known = party(code)
        singular = known.singular if known else False

        def verb(plain: str) -> str:
            return f"{plain}s" if singular else plain

        subject = party_subject(code)
        if self.gain is None:
            return f"{subject} {verb('win')} {constituency}"
        if self.gain:
            return f"{subject} {verb('gain')} {constituency} from {party_object(self.previous_winner or '')}"
        return f"{subject} {verb('hold')} {constituency}"

    def as_dict(self, constituency: str, entry_id: str) -> dict[str, Any]:
        """The ``results.json`` record, exactly SPEC's shape; percentages rounded to 2 decimals."""
        return {
            "constituency": constituency,
            "id": entry_id,
            "winner": {"name": self.winner.name, "party": self.winner.party, "votes": self.winner.votes},
            "candidates": [c.as_dict() for c in self.candidates],
            "majority": self.majority,
            "majority_pct": _round(self.majority_pct),
            "turnout_pct": None if self.turnout_pct is None else _round(self.turnout_pct),
            "previous_winner": self.previous_winner,
            "gain": self.gain,
            "swing": None if self.swing is None else self.swing.as_dict(),
        }


def _round(value: float) -> float:
    # Adding 0.0 turns -0.0 into 0.0, so JSON never shows "-0.0".
    return round(value, 2) + 0.0


def _fold_person(name: str) -> str:
    return " ".join(name.casefold().split())


def _order(candidates: Sequence[Vote], winner: str | None) -> list[Vote]:
    """Candidates by votes, the winner first (``winner`` breaks a tie); ValueError if it is unclear."""
    top_votes = max(c.votes for c in candidates)
    top = sorted((c for c in candidates if c.votes == top_votes), key=lambda c: c.name)
    chosen: Vote | None = None
    if winner is not None:
        matches = [c for c in candidates if _fold_person(c.name) == _fold_person(winner)]
        if not matches:
            raise ValueError(f"winner {winner!r} is not one of the candidates")
        # Namesakes: the one tied at the top is meant; two namesakes tied there cannot be told apart.
        at_top = [c for c in matches if c.votes == top_votes]
        if len(at_top) > 1:
            raise ValueError(f"two candidates named {winner!r} are tied at the top: the name cannot decide")
        chosen = at_top[0] if at_top else matches[0]
        if len(top) == 1:
            raise ValueError(
                f"`winner: {winner}` is only for breaking a tie, and there is none: "
                f"{top[0].name} has the most votes ({top[0].votes:,})"
            )
        if chosen.votes != top_votes:
            tied = _names(c.name for c in top)
            raise ValueError(
                f"winner {chosen.name!r} has {chosen.votes:,} votes, not the top {top_votes:,}: "
                f"the tie is between {tied}"
            )
    elif len(top) > 1:
        tied = _names(c.name for c in top)
        raise ValueError(
            f"tie between {tied} on {top_votes:,} votes: add `winner:` with the name of the candidate "
            "the returning officer declared (drawn by lot)"
        )
    else:
        chosen = top[0]
    return sorted(candidates, key=lambda c: (-c.votes, c is not chosen, c.name))


def _names(names: Iterable[str]) -> str:
    listed = list(names)
    return listed[0] if len(listed) == 1 else ", ".join(listed[:-1]) + " and " + listed[-1]


def compute_result(
    candidates: Sequence[Vote],
    *,
    electorate: int | None,
    rejected: int | None,
    winner: str | None,
    baseline: BaselineRow | None,
) -> ResultFigures:
    """Compute a declared result's figures.

    ``electorate`` falls back to the baseline row's; ``winner`` (a candidate's name) is only for a tie
    on the top votes. Raises ValueError, with a message fit for a reporter, for a tie without
    ``winner``, a ``winner`` that is not tied at the top, no votes at all, negative numbers, or more
    ballots than electors.

    >>> r = compute_result([Vote("A", "Lab", 600), Vote("B", "Con", 400)], electorate=2000,
    ...                    rejected=None, winner=None, baseline=None)
    >>> r.verdict, r.majority, r.majority_pct, r.turnout_pct
    ('Lab win', 200, 20.0, 50.0)
    """
    if not candidates:
        raise ValueError("a result needs at least one candidate")
    # Two candidates may share a name (Greg Smith, Con and Green, Mid Buckinghamshire 2024): not an error.
    for c in candidates:
        if c.votes < 0:
            raise ValueError(f"{c.name} has a negative number of votes ({c.votes})")
    if rejected is not None and rejected < 0:
        raise ValueError(f"rejected ballots cannot be negative ({rejected})")
    valid = sum(c.votes for c in candidates)
    if valid == 0:
        raise ValueError("no candidate has any votes")

    ordered = _order(candidates, winner)
    party_votes: Counter[str] = Counter()
    for c in ordered:
        party_votes[c.party] += c.votes
    now = {code: 100 * votes / valid for code, votes in party_votes.items()}
    before: Mapping[str, float] = baseline.shares if baseline else {}

    share_change: dict[str, float | None] = {}
    if baseline is not None:
        for code in [*now, *(c for c in before if c not in now)]:
            change = now.get(code, 0.0) - before.get(code, 0.0)
            share_change[code] = None if code in NO_SHARE_CHANGE else change

    per_party = Counter(c.party for c in ordered)
    figures = tuple(
        CandidateFigures(
            c.name,
            c.party,
            c.votes,
            100 * c.votes / valid,
            # With two candidates of one party, the party's change is not either one's.
            share_change.get(c.party) if per_party[c.party] == 1 else None,
        )
        for c in ordered
    )
    first = figures[0]  # the ordering put the tie-break winner first among equals
    second = figures[1] if len(figures) > 1 else None
    majority = first.votes - (second.votes if second else 0)

    ballots = valid + (rejected or 0)
    if electorate is not None and electorate <= 0:
        raise ValueError(f"the electorate must be positive, not {electorate}")
    register = electorate if electorate is not None else (baseline.electorate if baseline else None)
    turnout: float | None = None
    if register is not None:
        if ballots > register:
            raise ValueError(f"{ballots:,} ballots counted but the electorate is only {register:,}")
        turnout = 100 * ballots / register
    previous_turnout = baseline.turnout if baseline else None
    turnout_change = turnout - previous_turnout if turnout is not None and previous_turnout is not None else None

    previous_winner = baseline.winner if baseline else None
    gain = None if baseline is None else first.party != previous_winner
    swing: Swing | None = None
    if baseline is not None:
        other = previous_winner if gain else (second.party if second else None)
        if other is not None and other != first.party:
            b, a = first.party, other
            points = ((now.get(b, 0.0) - before.get(b, 0.0)) - (now.get(a, 0.0) - before.get(a, 0.0))) / 2
            swing = Swing(a, b, points)

    return ResultFigures(
        candidates=figures,
        winner=first,
        runner_up=second,
        valid_votes=valid,
        rejected=rejected,
        majority=majority,
        majority_pct=100 * majority / valid,
        ballots=ballots,
        electorate=register,
        turnout_pct=turnout,
        previous_turnout=previous_turnout,
        turnout_change=turnout_change,
        previous_winner=previous_winner,
        gain=gain,
        swing=swing,
        share_change=MappingProxyType(share_change),
        previous_shares=MappingProxyType(dict(before)),
    )


def _unpickle_figures(values: dict[str, Any]) -> ResultFigures:
    values["share_change"] = MappingProxyType(values["share_change"])
    values["previous_shares"] = MappingProxyType(values["previous_shares"])
    figures = object.__new__(ResultFigures)
    figures.__dict__.update(values)  # what __init__ sets, without its object.__setattr__ per field (frozen)
    return figures


@dataclass(frozen=True)
class Scoreboard:
    """Seats, gains and losses by party code (most first), and how many seats have declared."""

    seats: Mapping[str, int]
    gains: Mapping[str, int]
    losses: Mapping[str, int]
    declared: int
    total: int | None

    def as_dict(self) -> dict[str, Any]:
        """The scoreboard keys of ``results.json``: ``seats, gains, losses, declared, total``."""
        return {
            "seats": dict(self.seats),
            "gains": dict(self.gains),
            "losses": dict(self.losses),
            "declared": self.declared,
            "total": self.total,
        }


def _by_count(counts: Counter[str]) -> Mapping[str, int]:
    """Most first; among equals the main parties in their usual order, then the rest by code."""
    rank = {code: i for i, code in enumerate(MAIN_PARTIES)}
    # (the code itself last: the order never depends on which party was counted first)
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], rank.get(kv[0], math.inf), kv[0].casefold(), kv[0]))
    return MappingProxyType(dict(ordered))


def tally(results: Iterable[tuple[str, ResultFigures]], baseline: Baseline | None) -> Scoreboard:
    """Seats, gains and losses over ``(constituency, figures)`` pairs, one (the newest) per constituency.

    ``total`` is the baseline's constituencies plus any declared seat outside it (a reporter may cover a
    seat the baseline does not list), so ``declared`` never exceeds it; None without a baseline.
    """
    kept = SeatTally(baseline)
    for constituency, figures in results:
        kept.add(constituency, figures)
    return kept.board()


class SeatTally:
    """``tally`` kept as the results that count come and go: a seat's new result added, the one it replaces taken
    away (a watcher's build for one result counted every seat again: ~5 ms at 2,500 seats)."""

    def __init__(self, baseline: Baseline | None) -> None:
        self.baseline = baseline
        self._seats: Counter[str] = Counter()
        self._gains: Counter[str] = Counter()
        self._losses: Counter[str] = Counter()
        self._declared = self._outside = 0

    def add(self, constituency: str, figures: ResultFigures, by: int = 1) -> None:
        self._declared += by
        _bump(self._seats, figures.winner.party, by)
        if figures.gain and figures.previous_winner is not None:
            _bump(self._gains, figures.winner.party, by)
            _bump(self._losses, figures.previous_winner, by)
        if self.baseline is not None and constituency not in self.baseline:
            self._outside += by

    def remove(self, constituency: str, figures: ResultFigures) -> None:
        """Take away a result ``add`` counted."""
        self.add(constituency, figures, -1)

    def board(self) -> Scoreboard:
        total = None if self.baseline is None else len(self.baseline) + self._outside
        seats, gains, losses = (_by_count(c) for c in (self._seats, self._gains, self._losses))
        return Scoreboard(seats, gains, losses, self._declared, total)


def _bump(counts: Counter[str], key: str, by: int) -> None:
    counts[key] += by
    if not counts[key]:  # a party with no seats left is not on the board
        del counts[key]


def results_document(results: Sequence[tuple[str, str, ResultFigures]], scoreboard: Scoreboard) -> dict[str, Any]:
    """The whole ``results.json``: ``{"results": [record, …], seats, gains, losses, declared, total}``.

    ``results`` holds ``(constituency, entry id, figures)`` in the order the page lists them.
    """
    return {"results": [f.as_dict(name, entry_id) for name, entry_id, f in results], **scoreboard.as_dict()}
