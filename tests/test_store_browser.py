"""Real Chromium reading the live page straight from the object store's HTTP endpoint while the real watcher
publishes into it: a dropped entry appears, a correction changes it, a withdrawal takes it away."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytest.register_assert_rewrite("browser_support", "store_support")
from browser_support import TIMEOUT, Watched, save_screenshot  # noqa: E402
from conftest import DURING_THE_NIGHT, copy_sample  # noqa: E402
from countnight.console import QUIET, Console  # noqa: E402
from countnight.objectstore import ObjectStoreOutlet  # noqa: E402
from countnight.s3store import Store, Target  # noqa: E402
from countnight.site import Site  # noqa: E402
from countnight.storerecord import record_path  # noqa: E402
from countnight.watch import Watcher  # noqa: E402
from store_support import BUCKET, Seaweed, http_get, unresolved  # noqa: E402

pytest_plugins = ["browser_support", "store_support"]
pytestmark = pytest.mark.browser
expect.set_options(timeout=TIMEOUT * 1000 * 2)

UPDATE = '---\ntime: "{time}"\ntitle: {title}\n{extra}---\nWords from the count.\n'


class StoreNight:
    def __init__(self, root: Path, seaweed: Seaweed) -> None:
        self.root, self.seaweed = root, seaweed
        self.prefix = seaweed.new_prefix()
        store = Store(Target(BUCKET, self.prefix), endpoint=seaweed.endpoint)
        console = Console(io.StringIO(), verbosity=QUIET, colour=False)
        record = record_path(root, seaweed.endpoint, str(store.target))
        self.outlet = ObjectStoreOutlet(root / "site", store, record, console=console, compress=True)
        site = Site(root, long_lived=True, outlets=[self.outlet])
        self.watcher = Watcher(site, console=console, quiet=0.02, clock=lambda: DURING_THE_NIGHT)

    def write(self, name: str, text: str) -> None:
        path = self.root / "entries" / name
        temp = path.with_name(f".{name}.tmp")
        temp.write_text(text)
        temp.replace(path)


@pytest.fixture
def store_night(tmp_path: Path, seaweed: Seaweed, aws_env: dict[str, str]) -> Iterator[StoreNight]:
    night = StoreNight(copy_sample(tmp_path / "night"), seaweed)
    night.outlet.start()
    night.watcher.start()
    assert night.outlet.wait_caught_up(TIMEOUT * 4)
    yield night
    night.watcher.stop()
    night.outlet.stop(drain=0)


def test_chromium_follows_the_night_from_the_store_while_the_watcher_publishes(
    open_page: Callable[..., Watched], store_night: StoreNight
) -> None:
    night = store_night
    origin = night.seaweed.endpoint
    watched = open_page(origin)
    page = watched.page
    missing: list[str] = []
    page.on("response", lambda response: missing.append(response.url) if response.status == 404 else None)
    page.goto(f"{night.seaweed.url(night.prefix)}index.html?poll=150")
    expect(page.locator("html.js")).to_have_count(1)  # live.js runs: the page, its assets and live.json all came

    night.write("0329-from-the-store.md", UPDATE.format(time="03:29", title="Straight from the store", extra=""))
    entry = page.locator('[data-stream] > article[id="0329-from-the-store"]')
    expect(entry).to_have_count(1)
    expect(entry.locator(".entry__title")).to_have_text("Straight from the store")

    corrected = UPDATE.format(
        time="03:29",
        title="Straight from the store, corrected",
        extra='updated: "03:30"\ncorrection: The headline was wrong.\n',
    )
    night.write("0329-from-the-store.md", corrected)
    expect(entry.locator(".entry__title")).to_have_text("Straight from the store, corrected")
    expect(entry.locator(".entry__correction")).to_have_text("Updated 03:30: The headline was wrong.")
    save_screenshot(page, "store-corrected-1280.png", full_page=False)

    withdrawn = UPDATE.format(time="03:29", title="Straight from the store", extra="status: withdrawn\n")
    night.write("0329-from-the-store.md", withdrawn)
    expect(entry).to_have_count(0)
    assert night.outlet.wait_caught_up(TIMEOUT)
    status, _, _ = http_get(night.seaweed.url(night.prefix, "update/0329-from-the-store.html"))
    assert status in (403, 404), "the share page goes once live.json has the withdrawal"
    assert unresolved(night.seaweed.client(), BUCKET, night.prefix) == []

    # A store has no push channel (issue 20's nchan endpoint): the page's try at it is the only thing missing,
    # and it follows the night by polling instead.
    assert all("/live/" in url for url in missing), missing
    watched.errors[:] = [e for e in watched.errors if "status of 404" not in e]

    # A fresh reader of the store gets the page as the newsroom has it now.
    page.goto(f"{night.seaweed.url(night.prefix)}index.html")
    expect(page.locator('[id="0329-from-the-store"]')).to_have_count(0)
    expect(page).to_have_title(re.compile(r"Election 2024"))
    assert all("/live/" in url for url in missing), missing
    watched.errors[:] = [e for e in watched.errors if "status of 404" not in e]
