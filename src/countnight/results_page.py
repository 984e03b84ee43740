"""``results.html``: the results map, the seats and vote-share charts, and every declared result in one table,
linking to each result's entry. Pure.

The table is in alphabetical order, readable as it stands; ``assets/sort.js`` makes each column
sortable. Numeric cells carry a ``data-sort`` value so the script never parses "12,546 (27.3%)".
Each row is rendered by ``partials/result_row.html`` and kept until its result or its page changes,
so a new declaration renders one row, not every row of the night.
"""

from __future__ import annotations

import bisect
from collections.abc import Collection, Mapping
from typing import NamedTuple

from markupsafe import Markup

from .charts import charts
from .elections import ResultFigures
from .feeds import page_url
from .hexmap import render_map
from .night import INDEX, Night
from .pagecache import Fragments
from .render import Theme, render_template
from .sharecards import Card
from .views import EntryView

__all__ = ["ResultRow", "render_results_page", "result_rows"]
_STATE = "results"  # in the fragment store: (setting, id → row, the rows by name) as last made


class ResultRow(NamedTuple):
    """One declared result as a row of the table."""

    constituency: str
    href: str  # the page and anchor of its result entry: "page/3.html#0317-cannock-chase-result"
    view: EntryView
    html: str = ""  # the row as partials/result_row.html renders it (Markup)

    @property
    def figures(self) -> ResultFigures:
        assert self.view.result is not None  # only results become rows
        return self.view.result


def result_rows(
    theme: Theme,
    night: Night,
    where: Mapping[str, str],
    store: Fragments | None = None,
    setting: str = "",
    moved: Collection[str] | None = None,
) -> list[ResultRow]:
    """The night's results (newest per constituency), by constituency name, each row rendered.

    With the previous rows in ``store`` and ``moved`` (the ids whose page may have changed), only the rows
    of new, changed or moved results are rendered and put in place; the rest are kept as they were.
    """
    current = {view.id: view for view in night.results if view.result is not None}
    state = store.get(_STATE) if store is not None else None
    if state is None or moved is None or state[0] != setting:
        rows = sorted((_row(theme, view, where) for view in current.values()), key=_by_name)
    else:
        before: dict[str, ResultRow] = state[1]
        stale = {ident for ident, row in before.items() if current.get(ident) is not row.view}
        stale |= before.keys() & set(moved)
        rows = [row for row in state[2] if row.view.id not in stale] if stale else list(state[2])
        for ident, view in current.items():
            if ident in stale or ident not in before:
                bisect.insort(rows, _row(theme, view, where), key=_by_name)
    if store is not None:
        store[_STATE] = (setting, {row.view.id: row for row in rows}, rows)
    return rows


def _row(theme: Theme, view: EntryView, where: Mapping[str, str]) -> ResultRow:
    plain = ResultRow(view.entry.constituency or "", f"{where.get(view.id, INDEX)}#{view.id}", view)
    return plain._replace(html=Markup(render_template(theme, "partials/result_row.html", row=plain, root="")))


def _by_name(row: ResultRow) -> str:
    return row.constituency.casefold()


def render_results_page(
    theme: Theme, night: Night, rows: list[ResultRow], store: Fragments | None = None, card: Card | None = None
) -> bytes:
    """The whole ``results.html``, from the rows of :func:`result_rows`; ``store`` keeps the map and the charts'
    totals as made, for the next to be made from."""
    hexmap = render_map(night.results, labelled_by="map-h", store=store)
    html = render_template(
        theme,
        "results.html",
        event=night.event,
        ended=night.ended,
        scoreboard=night.scoreboard,
        rows=rows,
        rows_html=Markup("".join(row.html for row in rows)),
        hexmap_html=Markup(hexmap.html) if hexmap is not None else None,
        charts={name: Markup(svg) for name, svg in charts(night.scoreboard, night.results, store).items()},
        canonical=page_url(night.event, "results.html", "results.html"),
        og_image=page_url(night.event, "results.html", card.path) if card is not None else None,
        og_image_alt=card.alt if card is not None else None,
        root="",
    )
    return html.encode()
