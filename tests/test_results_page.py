"""results.html: every declared result in a table that sorts with a little JavaScript and reads without it."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from conftest import AFTER_THE_NIGHT, BASELINE, CONFIG, BlogMaker
from countnight.site import Site


def result(time: str, constituency: str, *votes: tuple[str, str, int]) -> str:
    lines = "".join(f"  - {{name: {name}, party: {party}, votes: {n}}}\n" for name, party, n in votes)
    return f'---\nkind: result\ntime: "{time}"\nconstituency: {constituency}\ncandidates:\n{lines}---\n'


def update(time: str, title: str) -> str:
    return f'---\ntime: "{time}"\ntitle: {title}\n---\nText.\n'


ENTRIES = {
    "baseline.csv": BASELINE,
    "entries/0216-cannock-chase-result.md": result(
        "02:16", "Cannock Chase", ("Josh Newbury", "Lab", 15671), ("Amanda Milling", "Con", 12546)
    ),
    "entries/0340-stafford-result.md": result(
        "03:40", "Stafford", ("Leigh Ingham", "Lab", 17180), ("Theo Clarke", "Con", 16584), ("Ann Other", "Green", 1)
    ),
    **{f"entries/04{n}0-update.md": update(f"04:{n}0", f"Update {n}") for n in range(5)},
}
PAGED = CONFIG + 'baseline = "baseline.csv"\npage_size = 2\n'


class Table(HTMLParser):
    """The results table as lists: header cells with their attributes, and each row's cell texts and links."""

    def __init__(self) -> None:
        super().__init__()
        self.headings: list[dict[str, str | None]] = []
        self.rows: list[list[str]] = []
        self.links: list[str] = []
        self.scripts: list[dict[str, str | None]] = []
        self._part = ""
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("thead", "tbody"):
            self._part = tag
        elif tag == "script":
            self.scripts.append(dict(attrs))
        elif tag == "th" and self._part == "thead":
            self.headings.append(dict(attrs))
        elif tag == "tr" and self._part == "tbody":
            self.rows.append([])
        elif tag in ("th", "td") and self._part == "tbody":
            self._cell = []
        elif tag == "a" and self._part == "tbody":
            self.links.append(dict(attrs)["href"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("th", "td") and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag in ("thead", "tbody"):
            self._part = ""

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def read_table(site: Path) -> Table:
    table = Table()
    table.feed((site / "results.html").read_text())
    return table


@pytest.fixture
def built(blog: BlogMaker) -> Path:
    root = blog(ENTRIES, config=PAGED)
    report = Site(root).build(AFTER_THE_NIGHT)
    assert report.problems == [] and report.built
    return root / "site"


def test_every_declared_result_is_a_row_in_constituency_order(built: Path) -> None:
    table = read_table(built)
    assert [row[0] for row in table.rows] == ["Cannock Chase", "Stafford"]
    cannock = table.rows[0]
    assert cannock[1:5] == ["Josh Newbury", "LabLabour", "Lab gain from Con", "3,125"]  # chip, then its name
    electorate = int(BASELINE.split("Cannock Chase,")[1].split(",")[0])
    assert cannock[6] == f"{100 * (15671 + 12546) / electorate:.1f}%"  # on the baseline's electorate
    assert cannock[7] == "02:16 BST 5 July"
    assert table.rows[1][3] == "Lab gain from Con"


def test_the_headings_say_what_is_sorted_for_screen_readers(built: Path) -> None:
    headings = read_table(built).headings
    assert len(headings) == 8 and all(h["scope"] == "col" for h in headings)
    assert [h.get("aria-sort") for h in headings] == ["ascending", *[None] * 7]
    assert all(h.get("data-sort-type") == "number" for h in headings[4:])


def test_each_row_links_to_its_result_entry_on_the_page_that_holds_it(built: Path) -> None:
    links = read_table(built).links
    assert len(links) == 2
    for link in links:
        page, _, anchor = link.partition("#")
        assert page.startswith("page/")  # five updates came after: the results are on older pages
        assert f'id="{anchor}"' in (built / page).read_text()


def test_the_sorting_script_is_a_file_of_its_own_for_the_csp(built: Path) -> None:
    scripts = read_table(built).scripts
    sources = [s["src"] for s in scripts if s.get("src")]
    assert len(sources) == len(scripts) == 1 and "sort." in (sources[0] or "")
    assert (built / (sources[0] or "")).read_text().startswith("/* countnight")
    assert 'href="results.html"' in (built / "index.html").read_text()


def test_before_the_first_declaration_the_page_says_so(blog: BlogMaker) -> None:
    root = blog({"entries/2300-polls-closed.md": update("23:00", "Polls closed")})
    Site(root).build(AFTER_THE_NIGHT)
    page = (root / "site/results.html").read_text()
    assert "No results declared yet." in page and "<table" not in page


def test_without_a_baseline_a_result_is_a_win(blog: BlogMaker) -> None:
    root = blog({"entries/0216-cannock-chase-result.md": ENTRIES["entries/0216-cannock-chase-result.md"]})
    Site(root).build(AFTER_THE_NIGHT)
    table = read_table(root / "site")
    assert table.rows[0][3] == "Lab win" and table.rows[0][6] == "–"
    assert table.links == ["index.html#0216-cannock-chase-result"]


# -- the script, in a real browser -----------------------------------------------------------------------


@pytest.fixture
def served(built: Path) -> Iterator[str]:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(built))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/results.html"
    finally:
        server.shutdown()
        server.server_close()


pytest_plugins = ["browser_support"]  # the session's browser fixture


@pytest.mark.browser
def test_clicking_a_heading_sorts_the_table(served: str, browser: Browser) -> None:
    # The session's one browser (browser_support): a second sync Playwright in this worker would clash with it.
    page = browser.new_page()
    try:
        page.set_default_timeout(5000)
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(served)

        def order() -> list[str]:
            return page.locator("tbody th").all_inner_texts()

        majority = page.get_by_role("button", name="Majority", exact=True)
        majority.click()  # numbers: largest first
        assert order() == ["Cannock Chase", "Stafford"]
        assert page.locator("th", has=majority).get_attribute("aria-sort") == "descending"
        majority.click()
        assert order() == ["Stafford", "Cannock Chase"]
        assert page.locator("th", has=majority).get_attribute("aria-sort") == "ascending"
        constituency = page.get_by_role("button", name="Constituency")
        constituency.click()  # text: A to Z first
        assert order() == ["Cannock Chase", "Stafford"]
        constituency.click()
        assert order() == ["Stafford", "Cannock Chase"]
        assert page.locator("th", has=constituency).get_attribute("aria-sort") == "descending"
        assert page.locator("[aria-sort]").count() == 1
        assert errors == []
    finally:
        page.close()
