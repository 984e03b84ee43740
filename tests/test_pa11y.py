"""pa11y, with HTML_CodeSniffer against WCAG 2 AA, finds no error on any kind of page (the index, an older page,
a share page, results.html) at 375 and 1280 px, on the sample night and on the whole 2024 night replayed.

A second checker beside axe-core (tests/test_browser.py, tests/test_phone.py): the two read the same rules
differently (htmlcs also looks at hidden controls, for one). pa11y drives Debian's Chromium through puppeteer,
from tests/pa11y_pages.js; nginx serves the built sites with deploy/nginx.conf on loopback.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytest.register_assert_rewrite("browser_support", "served_nights")
from browser_support import CHROMIUM, REPO, Nginx, need  # noqa: E402
from conftest import DURING_THE_NIGHT, write_blog  # noqa: E402
from countnight.site import Site  # noqa: E402

pytest_plugins = ["browser_support", "served_nights"]  # nginx and the two nights served
pytestmark = pytest.mark.browser

SCRIPT = REPO / "tests" / "pa11y_pages.js"
PA11Y = REPO / "node_modules" / "pa11y"
WIDTHS = (375, 1280)
TIMEOUT = 600  # seconds: 16 pages, each with HTML_CodeSniffer on a loaded two-core machine


def pages(night: Nginx) -> list[str]:
    """One page of each kind: the index, the oldest older page, the newest entry's share page, results.html."""
    index = night.body("index.html").decode()
    share = re.search(r'class="entry__share" href="(update/[^"]+\.html)"', index)
    assert share, "the index links to no share page"
    assert night.get("page/1.html").status == 200
    return ["index.html", "page/1.html", share.group(1), "results.html"]


def run_pa11y(urls: list[str], widths: tuple[int, ...] = WIDTHS, actions: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """pa11y's findings on each URL at each width, after ``actions`` (pa11y's): [{url, width, issues: [...]}]."""
    need(CHROMIUM.exists(), f"Chromium is not installed at {CHROMIUM}")
    need(PA11Y.exists() and shutil.which("node") is not None, f"pa11y is not installed at {PA11Y}")
    command = ["node", str(SCRIPT), str(CHROMIUM), ",".join(map(str, widths)), *urls]
    env = os.environ | {"COUNTNIGHT_PA11Y_ACTIONS": json.dumps(list(actions))}
    run = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, check=False, cwd=REPO, env=env)
    assert run.returncode == 0, run.stderr
    results: list[dict[str, Any]] = json.loads(run.stdout)
    assert len(results) == len(urls) * len(widths)  # every page at every width was looked at
    return results


def errors(results: list[dict[str, Any]], origin: str) -> list[str]:
    return [
        f"{r['url'].removeprefix(origin)} at {r['width']} px: {i['code']}: {i['message']} ({i['selector']}: {i['context'][:120]})"
        for r in results
        for i in r["issues"]
        if i["type"] == "error"
    ]


@pytest.mark.parametrize("which", ["sample", "national"])
def test_pa11y_finds_no_error_on_any_kind_of_page(request: pytest.FixtureRequest, which: str) -> None:
    night: Nginx = request.getfixturevalue(which)
    found = errors(run_pa11y([night.url + path for path in pages(night)]), night.url)
    assert not found, "\n".join(found)


def test_pa11y_reports_what_wcag_forbids_under_the_sites_own_headers(
    serve: Callable[[Path], Nginx], tmp_path: Path
) -> None:
    """The check is no formality: served with the site's headers (its Content-Security-Policy among them),
    a page with a nameless button and an image without alt text gets those two errors."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Faults</title></head><body><main>'
        '<h1>Faults</h1><button type="button"></button><img src="data:,"></main></body></html>'
    )
    server = serve(site)
    found = errors(run_pa11y([server.url + "index.html"], (375,)), server.url)
    assert any(".H37" in f for f in found), found  # the image's missing alt
    assert any("4_1_2" in f and "button" in f.lower() for f in found), found  # the button's missing name


def test_pa11y_finds_no_error_in_the_embeds_consent_step_and_its_withdrawal(
    serve: Callable[[Path], Nginx], tmp_path: Path
) -> None:
    """A page of embeds as a reader leaves it: X allowed and remembered (its frames, the button under each,
    the footer's settings listing it), then that choice taken back (the consent step back, the footer's
    status). Chromium resolves no host but loopback's: the frames never reach X."""
    post = "https://x.com/ProfJaneGreen/status/1809167489123456789"
    root = write_blog(
        tmp_path / "blog",
        {
            f"entries/{name}.md": f'---\ntime: "{time}"\ntitle: A view\nembed: {address}\n---\nFrom the count.\n'
            for name, time, address in (
                ("0105-video", "01:05", "https://youtu.be/dQw4w9WgXcQ"),
                ("0110-post", "01:10", post),
                ("0115-post", "01:15", "https://x.com/bbcpolitics/status/42"),
            )
        },
    )
    site = Site(root)
    assert site.build(DURING_THE_NIGHT).built
    server = serve(site.out)
    allowed = (
        'check field [data-embed="x"] [data-embed-remember]',
        'click element [data-embed="x"] [data-embed-allow]',
        "wait for element .embed__withdraw to be visible",
        "wait for element [data-embed-settings] to be visible",
    )
    withdrawn = (*allowed, "click element .embed__forget", "wait for element .embed__withdraw to be removed")
    found = errors(run_pa11y([server.url + "index.html"], actions=allowed), server.url)
    found += errors(run_pa11y([server.url + "index.html"], (375,), actions=withdrawn), server.url)
    assert not found, "\n".join(found)
