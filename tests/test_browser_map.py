"""The results map in a real browser: Debian's Chromium against nginx serving the site. The whole 2024 night
replayed (650 hexes) for axe, the keyboard and the screenshots; the sample night rebuilt under an open page to
see a new result change its hex and nothing else. Waits are conditions with deadlines."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from conftest import AFTER_THE_NIGHT, DURING_THE_NIGHT, copy_sample
from countnight import ge2024, replay
from countnight.channel import LiveChannel
from countnight.hexmap import load_layout
from countnight.site import Site

pytest.register_assert_rewrite("browser_support")  # before the import: it is also the plugin below
from browser_support import (  # noqa: E402
    ARTIFACTS,
    AXE,
    NGINX,
    TIMEOUT,
    Nginx,
    Watched,
    need,
    save_screenshot,
    start_nginx,
)

pytest_plugins = ["browser_support"]
pytestmark = pytest.mark.browser
expect.set_options(timeout=TIMEOUT * 1000)

_REFERENCE = Path(__file__).resolve().parents[2] / "shared/data/ge2024"  # beside the checkout, when it is there
DATA = Path(os.environ.get("COUNTNIGHT_DATA") or (_REFERENCE if _REFERENCE.is_dir() else ge2024.shipped_data()))
OpenPage = Callable[..., Watched]


@pytest.fixture(scope="module")
def national(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nginx]:
    """The whole 2024 night replayed and built after it ended, served by nginx."""
    need(NGINX.exists(), f"nginx is not installed at {NGINX}")
    if not (DATA / ge2024.CANDIDATES_FILE).is_file():
        pytest.skip(f"the GE2024 data files are not in {DATA}")
    root = tmp_path_factory.mktemp("national") / "uk"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "fsync", lambda fd: None)  # 2,700 fsyncs test the disk, not the map
        replay.replay_night(root, DATA, speed=0, seed=2024)
        assert Site(root).build(AFTER_THE_NIGHT).built
    server = start_nginx(root / "site", root.parent / "nginx")
    yield server
    server.stop()


def shot(element: Locator, name: str) -> Path:
    """A screenshot of one element under test-artifacts/ (git-ignored), for people to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    element.screenshot(path=str(ARTIFACTS / name), timeout=4 * TIMEOUT * 1000)  # a loaded machine is slow to paint
    return ARTIFACTS / name


def focused(page: Page) -> dict[str, str | None]:
    return page.evaluate(
        """() => { const el = document.activeElement; const path = el.querySelector('path');
        return {hex: el.getAttribute('data-hex'), label: el.getAttribute('aria-label'), cls: el.getAttribute('class'),
                stroke: path ? getComputedStyle(path).strokeWidth : null}; }"""
    )


def test_the_full_map_passes_axe_and_each_hex_is_a_named_link_the_keyboard_reaches(
    open_page: OpenPage, national: Nginx
) -> None:
    need(AXE.exists(), f"axe-core is not installed at {AXE}")
    page = open_page(national.url, bypass_csp=True).page  # the page's CSP would refuse the injected axe
    page.goto(national.url + "results.html")
    expect(page.locator("#gains [data-hex]")).to_have_count(650)
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    bad = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert not bad, "\n".join(f"{v['id']}: {v['help']} {[n['target'] for n in v['nodes']][:5]}" for v in bad)

    # Each hex is a link whose accessible name says the seat and its result.
    expect(page.get_by_role("link", name="Cannock Chase: Labour gain from Conservative", exact=True)).to_have_count(1)
    expect(page.get_by_role("link", name="Richmond and Northallerton: Conservative hold", exact=True)).to_have_count(1)
    links = page.locator("#gains a[data-hex]")
    expect(links).to_have_count(650)
    # The keyboard: past the view switch, Tab goes from hex to hex, each focus drawn (a thick outline).
    page.get_by_role("link", name="gains only").focus()
    seen = []
    for _ in range(5):
        page.keyboard.press("Tab")
        now = focused(page)
        assert now["hex"] and re.fullmatch(r".+: .+ (gain from .+|hold|win)", now["label"] or ""), now
        assert now["stroke"] == "7px", now
        seen.append(now["hex"])
    assert len(set(seen)) == 5
    save_screenshot(page, "map-focus-1280.png", full_page=False)


