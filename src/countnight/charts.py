"""The results page's charts, as SVG made at build time: seats won against the majority line (326 of 650), and
the vote share in the declared seats with its change since the 2019 notional results. Pure.

Both are drawn 360 units wide with 13-unit text, so at a phone's 375 px they show at about their own size;
each is an image whose accessible name says every figure it shows, for screen readers.

The change in share compares like with like: tonight's share in the declared seats that the baseline covers
against the 2019 notional share in those same seats. baseline.csv gives each seat's 2019 shares and turnout
but not its vote count, so a seat's 2019 votes are taken as its 2019 turnout times the register (the
baseline's electorate, this election's), which weights the seats as 2019 did to within the change in their
registers; over all 650 seats it gives the national change to a few tenths of a point.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from markupsafe import escape

from .elections import NO_SHARE_CHANGE, ResultFigures, Scoreboard
from .parties import MAIN_PARTIES, NEUTRAL_COLOUR, party_colour, party_name, party_short
from .views import EntryView, memo
from .xmltext import xml_chars

__all__ = [
    "HOUSE",
    "MAJORITY",
    "ShareRow",
    "ShareTotals",
    "charts",
    "seats_chart",
    "share_chart",
    "share_rows",
    "share_totals",
    "vote_shares",
]

HOUSE = 650  # seats in the House of Commons
MAJORITY = HOUSE // 2 + 1  # 326
OTHERS = "Others"
_STORE = "charts"  # in the fragment store: (id → the result's view, the totals) as last added up
_WIDTH = 360
_LABEL = 96  # the party names' column
_BAR_X = 100
_ROW = 24
_BAR = 14


@dataclass(frozen=True)
class ShareRow:
    """A party's share of the vote in the declared seats (percent) and its change in points (None: not known)."""

    party: str  # a party code, or "Others"
    share: float
    change: float | None


def _signed(points: float) -> str:
    text = f"{abs(points):.1f}"
    return f"±{text}" if text == "0.0" else f"+{text}" if points > 0 else f"−{text}"


def _svg(title: str, description: str, height: int, body: str) -> str:
    # Named by aria-label, not <title>/<desc>: a <title> outside the head is what the XSS scan looks for.
    label = escape(xml_chars(f"{title}: {description}"))
    return f'<svg class="chart" viewBox="0 0 {_WIDTH} {height}" role="img" aria-label="{label}">{body}</svg>'


def seats_chart(scoreboard: Scoreboard) -> str:
    """A bar per party with seats, on a scale of the whole House, and the line a majority must cross."""
    if not scoreboard.seats:
        return ""
    span = _WIDTH - _BAR_X - 40  # room after the longest bar for its number
    top = 22
    line = _BAR_X + span * MAJORITY / HOUSE
    rows = []
    for i, (code, seats) in enumerate(scoreboard.seats.items()):
        y = top + i * _ROW
        width = span * min(seats, HOUSE) / HOUSE
        rows.append(
            f'<text class="chart__label" x="{_LABEL}" y="{y + 11}">{escape(xml_chars(party_short(code)))}</text>'
            f'<rect x="{_BAR_X}" y="{y}" width="{width:.1f}" height="{_BAR}" fill="{party_colour(code)}"/>'
            f'<text class="chart__value" x="{_BAR_X + width + 4:.1f}" y="{y + 11}">{seats}</text>'
        )
    bottom = top + len(scoreboard.seats) * _ROW - 6
    rule = (
        f'<line class="chart__majority" x1="{line:.1f}" y1="14" x2="{line:.1f}" y2="{bottom}"/>'
        f'<text class="chart__note chart__mid" x="{line:.1f}" y="11">{MAJORITY} for a majority</text>'
    )
    figures = ", ".join(f"{party_name(code)} {seats}" for code, seats in scoreboard.seats.items())
    declared = f"{scoreboard.declared} declared" + (f" of {scoreboard.total}" if scoreboard.total else "")
    description = f"{figures} ({declared}). {MAJORITY} of the {HOUSE} seats are a majority."
    return _svg("Seats won", description, bottom + 6, rule + "".join(rows))


@dataclass(frozen=True)
class _Seat:
    """What one declared seat adds to the vote-share totals: whole votes, so totals are exact in any order."""

    valid: int
    votes: Mapping[str, int]
    compared: bool  # in the baseline: counts towards the change
    then_total: int  # its 2019 votes, estimated (see the module's docstring)
    then: Mapping[str, int]


def _seat(figures: ResultFigures) -> _Seat:
    votes: Counter[str] = Counter()
    for candidate in figures.candidates:
        votes[candidate.party] += candidate.votes
    if figures.previous_winner is None:  # outside the baseline
        return _Seat(figures.valid_votes, votes, False, 0, {})
    weight = float(figures.valid_votes)
    if figures.previous_turnout is not None and figures.electorate is not None:
        weight = figures.previous_turnout * figures.electorate / 100
    then = {code: round(share * weight / 100) for code, share in figures.previous_shares.items()}
    return _Seat(figures.valid_votes, votes, True, sum(then.values()), then)


@dataclass
class ShareTotals:
    """Votes by party in the declared seats, and in those the baseline covers, tonight and (estimated) in 2019."""

    valid: int = 0
    votes: Counter[str] = field(default_factory=Counter)
    now_valid: int = 0
    now: Counter[str] = field(default_factory=Counter)
    then_total: int = 0
    then: Counter[str] = field(default_factory=Counter)

    def add(self, seat: _Seat, sign: int = 1) -> None:
        self.valid += sign * seat.valid
        for code, n in seat.votes.items():
            self.votes[code] += sign * n
        if seat.compared:
            self.now_valid += sign * seat.valid
            self.then_total += sign * seat.then_total
            for code, n in seat.votes.items():
                self.now[code] += sign * n
            for code, n in seat.then.items():
                self.then[code] += sign * n


