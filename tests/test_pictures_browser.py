"""Pictures as readers get them: real Chromium against nginx with deploy/nginx.conf (its Content-Security-Policy
header), on a copy of the sample night with a photo entry. The browser picks the AVIF it can show, within the
CSP, with no layout shift while it loads; the made files are cached for a year; nothing outside the site is
asked for."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Route

from conftest import AFTER_THE_NIGHT, copy_sample
from countnight.site import Site
from picture_files import jpeg_with_gps

pytest.register_assert_rewrite("browser_support")
from browser_support import AXE, Nginx, Watched, need, save_screenshot  # noqa: E402

pytest_plugins = ["browser_support"]
pytestmark = pytest.mark.browser

PHOTO = """\
---
time: "06:50"
title: The count is over at Meadowside
image: 0650-meadowside.jpg
alt: Counting staff stack empty ballot boxes at the end of the night
caption: The last boxes are cleared away
credit: Hannah Birch/BBC Radio Stoke
---
Burton's count closed at 06:45.
"""


@pytest.fixture
def photo_night(tmp_path: Path) -> Path:
    root = copy_sample(tmp_path / "night")
    (root / "entries" / "0650-meadowside.jpg").write_bytes(jpeg_with_gps((3000, 2000)))
    (root / "entries" / "0650-count-over.md").write_text(PHOTO)
    report = Site(root).build(AFTER_THE_NIGHT)
    assert report.problems == []
    return root


def test_the_browser_shows_the_avif_within_the_csp_without_a_layout_shift(
    photo_night: Path, serve: Callable[[Path], Nginx], open_page: Callable[..., Watched]
) -> None:
    nginx = serve(photo_night / "site")
    held: list[Route] = []  # the pictures' requests, held while the page is measured
    for path, width in (("update/0650-count-over.html", 375), ("index.html", 1280)):
        watched = open_page(nginx.url, width=width)
        page = watched.page
        held.clear()
        page.route("**/media/**", lambda route: held.append(route))  # they wait until the page is measured
        page.goto(f"{nginx.url}/{path}", wait_until="domcontentloaded")
        image = page.locator(".entry__figure img").first
        image.scroll_into_view_if_needed()
        page.wait_for_function("() => document.querySelectorAll('.entry__figure').length > 0")
        while not held:  # the browser asked for the picture (and was made to wait)
            page.wait_for_timeout(10)
        before = image.bounding_box()
        assert held and before is not None and before["height"] > 100, (held, before)
        for route in held:
            route.continue_()
        page.unroute("**/media/**")
        page.wait_for_function(
            "() => { const i = document.querySelector('.entry__figure img'); return i.complete && i.naturalWidth > 0; }"
        )
        shown = image.evaluate(
            "i => ({src: i.currentSrc, width: i.getBoundingClientRect().width, height: i.getBoundingClientRect().height})"
        )
        assert shown["src"].endswith(".avif"), shown  # Chromium takes the first <source> it can show
        assert abs(shown["height"] * 1.5 - shown["width"]) < 2, shown  # 3:2, as the photo is
        # no layout shift: the box had its size before a byte of the picture came (width and height in the page)
        assert abs(before["height"] - shown["height"]) < 1 and abs(before["width"] - shown["width"]) < 1
        assert page.locator(".entry__caption").first.inner_text().startswith("The last boxes are cleared away")
        save_screenshot(page, f"picture-{width}.png", full_page=False)
    assert all("/media/" not in url or url.startswith(nginx.url) for url in watched.requests)
    made = sorted((photo_night / "site" / "media").iterdir())
    for file in made:
        reply = nginx.get(f"media/{file.name}")
        assert reply.status == 200 and reply.header("Cache-Control") == "public, max-age=31536000, immutable"
        assert reply.header("Content-Type") in ("image/avif", "image/webp", "image/jpeg"), file.name


@pytest.mark.parametrize("width", [375, 1280])
def test_a_page_with_a_photo_has_no_accessibility_violations(
    photo_night: Path, serve: Callable[[Path], Nginx], open_page: Callable[..., Watched], width: int
) -> None:
    """axe-core finds nothing, of any impact, on the share page and the index with a figure."""
    need(AXE.exists(), f"axe-core is not installed at {AXE}")
    nginx = serve(photo_night / "site")
    for path in ("update/0650-count-over.html", "index.html"):
        page = open_page(nginx.url, width=width, bypass_csp=True).page  # the CSP would refuse the injected axe
        page.goto(f"{nginx.url}/{path}")
        page.add_script_tag(path=str(AXE))
        result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        report = [f"{v['id']} ({v['impact']}): {v['help']}" for v in result["violations"]]
        assert not result["violations"], "\n".join(report)
