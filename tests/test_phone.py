"""The page on a 375 px phone, measured in real Chromium against nginx: the sample night and a national
replay (all 650 seats, ``countnight replay --instant``). Readers come for the newest entry, so its headline
must be within the first 1,000 CSS px; results.html must read without sideways scrolling; "All results"
must be where readers look, at the top. axe-core also runs on the national night's index and results.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

pytest.register_assert_rewrite("browser_support", "served_nights")
from browser_support import AXE, Nginx, Watched, need  # noqa: E402

pytest_plugins = ["browser_support", "served_nights"]  # the browser, nginx and the two nights served
pytestmark = pytest.mark.browser
OpenPage = Callable[..., Watched]
PHONE = 375
FIRST_SCREENS = 1000  # CSS px


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
    page = open_page(night.url, width=PHONE).page
    page.goto(night.url + "results.html")
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
