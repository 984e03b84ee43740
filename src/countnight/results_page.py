"""``results.html``: every declared result in one table, linking to each result's entry. Pure.

The table is in alphabetical order, readable as it stands; ``assets/sort.js`` makes each column
sortable. Numeric cells carry a ``data-sort`` value so the script never parses "12,546 (27.3%)".
"""

from __future__ import annotations

from dataclasses import dataclass

from .elections import ResultFigures
from .pages import INDEX, Night, paginate
from .render import Theme, render_template
from .views import EntryView

__all__ = ["ResultRow", "render_results_page", "result_rows"]


@dataclass(frozen=True)
class ResultRow:
    """One declared result as a row of the table."""

    constituency: str
    href: str  # the page and anchor of its result entry: "page/3.html#0317-cannock-chase-result"
    view: EntryView

    @property
    def figures(self) -> ResultFigures:
        assert self.view.result is not None  # only results become rows
        return self.view.result


def result_rows(night: Night) -> list[ResultRow]:
    """The night's results (newest per constituency), by constituency name."""
    where = paginate(night).where  # the stream page that holds each entry
    rows = [
        ResultRow(view.entry.constituency or "", f"{where.get(view.id, INDEX)}#{view.id}", view)
        for view in night.results
        if view.result is not None
    ]
    return sorted(rows, key=lambda row: row.constituency.casefold())


def render_results_page(theme: Theme, night: Night) -> bytes:
    """The whole ``results.html``."""
    html = render_template(
        theme,
        "results.html",
        event=night.event,
        ended=night.event.ended(night.now),
        scoreboard=night.scoreboard,
        rows=result_rows(night),
        root="",
    )
    return html.encode()
