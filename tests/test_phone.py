"""The page on a 375 px phone, measured in real Chromium against nginx: the sample night and a national
replay (all 650 seats, ``countnight replay --instant``). Readers come for the newest entry, so its headline
must be within the first 1,000 CSS px; results.html must read without sideways scrolling; "All results"
must be where readers look, at the top. axe-core also runs on the national night's index and results. The
national index keeps its 650-row follow list out of the page's elements and finds seats as the reader types.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import expect

pytest.register_assert_rewrite("browser_support", "served_nights")
from browser_support import AXE, TIMEOUT, Nginx, Watched, need  # noqa: E402

pytest_plugins = ["browser_support", "served_nights"]  # the browser, nginx and the two nights served
pytestmark = pytest.mark.browser
expect.set_options(timeout=TIMEOUT * 1000)
OpenPage = Callable[..., Watched]
PHONE = 375
FIRST_SCREENS = 1000  # CSS px
# The national index's body, which Lighthouse's dom-size audit counts: 7,633 elements with the follow list's 650
# rows drawn, 4,391 without (the rest: 20 result cards with every candidate, 2,512; the map's 650 hexes, 1,662).
DOM_ELEMENTS = 4500


@pytest.fixture(params=["sample", "national"])
def night(request: pytest.FixtureRequest) -> Nginx:
    served: Nginx = request.getfixturevalue(request.param)
    return served


def test_the_newest_headline_is_within_the_first_1000_px(open_page: OpenPage, night: Nginx) -> None:
    page = open_page(night.url, width=PHONE).page
    page.goto(night.url + "index.html")
    box = page.evaluate(
        """() => { const h = document.querySelector('[data-stream] article .entry__title');
                  const r = h.getBoundingClientRect(); return {top: r.top + scrollY, bottom: r.bottom + scrollY}; }"""
    )
    assert box["bottom"] <= FIRST_SCREENS, f"the newest headline ends {box['bottom']:.0f} px down"


def test_results_rows_read_without_sideways_scrolling(open_page: OpenPage, night: Nginx) -> None:
    page = open_page(night.url, width=PHONE, bypass_csp=True).page  # the CSP would refuse the style added below
    page.goto(night.url + "results.html")
    # Every row drawn, not only those in sight (the others wait, skipped, until scrolled near): each must fit.
    page.add_style_tag(content=".results-table tbody tr { content-visibility: visible !important; }")
    widths = page.evaluate(
        """() => { const s = document.querySelector('.table-scroll');
                  return {scroll: s.scrollWidth, client: s.clientWidth, page: document.documentElement.scrollWidth,
                          rows: document.querySelectorAll('.results-table tbody tr').length}; }"""
    )
    assert widths["rows"] > 5
    assert widths["scroll"] <= widths["client"] and widths["page"] <= PHONE, widths
    # What is kept on a phone: the constituency (a link to its entry), party, result, majority, turnout.
    shown = page.evaluate(
        "() => [...document.querySelectorAll('.results-table thead th')].filter(th => th.offsetWidth).map(th => th.textContent.trim())"
    )
    assert [s.rstrip("↕↑↓ ") for s in shown] == ["Constituency", "Party", "Result", "Majority", "Turnout"]


def test_results_rows_out_of_sight_wait_until_scrolled_near(open_page: OpenPage, national: Nginx) -> None:
    """A table lays out all its rows to size its columns: 650 of them were most of a phone's work loading the
    national results.html (Lighthouse's total blocking time 160-620 ms). On a phone each row is a grid of its
    own, and the rows out of sight are skipped (content-visibility) until the reader scrolls near them."""
    page = open_page(national.url, width=PHONE).page
    page.goto(national.url + "results.html#table")
    drawn = """(n) => document.querySelector(`.results-table tbody tr:nth-child(${n}) th a`)
                        .checkVisibility({contentVisibilityAuto: true})"""
    page.wait_for_function(drawn, arg=1)  # the first row, in sight, is drawn (once the page has scrolled to #table)
    assert not page.evaluate(drawn, 650), "the last row, far out of sight, waits"
    skipped = page.evaluate(
        """() => [...document.querySelectorAll('.results-table tbody tr th a')]
                   .filter((a) => !a.checkVisibility({contentVisibilityAuto: true})).length"""
    )
    assert skipped >= 600, f"only {skipped} of 650 rows wait"
    last = page.locator(".results-table tbody tr").last
    last.scroll_into_view_if_needed()
    expect(last.locator("th a")).to_be_visible()
    page.wait_for_function(drawn, arg=650)
    box = last.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE, box
    assert last.inner_text().split("\n")[0] == "York Outer"  # the last in constituency order, its name readable


def test_all_results_is_at_the_top_of_the_first_screen(open_page: OpenPage, night: Nginx) -> None:
    for width in (PHONE, 1280):
        page = open_page(night.url, width=width, height=700).page
        page.goto(night.url + "index.html")
        link = page.locator(".masthead a", has_text="All results")
        box = link.bounding_box()
        assert box is not None and box["y"] + box["height"] <= 200, (width, box)
        link.click()
        page.wait_for_url("**/results.html")


@pytest.mark.parametrize("width", [PHONE, 1280])
@pytest.mark.parametrize("path", ["index.html", "results.html"])
def test_axe_finds_nothing_on_the_national_night(open_page: OpenPage, national: Nginx, path: str, width: int) -> None:
    """(The sample night's pages of every kind are checked in test_browser.py.)"""
    night = national
    need(AXE.exists(), f"axe-core is not installed at {AXE}")
    page = open_page(night.url, width=width, bypass_csp=True).page  # the CSP would refuse the injected axe
    page.goto(night.url + path)
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    report = [
        f"{v['id']} ({v['impact']}): {v['help']} – {[n['target'] for n in v['nodes']][:5]}"
        for v in result["violations"]
    ]
    assert not result["violations"], "\n".join(report)


# -- the national index's follow list: 650 rows kept out of the page's elements --------------------------------


def test_the_national_follow_list_is_found_by_typing_not_drawn(open_page: OpenPage, national: Nginx) -> None:
    """The 650 rows wait in a template (no elements of the page); typing part of a name shows the seats that hold it,
    each linked to its result, and a refresh of the panel (as live.js applies one) keeps the field and its focus."""
    page = open_page(national.url, width=PHONE).page
    page.goto(national.url + "index.html")
    panel = page.locator('[data-panel="follow"]')
    expect(panel.locator("li")).to_have_count(0)
    names = page.evaluate(
        """() => [...document.querySelector('template[data-follow-rows]').content.querySelectorAll('.follow__name')]
                   .map((n) => n.textContent.trim())"""
    )
    assert len(names) == 650
    field = page.get_by_label("Find a constituency")
    field.fill("Stafford")
    wanted = sorted(n for n in names if "stafford" in n.lower())
    found = page.locator(".follow__find li .follow__name")
    expect(found).to_have_count(len(wanted))
    assert sorted(found.all_inner_texts()) == wanted
    expect(page.locator(".follow__status")).to_have_text(f"{len(wanted)} matches.")

    page.evaluate(
        """() => { const box = document.querySelector('[data-panel="follow"]');
                   box.innerHTML = box.innerHTML.replace(/(>Stafford<\\/a>\\s*<span class="follow__verdict">)/, '$1Refreshed: '); }"""
    )
    stafford = page.locator(".follow__find li").filter(
        has=page.locator(".follow__name", has_text=re.compile(r"^Stafford$"))
    )
    expect(stafford).to_contain_text("Refreshed: ")
    expect(field).to_be_focused()
    expect(field).to_have_value("Stafford")

    field.fill("zz no such seat")
    expect(page.locator(".follow__find li")).to_have_count(0)
    expect(page.locator(".follow__status")).to_have_text("No constituency matches.")
    field.fill("Stafford")
    stafford.locator("a").click()
    ident = page.evaluate("location.hash").removeprefix("#")
    assert ident and page.locator(f"article[id='{ident}']").count() == 1
    assert "Stafford" in page.locator(f"article[id='{ident}']").inner_text()


def test_without_script_the_national_follow_list_leads_to_every_result(open_page: OpenPage, national: Nginx) -> None:
    page = open_page(national.url, width=PHONE, java_script_enabled=False).page
    page.goto(national.url + "index.html")
    follow = page.locator('[data-panel="follow"]')
    expect(follow).to_contain_text("of 650 constituencies declared")
    expect(page.get_by_label("Find a constituency")).to_have_count(0)
    follow.get_by_role("link", name="Every result").click()
    page.wait_for_url("**/results.html#table")
    assert page.locator(".results-table tbody tr").count() == 650


def test_the_national_index_is_a_page_of_modest_size(open_page: OpenPage, national: Nginx) -> None:
    """Lighthouse's dom-size audit counts the elements in <body>: 7,633 when the follow list drew its 650 rows."""
    page = open_page(national.url, width=PHONE).page
    page.goto(national.url + "index.html")
    count = page.evaluate("document.body.querySelectorAll('*').length")
    assert count <= DOM_ELEMENTS, f"{count} elements in the national index's body"


def test_the_national_index_arriving_slowly_does_not_jump(open_page: OpenPage, national: Nginx) -> None:
    """On a slow connection the browser draws the page as it arrives. With the seats, map and follow list (300 KB
    on a national night) before the stream in the source, a phone drew them first and moved them away when the
    stream came: Lighthouse measured a layout shift of 0.79. Now the stream comes first in the source too."""
    watched = open_page(national.url, width=PHONE)
    page = watched.page
    page.add_init_script(
        """window.__shift = 0; new PerformanceObserver((list) => { for (const e of list.getEntries())
           if (!e.hadRecentInput) window.__shift += e.value; }).observe({type: 'layout-shift', buffered: true});"""
    )
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(  # 50 KB/s: the index (490 KB, 50 KB as nginx gzips it) arrives over a second or two, in pieces
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 40, "downloadThroughput": 50_000, "uploadThroughput": 50_000},
    )
    page.goto(national.url + "index.html", wait_until="load", timeout=60_000)
    shift = page.evaluate("window.__shift")
    assert shift < 0.1, f"the page moved by a layout shift of {shift:.3f} as it arrived"
