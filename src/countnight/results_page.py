"""``results.html``: every declared result in one table, linking to each result's entry. Pure.

The table is in alphabetical order, readable as it stands; ``assets/sort.js`` makes each column
sortable. Numeric cells carry a ``data-sort`` value so the script never parses "12,546 (27.3%)".
Each row is rendered by ``partials/result_row.html`` and kept until its result or its page changes,
so a new declaration renders one row, not every row of the night.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from markupsafe import Markup

from .elections import ResultFigures
from .pages import INDEX, Fragments, Night, _fragment
from .render import Theme, render_template
from .views import EntryView

__all__ = ["ResultRow", "render_results_page", "result_rows"]


@dataclass(frozen=True)
class ResultRow:
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
    theme: Theme, night: Night, where: Mapping[str, str], store: Fragments | None = None, setting: str = ""
) -> list[ResultRow]:
    """The night's results (newest per constituency), by constituency name, each row rendered."""
    rows = []
    for view in night.results:
        if view.result is None:
            continue
        name, href = view.entry.constituency or "", f"{where.get(view.id, INDEX)}#{view.id}"
        html = _fragment(
            store,
            f"result:{view.id}",
            (setting, view, href),
            lambda name=name, href=href, view=view: render_template(
                theme, "partials/result_row.html", row=ResultRow(name, href, view), root=""
            ),
        )
        rows.append(ResultRow(name, href, view, html))
    return sorted(rows, key=lambda row: row.constituency.casefold())


def render_results_page(
    theme: Theme, night: Night, where: Mapping[str, str], store: Fragments | None = None, setting: str = ""
) -> bytes:
    """The whole ``results.html``."""
    rows = result_rows(theme, night, where, store, setting)
    html = render_template(
        theme,
        "results.html",
        event=night.event,
        ended=night.event.ended(night.now),
        scoreboard=night.scoreboard,
        rows=rows,
        rows_html=Markup("".join(row.html for row in rows)),
        root="",
    )
    return html.encode()
