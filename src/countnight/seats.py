"""A seat declared twice: which result counts, and the notice that tells the desk to correct the first instead.

SPEC: only the newest published result of a constituency counts, once. A second result file is how a reporter
who did not know about ``countnight correct`` fixes a figure, and readers then see two cards with different
figures; so it is published (the newer counts, as SPEC says) and the desk is told, naming both files and how to
make it one. Pure functions of the entries; the build asks again only when a result came, went or changed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import chain

from .baseline import fold_name
from .errors import Problem
from .models import Entry, ResultEntry

ENTRIES = "entries"


def seat_key(constituency: str) -> str:
    """One key per seat however it is written: case, ``&``/``and``, accents and spacing folded (as the baseline
    matches names), so that "Crewe & Nantwich" and "crewe and nantwich" are one seat without a baseline too."""
    return fold_name(constituency)


def second_results(entries: Iterable[Entry], line_of: Callable[[Entry], int]) -> list[Problem]:
    """A notice on every published result that is not its seat's first, naming the first and how to correct it.

    ``line_of``: the line of an entry's ``constituency`` in its file (0 when unknown).
    """
    seats: dict[str, list[ResultEntry]] = {}
    for entry in entries:
        if isinstance(entry, ResultEntry) and entry.status == "published":
            seats.setdefault(seat_key(entry.constituency), []).append(entry)
    notices: list[Problem] = []
    for results in seats.values():
        if len(results) < 2:
            continue
        results.sort(key=lambda e: (e.time.timestamp(), e.id))  # oldest first, as the stream orders them
        first, counted = results[0], results[-1]
        for later in results[1:]:
            which = "this one, the newest," if later is counted else f"the newest ({ENTRIES}/{counted.id}.md)"
            notices.append(
                Problem(
                    f"{ENTRIES}/{later.id}.md",
                    line_of(later),
                    f"constituency: a second result for {later.constituency}: {ENTRIES}/{first.id}.md has one too. "
                    f"Readers see both; {which} counts. To correct a result, edit the first "
                    f'(countnight correct {first.id} --note "…") and delete this file; after a recount, '
                    f"withdraw the first (countnight withdraw {first.id})",
                )
            )
    return sorted(notices)


class SeatNotices:
    """``second_results`` kept seat by seat between builds: a result that came, went or changed has only its
    seat's notices worked out again. (All of them, each reading its file again for the line it names, took
    10-25 ms of every watcher's build that a result changed at 10,000 entries.)"""

    def __init__(self) -> None:
        self._results: dict[str, dict[str, ResultEntry]] = {}  # seat → id → its result, as the stream considers it
        self._seat_of: dict[str, str] = {}  # id → the seat its result is in
        self._notices: dict[str, list[Problem]] = {}  # seat → its notices (seats with none are left out)
        self._stale: set[str] = set()  # seats whose results changed since their notices were worked out
        self._said: list[str] | None = []

    def clear(self) -> None:
        """Forget every result (each is told again as it is read anew)."""
        for kept in (self._results, self._seat_of, self._notices):
            kept.clear()
        self._stale.clear()
        self._said = []

    def change(self, ident: str, entry: Entry | None) -> None:
        """The entry the stream considers for ``ident`` is now ``entry`` (None: none; a result or not)."""
        seat = self._seat_of.pop(ident, None)
        if seat is not None:
            group = self._results[seat]
            del group[ident]
            if not group:
                del self._results[seat]
            self._stale.add(seat)
        if isinstance(entry, ResultEntry):
            seat = self._seat_of[ident] = seat_key(entry.constituency)
            self._results.setdefault(seat, {})[ident] = entry
            self._stale.add(seat)
        if self._stale:
            self._said = None

    def said(self, line_of: Callable[[Entry], int]) -> list[str]:
        """Every notice, as ``second_results`` over every result gives them (``line_of``: see there)."""
        if self._said is None:
            for seat in self._stale:
                group = self._results.get(seat)
                found = second_results(group.values(), line_of) if group and len(group) > 1 else []  # (one: none)
                if found:
                    self._notices[seat] = found
                else:
                    self._notices.pop(seat, None)
            self._stale.clear()
            self._said = [str(n) for n in sorted(chain.from_iterable(self._notices.values()))]
        return self._said