def test_gains_only_leaves_the_gains_in_colour_and_in_the_tab_order(open_page: OpenPage, national: Nginx) -> None:
    page = open_page(national.url).page
    page.goto(national.url + "results.html")
    page.get_by_role("link", name="gains only").click()
    expect(page.locator(".hexmap__gains-note")).to_be_visible()
    hidden = page.locator("#gains a[data-hex]").evaluate_all(
        "(els) => els.filter((el) => getComputedStyle(el).visibility === 'hidden').map((el) => el.classList.contains('g'))"
    )
    gains = page.locator("#gains a.g[data-hex]").count()
    assert gains > 300 and len(hidden) == 650 - gains and not any(hidden)
    page.get_by_role("link", name="gains only").focus()
    for _ in range(3):
        page.keyboard.press("Tab")
        assert " g" in (focused(page)["cls"] or ""), focused(page)
    assert shot(page.locator("#map"), "map-gains-1280.png").stat().st_size > 20_000


def test_screenshots_of_the_map_at_375_and_1280(open_page: OpenPage, national: Nginx) -> None:
    """The results page of the whole night on a phone and a desktop, for people to look at (test-artifacts/)."""
    for width in (375, 1280):
        page = open_page(national.url, width=width).page
        page.goto(national.url + "results.html")
        assert page.evaluate("document.documentElement.scrollWidth") <= width  # nothing wider than the screen
        # The charts keep their text at least 11 px high on a phone.
        sizes = page.locator(".chart text").evaluate_all("(els) => els.map((el) => el.getBoundingClientRect().height)")
        assert sizes and min(sizes) >= 11, sizes
        # The map and the charts, not the whole page: its 650-row table is ~30,000 px tall on a phone.
        assert shot(page.locator("#map"), f"map-results-{width}.png").stat().st_size > 20_000
        assert shot(page.locator(".charts"), f"map-charts-{width}.png").stat().st_size > 5_000


# -- the live page's compact map, updated under an open page --------------------------------------------


@pytest.fixture
def sample(tmp_path: Path, serve: Callable[[Path], Nginx]) -> Iterator[tuple[Site, Nginx, LiveChannel]]:
    """The sample night at 03:30 served by nginx, with the live channel (nchan) the build publishes to."""
    root = copy_sample(tmp_path / "night")
    site = Site(root)
    server = serve(site.out)  # nginx first: the channel publishes to it from the first build on
    channel = LiveChannel(site.out, publish_url=server.publish_url)
    site.outlets = (channel,)  # as `build`, `watch` and `serve` plug it in
    assert site.build(DURING_THE_NIGHT).built and channel.flush(TIMEOUT)
    yield site, server, channel
    channel.close()


def test_an_open_page_takes_a_new_result_into_its_hex_and_leaves_the_rest(
    open_page: OpenPage, sample: tuple[Site, Nginx, LiveChannel]
) -> None:
    site, server, channel = sample
    page = open_page(server.url, width=1280).page
    page.goto(f"{server.url}index.html")
    expect(page.locator("html.js")).to_have_count(1)
    by_name = load_layout().by_name
    declared = [by_name[name].code for name in ("stafford", "stoke on trent south", "crewe and nantwich")]
    crewe = declared[-1]
    box = page.locator('[data-panel="map"]')
    expect(box.locator(f'path[data-hex="{crewe}"]')).to_have_count(1)  # not declared at 03:30
    count = box.locator("[data-hex]").count()
    assert count > 50
    page.evaluate("document.querySelectorAll('[data-panel=map] [data-hex]').forEach((el) => { el.kept = true; })")
    save_screenshot(page, "map-live-before-1280.png", full_page=False)

    # Stafford declares at 03:38, Stoke-on-Trent South at 03:52, Crewe and Nantwich at 04:05.
    assert site.build(datetime.fromisoformat("2024-07-05T04:10:00+01:00")).built
    assert channel.flush(TIMEOUT)  # pushed to the open page
    link = box.get_by_role("link", name="Crewe and Nantwich: Labour gain from Conservative", exact=True)
    expect(link).to_have_count(1)
    expect(
        box.get_by_role("link", name="Stoke-on-Trent South: Labour gain from Conservative", exact=True)
    ).to_have_count(1)
    replaced = page.evaluate(
        "Array.from(document.querySelectorAll('[data-panel=map] [data-hex]')).filter((el) => !el.kept)"
        ".map((el) => el.getAttribute('data-hex'))"
    )
    assert sorted(replaced) == sorted(declared)  # the other hexes are the very same elements
    assert box.locator("[data-hex]").count() == count
    save_screenshot(page, "map-live-after-1280.png", full_page=False)