def share_totals(views: Iterable[EntryView], store: dict[str, object] | None = None) -> ShareTotals:
    """The totals of the declared results ``views``. With the last call's in ``store``, only the results that came,
    went or changed since are added or taken away: a new declaration does not add up the night again."""
    current = {view.id: view for view in views if view.result is not None}
    kept = store.get(_STORE) if store is not None else None
    if isinstance(kept, tuple) and len(current) > 1:
        before, totals = kept
        gone = [view for ident, view in before.items() if current.get(ident) is not view]
        new = [view for ident, view in current.items() if before.get(ident) is not view]
        if len(gone) + len(new) < len(current):
            for view in gone:
                totals.add(memo(view, "share seat", lambda view=view: _seat(view.result)), -1)
            for view in new:
                totals.add(memo(view, "share seat", lambda view=view: _seat(view.result)))
            store[_STORE] = (current, totals)  # type: ignore[index]
            return totals
    totals = ShareTotals()
    for view in current.values():
        totals.add(memo(view, "share seat", lambda view=view: _seat(view.result)))
    if store is not None:
        store[_STORE] = (current, totals)
    return totals


def vote_shares(results: Iterable[ResultFigures], *, most: int = 8, floor: float = 1.0) -> list[ShareRow]:
    """Each party's share of the vote in the declared seats ``results``, largest first, with its change since 2019
    (see :func:`share_rows`)."""
    totals = ShareTotals()
    for figures in results:
        totals.add(_seat(figures))
    return share_rows(totals, most=most, floor=floor)


def share_rows(totals: ShareTotals, *, most: int = 8, floor: float = 1.0) -> list[ShareRow]:
    """The parties' shares from ``totals``, largest first, with their change since 2019.

    Parties under ``floor`` percent, and any beyond the ``most`` largest, are summed as "Others" (its change is
    100 less the shown parties' shares, now against then). Changes are over the declared seats in the baseline
    (see the module's docstring); None for all without any, and for independents, who are not one party.
    """
    valid, votes, now, then = totals.valid, totals.votes, totals.now, totals.then
    if valid <= 0:
        return []
    compared = totals.now_valid > 0 and totals.then_total > 0
    rank = {code: i for i, code in enumerate(MAIN_PARTIES)}
    standing = sorted(
        ((code, n) for code, n in votes.items() if n > 0), key=lambda kv: (-kv[1], rank.get(kv[0], len(rank)), kv[0])
    )
    shown = [code for code, n in standing if 100 * n / valid >= floor][:most]

    def change(codes: Iterable[str], *, rest: bool = False) -> float | None:
        if not compared:
            return None
        share_now = sum(100 * now[c] / totals.now_valid for c in codes)
        share_then = sum(100 * then[c] / totals.then_total for c in codes)
        return share_then - share_now if rest else share_now - share_then

    rows = [
        ShareRow(code, 100 * votes[code] / valid, None if code in NO_SHARE_CHANGE else change([code])) for code in shown
    ]
    others = 100 - sum(row.share for row in rows)
    if len(shown) < len(standing) and others > 0.05:
        rows.append(ShareRow(OTHERS, others, change(shown, rest=True)))
    return rows


def share_chart(rows: list[ShareRow], declared: int) -> str:
    """A bar per party of its share of the vote, with its change in points since 2019 at the end of the row."""
    if not rows:
        return ""
    top = 22
    span = 170
    scale = max(10.0, -(-max(row.share for row in rows) // 10) * 10)  # the largest share, up to a multiple of 10
    body = [
        f'<text class="chart__note" x="{_BAR_X}" y="11">Share of the vote</text>'
        f'<text class="chart__note chart__end" x="{_WIDTH - 2}" y="11">Change</text>'
    ]
    for i, row in enumerate(rows):
        y = top + i * _ROW
        width = span * row.share / scale
        name = "Others" if row.party == OTHERS else party_short(row.party)
        fill = NEUTRAL_COLOUR if row.party == OTHERS else party_colour(row.party)
        shift = (
            ""
            if row.change is None
            else f'<text class="chart__value chart__end" x="{_WIDTH - 2}" y="{y + 11}">{_signed(row.change)}</text>'
        )
        body.append(
            f'<text class="chart__label" x="{_LABEL}" y="{y + 11}">{escape(xml_chars(name))}</text>'
            f'<rect x="{_BAR_X}" y="{y}" width="{width:.1f}" height="{_BAR}" fill="{fill}"/>'
            f'<text class="chart__value" x="{_BAR_X + width + 4:.1f}" y="{y + 11}">{row.share:.1f}%</text>'
            f"{shift}"
        )

    def said(row: ShareRow) -> str:
        name = "others" if row.party == OTHERS else party_name(row.party)
        moved = "" if row.change is None else f" ({_signed(row.change)} points)"
        return f"{name} {row.share:.1f}%{moved}"

    seats = f"{declared} declared seat" + ("" if declared == 1 else "s")
    description = f"In the {seats}: " + ", ".join(map(said, rows)) + ". Changes are since the 2019 notional results."
    return _svg("Vote share", description, top + len(rows) * _ROW, "".join(body))


def charts(
    scoreboard: Scoreboard, results: Iterable[EntryView], store: dict[str, object] | None = None
) -> dict[str, str]:
    """Both charts for the results page: ``{"seats": svg, "shares": svg}`` ("" when nothing is declared).

    ``store``: where the vote-share totals are kept between builds (see :func:`share_totals`)."""
    rows = share_rows(share_totals(results, store))
    return {"seats": seats_chart(scoreboard), "shares": share_chart(rows, scoreboard.declared)}
