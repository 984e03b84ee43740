"""The readers' side in a real browser against a real web server: Debian's Chromium driven by Playwright,
nginx from Debian serving site/ with deploy/nginx.conf, the watcher rebuilding as files change.

Every wait is a condition with a deadline. Screenshots go to test-artifacts/ for people to look at.
"""

from __future__ import annotations

import gzip
import http.client
import io
import itertools
import json
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from conftest import AFTER_THE_NIGHT, DURING_THE_NIGHT, REPO, copy_sample
from countnight.channel import LiveChannel
from countnight.console import QUIET, Console
from countnight.render import CSP
from countnight.site import Site
from countnight.watch import Watcher

pytest.register_assert_rewrite("browser_support")  # before the import: it is also the plugin below
from browser_support import AXE, NGINX, TIMEOUT, Nginx, Watched, need, save_screenshot, start_nginx  # noqa: E402

pytest_plugins = ["browser_support"]  # the browser and nginx fixtures
pytestmark = pytest.mark.browser
expect.set_options(timeout=TIMEOUT * 1000)

VISIBLE_MS, HIDDEN_MS = 10_000, 30_000  # how often the page polls when it has no channel (live.js)
FLOOR_MS = 5_000  # the fastest anything can make it poll
OpenPage = Callable[..., Watched]
# Lets a test hide the tab: window.__hidden = true, then a visibilitychange event.
HIDDEN_PROBE = """
Object.defineProperty(Document.prototype, "visibilityState", {
  configurable: true, get() { return window.__hidden ? "hidden" : "visible"; },
});
"""


def update(time: str, title: str, *extra: str, body: str = "Words from the count.") -> str:
    lines = ["---", f'time: "{time}"', f"title: {title}", *extra, "---", body, ""]
    return "\n".join(lines)


@dataclass
class Night:
    """The sample night being served: write entry files, rebuild (or let the watcher), look at the page."""

    root: Path
    site: Site
    server: Nginx
    now: datetime
    channel: LiveChannel  # the live channel, publishing to the nginx's nchan

    @property
    def url(self) -> str:
        return self.server.url

    def write(self, name: str, text: str) -> None:
        """Replace an entry file the way an editor's safe save does (a temporary file, then a rename)."""
        path = self.root / "entries" / name
        temp = path.with_name(f".{name}.tmp")
        temp.write_text(text)
        temp.replace(path)

    def remove(self, name: str) -> None:
        (self.root / "entries" / name).unlink()

    def build(self, now: datetime | None = None) -> None:
        """Rebuild, and hand the live delta to the channel as the watcher does."""
        self.now = now or self.now
        report = self.site.build(self.now)
        assert report.built and not report.problems, report.problems
        assert self.channel.flush(TIMEOUT)  # the site's outlet: its message is out


def open_night(tmp_path: Path, serve: Callable[[Path], Nginx], *, push: bool) -> Night:
    root = copy_sample(tmp_path / "night")
    site = Site(root)
    server = serve(site.out)  # nginx first: the channel publishes to it from the first build on
    channel = LiveChannel(site.out, publish_url=server.publish_url if push else None)
    site.outlets = (channel,)  # as `build`, `watch` and `serve` plug it in
    report = site.build(DURING_THE_NIGHT)
    assert report.built and channel.flush(TIMEOUT)
    return Night(root, site, server, DURING_THE_NIGHT, channel)


@pytest.fixture
def night(tmp_path: Path, serve: Callable[[Path], Nginx]) -> Iterator[Night]:
    """The sample night at 03:30, built once and served by nginx with the live channel (nchan) the build
    publishes to; tests rebuild with ``night.build()``."""
    night = open_night(tmp_path, serve, push=True)
    yield night
    night.channel.close()


@pytest.fixture
def static_night(tmp_path: Path, serve: Callable[[Path], Nginx]) -> Iterator[Night]:
    """The same night where the build publishes no channel (a static host): open pages poll."""
    night = open_night(tmp_path, serve, push=False)
    yield night
    night.channel.close()


@pytest.fixture
def watched_night(night: Night) -> Iterator[Night]:
    """The same night with the watcher running on it, as on the night itself."""
    watcher = Watcher(
        night.site, console=Console(io.StringIO(), verbosity=QUIET, colour=False), quiet=0.03, grace=0.3,
        clock=lambda: night.now,
    )  # fmt: skip
    watcher.start()
    yield night
    watcher.stop()


def open_live(open_page: OpenPage, night: Night, *, width: int = 1280, **options: Any) -> Watched:
    """The live page, listening to the channel."""
    watched = open_page(night.url, width=width, **options)
    watched.page.goto(f"{night.url}index.html")
    expect(watched.page.locator("html.js")).to_have_count(1)  # live.js is running
    expect(watched.page.locator("main[data-live-mode=push]")).to_have_count(1)
    return watched


def stream_ids(page: Page) -> list[str]:
    return page.locator("[data-stream] > article").evaluate_all("(els) => els.map((e) => e.id)")


# -- the night, live ------------------------------------------------------------------------------


def test_new_corrected_and_withdrawn_entries_reach_an_open_page(open_page: OpenPage, watched_night: Night) -> None:
    night = watched_night
    watched = open_live(open_page, night)
    page = watched.page
    before = stream_ids(page)

    # At the top of a visible page: straight in, at the top, highlighted and announced.
    night.write("0327-first-test.md", update("03:27", "First test update", "breaking: true"))
    first = page.locator('[data-stream] > article[id="0327-first-test"]')
    expect(first).to_have_count(1)
    assert stream_ids(page)[0] == "0327-first-test"
    expect(first).to_have_class(re.compile(r"\bis-new\b"))
    expect(page.locator("[data-announce]")).to_contain_text("New update: First test update")
    expect(first.locator(".label--breaking")).to_have_text("Breaking")
    assert not page.title().startswith("(")

    # Further down: held behind the button, counted in the title, announced.
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    night.write("0328-second-test.md", update("03:28", "Second test update"))
    button = page.locator("[data-new-updates]")
    expect(button).to_be_visible()
    expect(button).to_have_text("1 new update")
    expect(page).to_have_title(re.compile(r"^\(1\) Election 2024"))
    expect(page.locator("[data-announce]")).to_contain_text("1 new update")
    assert "0328-second-test" not in stream_ids(page)
    save_screenshot(page, "held-update-1280.png", full_page=False)
    button.click()
    expect(page.locator('[data-stream] > article[id="0328-second-test"]')).to_be_focused()
    expect(button).to_be_hidden()
    expect(page).to_have_title(re.compile(r"^Election 2024"))
    assert stream_ids(page)[:2] == ["0328-second-test", "0327-first-test"]

    # A correction changes the entry in place, with its "Updated" time and note.
    night.write(
        "0327-first-test.md",
        update("03:27", "First test update, corrected", 'updated: "03:29"', "correction: The count had not ended."),
    )
    expect(first.locator(".entry__correction")).to_have_text("Updated 03:29: The count had not ended.")
    expect(first.locator(".entry__title")).to_have_text("First test update, corrected")
    assert stream_ids(page)[:2] == ["0328-second-test", "0327-first-test"]

    # Withdrawn and deleted entries disappear.
    night.write("0327-first-test.md", update("03:27", "First test update", "status: withdrawn"))
    expect(first).to_have_count(0)
    night.remove("0328-second-test.md")
    expect(page.locator('[id="0328-second-test"]')).to_have_count(0)
    assert stream_ids(page) == before

    # A declaration refreshes the seats, the constituencies followed and the key events.
    page.evaluate("window.scrollTo(0, 0)")
    declared = int(page.locator(".scoreboard__declared strong").inner_text())
    name = page.locator(".follow__name", has_text=re.compile(r"^\s*Stafford\s*$"))
    stafford = page.locator(".follow__list li").filter(has=name)
    expect(stafford).to_have_class(re.compile("is-waiting"))
    result = (REPO / "entries" / "0338-stafford-result.md").read_text().replace('time: "03:38"', 'time: "03:29"')
    night.write("0329-stafford-result.md", result)
    expect(page.locator(".scoreboard__declared strong")).to_have_text(str(declared + 1))
    expect(stafford).to_have_class(re.compile("is-declared"))
    expect(page.locator(".key-events__list")).to_contain_text("Labour gain Stafford")
    expect(page.locator('[data-stream] > article[id="0329-stafford-result"]')).to_have_count(1)
    assert stream_ids(page)[0] == "0329-stafford-result"  # the newest, now that the test updates are gone


def test_new_entries_wait_while_the_tab_is_hidden(open_page: OpenPage, night: Night) -> None:
    page = open_page(night.url).page
    page.add_init_script(HIDDEN_PROBE)
    page.goto(f"{night.url}index.html")
    expect(page.locator("main[data-live-mode=push]")).to_have_count(1)
    page.evaluate("window.__hidden = true; document.dispatchEvent(new Event('visibilitychange'))")
    night.write("0329-hidden.md", update("03:29", "While you were away"))
    night.build()
    expect(page.locator("[data-new-updates]")).to_have_text("1 new update")
    expect(page).to_have_title(re.compile(r"^\(1\) "))
    assert "0329-hidden" not in stream_ids(page)
    page.evaluate("window.__hidden = false; document.dispatchEvent(new Event('visibilitychange'))")
    expect(page.locator('[data-stream] > article[id="0329-hidden"]')).to_have_count(1)
    expect(page.locator("[data-new-updates]")).to_be_hidden()


def test_reduced_motion_marks_new_entries_without_animating(open_page: OpenPage, night: Night) -> None:
    page = open_live(open_page, night, width=375, reduced_motion="reduce").page
    night.write("0329-calm.md", update("03:29", "A calm arrival"))
    night.build()
    article = page.locator('[data-stream] > article[id="0329-calm"]')
    expect(article).to_have_class(re.compile(r"\bis-new\b"))
    style = article.evaluate("(el) => { const s = getComputedStyle(el); return [s.animationName, s.boxShadow]; }")
    assert style[0] == "none" and style[1] != "none", style


# -- push: the live channel through nginx and nchan ---------------------------------------------------


def channel_polls(night: Night) -> list[str]:
    """The requests for live.json and live/head.json in nginx's access log: what pages fetched, not pushed."""
    log = (night.server.runtime / "access.log").read_text()
    return re.findall(r'"GET /live(?:\.json|/head\.json)[^"]*"', log)


def test_a_new_entry_is_pushed_to_an_open_page(open_page: OpenPage, watched_night: Night) -> None:
    """Drop → visible through nchan: the page fetched nothing for it (it has no poll due for 10 s)."""
    night = watched_night
    page = open_live(open_page, night).page
    # The page's first look (head, live.json) and its catch-up when the channel opened (head).
    deadline = time.monotonic() + TIMEOUT
    while len(channel_polls(night)) < 3 and time.monotonic() < deadline:
        page.wait_for_timeout(20)
    fetched = len(channel_polls(night))
    night.write("0329-pushed.md", update("03:29", "Pushed, not polled"))
    expect(page.locator('[data-stream] > article[id="0329-pushed"]')).to_have_count(1)
    result = (REPO / "entries" / "0338-stafford-result.md").read_text().replace('time: "03:38"', 'time: "03:29"')
    night.write("0329-stafford-result.md", result)
    name = page.locator(".follow__name", has_text=re.compile(r"^\s*Stafford\s*$"))
    stafford = page.locator(".follow__list li").filter(has=name)
    expect(stafford).to_have_class(re.compile("is-declared"))  # the follow list's changed row, pushed
    assert len(channel_polls(night)) == fetched, channel_polls(night)[fetched:]
    assert page.locator("main").get_attribute("data-live-mode") == "push"


def test_pages_poll_while_the_channel_is_down_lose_nothing_and_return_to_push(
    open_page: OpenPage, watched_night: Night
) -> None:
    """nginx (and nchan in it, with its buffer) killed mid-night, entries published while it is down, then
    started again on the same ports: the page notices, catches up from the files, and listens again.

    The restarted nchan has none of the messages published while it was down: the page has them only from
    live/head.json and live/N.json. On a fast machine the head was rewritten within the same second as the
    page had last read it, and at the same length, so nginx's validators (whole-second mtime and size) did
    not change: a revalidating page got a 304 and waited for a push that never came. The test now makes
    that case every time, setting the head's mtime back to the one the page saw."""
    night = watched_night
    watched = open_live(open_page, night)
    page = watched.page
    head = night.site.out / "live" / "head.json"
    seen = head.stat()
    old = night.server
    old.kill()  # SIGKILL: no goodbye to the subscribers
    expect(page.locator("main[data-live-mode=poll]")).to_have_count(1)
    night.write("0329-while-down.md", update("03:29", "Published while the channel was down"))
    night.write("0329-also-down.md", update("03:29", "Also while it was down"))
    wait_for_messages(night, "0329-while-down", "0329-also-down")
    assert head.stat().st_size == seen.st_size  # {"seq":1,...} then {"seq":3,...}
    os.utime(head, ns=(seen.st_atime_ns, seen.st_mtime_ns))  # as if rewritten within the same second
    night.server = start_nginx(night.site.out, old.runtime, port=old.port, publish_port=old.publish_port)
    # The page may wait out a poll interval (10 s) or channel retries, which back off (10, 20, 40 s) while the
    # server is down: the deadline allows for three steps of either on a loaded machine.
    back = (TIMEOUT + VISIBLE_MS / 1000 * 7) * 1000
    try:
        for ident in ("0329-while-down", "0329-also-down"):
            expect(page.locator(f'[data-stream] > article[id="{ident}"]')).to_have_count(1, timeout=back)
        expect(page.locator("main[data-live-mode=push]")).to_have_count(1, timeout=back)
        night.write("0330-back.md", update("03:30", "The channel is back"))
        expect(page.locator('[data-stream] > article[id="0330-back"]')).to_have_count(1)
    finally:
        page.close()  # before the server stops: its retries then are not what this tests
        night.server.stop()
        forgive_refusals(watched)


def forgive_refusals(watched: Watched) -> None:
    """The test stopped the server on purpose: Chromium's console lines for the connections it then refused
    (the event stream retries every 3 s, a poll may fall due) are expected; any other error still fails."""
    watched.errors[:] = [e for e in watched.errors if e != "Failed to load resource: net::ERR_CONNECTION_REFUSED"]


def wait_for_messages(night: Night, *ids: str) -> None:
    """Wait until the channel's files (live/N.json) carry every one of ``ids``."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        texts = [p.read_text() for p in (night.site.out / "live").glob("[0-9]*.json")]
        if all(any(f'"id":"{ident}"' in text for text in texts) for ident in ids):
            return
        if time.monotonic() > deadline:
            pytest.fail(f"the channel's files never carried all of {ids}")
        time.sleep(0.02)


def publish_by_hand(night: Night, seq: int) -> None:
    """POST message ``seq`` (its file) to nchan's publisher ourselves: the engine gets that one and not those
    before it (they died with an engine's buffer, or their POST was lost)."""
    connection = http.client.HTTPConnection("127.0.0.1", night.server.publish_port, timeout=TIMEOUT)
    try:
        body = (night.site.out / "live" / f"{seq}.json").read_bytes()
        connection.request("POST", "/live/publish", body=body, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
    finally:
        connection.close()
    assert response.status < 300, response.status


def test_a_gap_in_the_pushed_numbers_is_filled_from_the_files(open_page: OpenPage, night: Night) -> None:
    """The page is pushed message N+2 while holding N: it fetches N+1 (and N+2) from live/ and stays on push.
    Nothing else could have brought them: a page pushed to and in step does not poll."""
    page = open_live(open_page, night).page
    at = json.loads((night.site.out / "live" / "head.json").read_bytes())["seq"]
    night.channel.publish_url = None  # the next two messages go to the files only
    night.write("0329-lost.md", update("03:29", "Never pushed"))
    night.build()
    night.write("0329-next.md", update("03:29", "Pushed after a lost one"))
    night.build()
    publish_by_hand(night, at + 2)
    for ident in ("0329-lost", "0329-next"):
        expect(page.locator(f'[data-stream] > article[id="{ident}"]')).to_have_count(1)
    assert stream_ids(page)[:2] == ["0329-next", "0329-lost"]
    assert f"GET /live/{at + 1}.json " in (night.server.runtime / "access.log").read_text()
    assert page.locator("main").get_attribute("data-live-mode") == "push"


# Makes the page's requests for live/head.json fail (a 503, without the network) while window.__fail is true,
# and counts them: window.__heads.
FAILING_HEAD = """
window.__heads = [];
const passOn = window.fetch.bind(window);
window.fetch = (url, options) => {
  if (!String(url).includes("/live/head.json")) return passOn(url, options);
  const failing = window.__fail === true;
  window.__heads.push(failing ? 503 : 200);
  return failing ? Promise.resolve(new Response("busy", {status: 503})) : passOn(url, options);
};
"""


def test_a_catch_up_that_fails_as_the_channel_reopens_is_tried_again(open_page: OpenPage, night: Night) -> None:
    """nginx killed, an entry published meanwhile (a message nchan will never have), nginx back, and the page's
    catch-up from the files fails just as its channel opens: the page does not take the open channel for being
    up to date. It polls (backing off) until a catch-up works, then only listens."""
    watched = open_page(night.url)
    page = watched.page
    page.add_init_script(FAILING_HEAD)
    page.clock.install()  # the page's timers run when the test says; the event stream's reconnects do not wait
    page.goto(f"{night.url}index.html")
    expect(page.locator("main[data-live-mode=push]")).to_have_count(1)
    old = night.server
    old.kill()
    expect(page.locator("main[data-live-mode=poll]")).to_have_count(1)
    night.channel.publish_url = None  # no engine to take it: the message is in the files only
    night.write("0329-missed.md", update("03:29", "Published while the page was away"))
    night.build()
    page.evaluate("window.__fail = true")
    night.server = start_nginx(night.site.out, old.runtime, port=old.port, publish_port=old.publish_port)
    try:
        expect(page.locator("main[data-live-mode=push]")).to_have_count(1)
        wait_in(page, "window.__heads.includes(503)")  # the catch-up as the channel opened: failed
        page.evaluate("window.__fail = false")
        page.clock.run_for(300_000)  # the longest back-off (MAX_DELAY in live.js)
        expect(page.locator('[data-stream] > article[id="0329-missed"]')).to_have_count(1)
        assert page.locator("main").get_attribute("data-live-mode") == "push"
        asked = page.evaluate("window.__heads.length")
        # Past a poll's interval, and short of the 2.5 ping intervals (37.5 s of the page's clock) after which a
        # stream that brought nothing is given up: nginx's pings come in real time, not in the clock run here.
        page.clock.run_for(VISIBLE_MS + 1000)
        page.wait_for_timeout(200)  # proving an absence takes a wait: any poll would have been sent by now
        assert page.evaluate("window.__heads.length") == asked, "in step and pushed to: the page polls no more"
    finally:
        page.close()  # before the server stops: its retries then are not what this tests
        night.server.stop()
        forgive_refusals(watched)


def test_the_preview_server_pushes_too(open_page: OpenPage, tmp_path: Path) -> None:
    """`countnight serve`: the watcher's channel offered by the preview server itself, no nginx."""
    from countnight.serve import PreviewServer

    root = copy_sample(tmp_path / "night")
    site = Site(root)
    channel = LiveChannel(site.out, local=True)
    site.outlets = (channel,)
    console = Console(io.StringIO(), verbosity=QUIET, colour=False)
    watcher = Watcher(site, console=console, quiet=0.03, clock=lambda: DURING_THE_NIGHT)
    watcher.start()
    server = PreviewServer(site.out, port=0, problems=watcher.outstanding, channel=channel)
    server.start()
    try:
        page = open_page(server.url).page
        page.goto(f"{server.url}index.html")
        expect(page.locator("main[data-live-mode=push]")).to_have_count(1)
        (root / "entries" / "0329-preview.md").write_text(update("03:29", "Pushed by the preview"))
        expect(page.locator('[data-stream] > article[id="0329-preview"]')).to_have_count(1)
        assert page.locator("main").get_attribute("data-live-mode") == "push"
    finally:
        watcher.stop()
        channel.close()
        server.stop()


# -- polling: conditional requests, back-off, hidden tabs, the floor, the end of coverage -------------


# Counts the page's polls of live/head.json in the page itself (Playwright's own events arrive late on a busy
# machine), and can make every request fail: window.__fail = true answers with a 503 without the network.
POLL_PROBE = """
window.__polls = [];
const realFetch = window.fetch.bind(window);
window.fetch = (url, options) => {
  const poll = {at: performance.now(), status: 0, url: String(url)};
  if (poll.url.includes("/live/head.json")) window.__polls.push(poll);
  const answer = window.__fail ? Promise.resolve(new Response("busy", {status: 503})) : realFetch(url, options);
  return answer.then((response) => { poll.status = response.status; return response; });
};
"""


def wait_in(page: Page, condition: str) -> None:
    """Wait until a JavaScript expression is true in the page (evaluated from outside: the CSP forbids eval)."""
    deadline = time.monotonic() + TIMEOUT
    while not page.evaluate(condition):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {TIMEOUT:g} s waiting for {condition}")
        page.wait_for_timeout(20)


def polls(page: Page) -> list[dict[str, Any]]:
    return page.evaluate("window.__polls")


def open_polling(open_page: OpenPage, night: Night, *scripts: str, suffix: str = "") -> Page:
    """The live page on a host without the channel, its clock under the test's control."""
    page = open_page(night.url).page
    for script in scripts:
        page.add_init_script(script)
    page.clock.install()
    page.goto(f"{night.url}index.html{suffix}")
    expect(page.locator("main[data-live-mode=poll]")).to_have_count(1)
    return page


def tick(page: Page, ms: int, polled: int) -> None:
    """Move the page's clock on by ``ms`` and wait for its polls to reach ``polled``."""
    page.clock.run_for(ms)
    wait_in(page, f"window.__polls.filter((p) => p.status).length >= {polled}")


def test_polls_fetch_only_the_small_head_and_stop_when_coverage_ends(open_page: OpenPage, static_night: Night) -> None:
    night = static_night
    page = open_polling(open_page, night, POLL_PROBE)
    wait_in(page, "window.__polls.filter((p) => p.status).length >= 1")
    for n in range(2, 5):
        tick(page, VISIBLE_MS, n)
    assert [p["status"] for p in polls(page)] == [200] * 4  # never a 304: nginx's validators are too coarse
    # An unchanged head (a few dozen bytes) is all a poll costs: live.json was fetched once, at the start.
    fetched = re.findall(r'"GET (/live[^ ]*) HTTP[^"]*" (\d+) (\d+)', (night.server.runtime / "access.log").read_text())
    assert [path for path, _, _ in fetched] == ["/live/head.json", "/live.json"] + ["/live/head.json"] * 3, fetched
    assert all(int(size) < 100 for path, _, size in fetched if path.endswith("head.json")), fetched

    night.build(AFTER_THE_NIGHT)
    tick(page, VISIBLE_MS, 5)
    expect(page.locator(".notice--ended")).to_contain_text("Coverage has ended")
    expect(page.locator("[data-label]")).to_have_text("Coverage ended")
    seen = len(polls(page))
    page.clock.run_for(10 * HIDDEN_MS)
    page.wait_for_timeout(200)  # proving an absence takes a wait: any poll would have been sent by now
    assert len(polls(page)) == seen, "the page kept polling after coverage ended"


def test_failed_polls_back_off_then_recover(open_page: OpenPage, static_night: Night) -> None:
    night = static_night
    page = open_polling(open_page, night, "window.__fail = true;" + POLL_PROBE)
    wait_in(page, "window.__polls.filter((p) => p.status).length >= 1")
    for n in range(1, 4):
        page.clock.run_for(VISIBLE_MS * 2**n)  # after n failures the next poll waits 10 s × 2^n
        wait_in(page, f"window.__polls.filter((p) => p.status).length >= {n + 1}")
    times = [p["at"] for p in polls(page)]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    for n, gap in enumerate(gaps[:3], 1):
        assert gap >= VISIBLE_MS * 2**n, gaps
    page.evaluate("window.__fail = false")
    page.clock.run_for(VISIBLE_MS * 2**4)
    wait_in(page, "window.__polls.some((p) => p.status === 200)")


def test_polls_slow_down_while_the_tab_is_hidden(open_page: OpenPage, static_night: Night) -> None:
    night = static_night
    page = open_polling(open_page, night, HIDDEN_PROBE + POLL_PROBE)
    wait_in(page, "window.__polls.filter((p) => p.status).length >= 1")
    page.evaluate("window.__hidden = true; document.dispatchEvent(new Event('visibilitychange'))")
    page.clock.run_for(VISIBLE_MS)  # the poll set while visible
    wait_in(page, "window.__polls.filter((p) => p.status).length >= 2")
    start = len(polls(page))
    for n in range(1, 4):
        page.clock.run_for(HIDDEN_MS)
        wait_in(page, f"window.__polls.filter((p) => p.status).length >= {start + n}")
    times = [p["at"] for p in polls(page)][start - 1 :]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert all(gap >= HIDDEN_MS for gap in gaps), gaps


FAST = {  # what a stranger or a theme can try, to make every reader's page hammer the origin
    "address": ("?poll=1", ""),
    "storage": ("", "for (const s of [localStorage, sessionStorage]) { for (const k of ['poll', 'countnight.poll',"
                " 'countnight-poll', 'interval']) s.setItem(k, '1'); }"),
    "theme": ("", ""),
}  # fmt: skip


@pytest.mark.parametrize("hidden", [False, True], ids=["visible", "hidden"])
@pytest.mark.parametrize("how", sorted(FAST))
def test_nothing_makes_a_page_poll_faster_than_the_floor(
    open_page: OpenPage, static_night: Night, how: str, hidden: bool
) -> None:
    """index.html?poll=1 once polled live.json 720 times in 5 s (a hidden tab every 3 ms). The requests are
    counted where they land, in nginx's access log, over real time (no clock is faked here)."""
    night = static_night
    suffix, script = FAST[how]
    if how == "theme":  # a theme (or a tampered copy) asking for 1 ms
        index = night.site.out / "index.html"
        html = index.read_text().replace('data-poll-visible="10000"', 'data-poll-visible="1"')
        index.write_text(html.replace('data-poll-hidden="30000"', 'data-poll-hidden="1"'))
    page = open_page(night.url).page
    page.add_init_script(script + (HIDDEN_PROBE + "window.__hidden = true;" if hidden else ""))
    log = night.server.runtime / "access.log"
    before = log.read_text().count("\n")
    page.goto(f"{night.url}index.html{suffix}")
    expect(page.locator("html.js")).to_have_count(1)  # live.js is running
    page.wait_for_timeout(2500)  # proving an absence takes a wait: half the floor
    lines = log.read_text().splitlines()[before:]
    polled = [line for line in lines if re.search(r'"GET /live(\.json|/head\.json)', line)]
    # The page's first look (the head, then live.json) and nothing more until the floor has passed.
    assert len(polled) <= 2, f"{len(polled)} polls in 2.5 s:\n" + "\n".join(polled[:10])


# -- static pages ----------------------------------------------------------------------------------


def test_the_page_is_complete_without_javascript(open_page: OpenPage, night: Night) -> None:
    page = open_page(night.url, width=375, java_script_enabled=False).page
    page.goto(f"{night.url}index.html")
    expect(page.get_by_role("link", name="Refresh for the latest")).to_be_visible()
    expect(page.locator("[data-new-updates]")).to_be_hidden()
    assert len(stream_ids(page)) == 20
    for heading in ("Seats", "Follow for updates from", "Key events", "Pinned", "Live updates"):
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Older updates")).to_be_visible()


def test_the_stream_comes_before_the_seats_on_phones_and_the_seats_beside_it_on_desktops(
    open_page: OpenPage, night: Night
) -> None:
    """Phones read the newest entries first (the seats, map and followed seats were 24,000 px on a national
    night); "All results" stays at the top, in the masthead."""
    page = open_page(night.url, java_script_enabled=False).page
    page.goto(f"{night.url}index.html")
    for width in (320, 375, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        seats = page.locator(".scoreboard").bounding_box()
        stream = page.locator(".stream").bounding_box()
        assert seats and stream
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{width}px: the page scrolls sideways by {overflow}px"
        if width < 960:
            assert stream["y"] < seats["y"], f"{width}px: the stream is not above the seats"
        else:
            assert seats["x"] >= stream["x"] + stream["width"] and seats["y"] < 400, "the seats are not beside it"


def test_older_pages_keep_their_addresses(open_page: OpenPage, night: Night) -> None:
    night.build(AFTER_THE_NIGHT)
    server = night.server

    def pages() -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for path in sorted((night.site.out / "page").glob("*.html")):
            html = server.body(f"page/{path.name}").decode()
            found[path.name] = re.findall(r'<article id="([^"]+)"', html)
        return found

    before = pages()
    assert len(before) >= 2
    for i in range(50):
        night.write(f"11{i:02d}-later.md", update(f"2024-07-05T11:{i:02d}:00+01:00", f"Later update {i}"))
    night.build()
    after = pages()
    *full, last = sorted(before, key=lambda name: int(name.split(".")[0]))
    for name in full:
        assert after[name] == before[name], f"page/{name} changed"
    assert set(before[last]) <= set(after[last])
    assert len(after) > len(before)

    page = open_page(night.url).page
    page.goto(f"{night.url}index.html")
    page.get_by_role("link", name="Older updates").first.click()
    expect(page).to_have_url(re.compile(rf"/page/{len(after)}\.html$"))
    page.get_by_role("link", name="Newer updates").first.click()
    expect(page).to_have_url(re.compile(r"/index\.html$"))


def test_a_head_rewritten_within_the_same_second_is_never_answered_not_modified(night: Night) -> None:
    """live/head.json rewritten at the same length with the same whole-second mtime (two builds in one second):
    whatever validator a page or a CDN revalidates with, nginx answers with the new head."""
    head = night.site.out / "live" / "head.json"
    first = night.server.get("live/head.json")
    seen = head.stat()
    night.write("0329-same-second.md", update("03:29", "In the same second"))
    night.build()
    assert head.stat().st_size == seen.st_size  # {"seq":1,...} then {"seq":2,...}
    os.utime(head, ns=(seen.st_atime_ns, seen.st_mtime_ns))
    tag = f'"{int(seen.st_mtime):x}-{seen.st_size:x}"'  # what nginx's ETag was (and would be again)
    for ask in ({}, {"If-None-Match": tag}, {"If-Modified-Since": first.header("Last-Modified") or ""}):
        reply = night.server.get("live/head.json", ask)
        assert reply.status == 200 and json.loads(reply.body)["seq"] == 2, (ask, reply)


def test_nginx_sends_the_promised_headers(night: Night) -> None:
    server = night.server
    for path in ("index.html", "page/1.html", "update/0216-cannock-chase-result.html", "atom.xml"):
        reply = server.get(path)
        assert reply.status == 200, path
        assert reply.header("Cache-Control") == "no-cache", path
        assert reply.header("Content-Security-Policy") == CSP, path
        assert reply.header("X-Content-Type-Options") == "nosniff", path
        etag, modified = reply.header("ETag"), reply.header("Last-Modified")
        assert etag and modified, path
        again = server.get(path, {"If-None-Match": etag})
        assert again.status == 304 and not again.body, path
        assert again.header("Cache-Control") == "no-cache", path
        assert again.header("Content-Security-Policy") == CSP, path
        assert server.get(path, {"If-Modified-Since": modified}).status == 304, path
    # The live channel's files are never "not modified": nginx's validators are too coarse for them.
    for path in ("live.json", "live/head.json", "live/1.json"):
        reply = server.get(path)
        assert reply.status == 200 and reply.header("Cache-Control") == "no-cache", path
        assert reply.header("Content-Security-Policy") == CSP, path
        assert reply.header("ETag") is None, path
        modified = reply.header("Last-Modified") or ""
        again = server.get(path, {"If-Modified-Since": modified})
        assert again.status == 200 and again.body == reply.body, path

    assert server.get("index.html").header("Content-Type") == "text/html; charset=utf-8"
    assert (server.get("live.json").header("Content-Type") or "").startswith("application/json")
    assert (server.get("atom.xml").header("Content-Type") or "").startswith("application/atom+xml")
    assets = re.findall(r'(?:href|src)="(assets/[^"]+)"', server.body("index.html").decode())
    assert {a.rsplit(".", 1)[1] for a in assets} == {"css", "js"}
    for path in ("index.html", "live.json", *assets):
        reply = server.get(path, {"Accept-Encoding": "gzip"})
        assert reply.status == 200 and reply.header("Content-Encoding") == "gzip", path
        assert "Accept-Encoding" in (reply.header("Vary") or ""), path
        if path in assets:
            assert reply.header("Cache-Control") == "public, max-age=31536000, immutable", path
            assert reply.header("Content-Security-Policy") == CSP, path
        else:
            assert reply.header("Cache-Control") == "no-cache", path
    live = server.get("live.json", {"Accept-Encoding": "gzip"})
    assert json.loads(gzip.decompress(live.body))["entries"]
    assert server.get(".countnight-manifest").status == 404
    missing = server.get("no-such-page.html")
    assert missing.status == 404 and missing.header("Cache-Control") == "no-cache"


# -- accessibility and screenshots, on one served copy of the finished night -------------------------


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nginx]:
    """The whole sample night, built after it ended, served by nginx (shared by the tests below)."""
    need(NGINX.exists(), f"nginx is not installed at {NGINX}")
    root = copy_sample(tmp_path_factory.mktemp("finished") / "night")
    site = Site(root)
    assert site.build(AFTER_THE_NIGHT).built
    server = start_nginx(site.out, root.parent / "nginx")
    yield server
    server.stop()


AXE_PAGES = ["index.html", "page/1.html", "update/0216-cannock-chase-result.html", "results.html"]


@pytest.mark.parametrize("width", [375, 1280])
@pytest.mark.parametrize("path", AXE_PAGES)
def test_no_accessibility_violations(open_page: OpenPage, finished: Nginx, path: str, width: int) -> None:
    """axe-core finds nothing at all, of any impact, on each kind of page at phone and desktop widths."""
    need(AXE.exists(), f"axe-core is not installed at {AXE}")
    page = open_page(finished.url, width=width, bypass_csp=True).page  # the CSP would refuse the injected axe
    page.goto(finished.url + path)
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    report = [
        f"{v['id']} ({v['impact']}): {v['help']} – {[n['target'] for n in v['nodes']][:5]}"
        for v in result["violations"]
    ]
    assert not result["violations"], "\n".join(report)


def test_the_hidden_new_updates_button_has_a_name(finished: Nginx) -> None:
    """Checkers that read hidden controls (pa11y's htmlcs) want the button named before the script fills it."""
    html = finished.body("index.html").decode()
    button = re.search(r"<button[^>]*data-new-updates[^>]*>([^<]*)</button>", html)
    assert button and button.group(1).strip(), "the new-updates button is empty in the served page"


def test_screenshots(open_page: OpenPage, finished: Nginx) -> None:
    """Phone and desktop screenshots of each kind of page, for people to look at (test-artifacts/)."""
    shots = [
        ("index.html", 375),
        ("index.html", 1280),
        ("page/1.html", 375),
        ("update/0216-cannock-chase-result.html", 375),
        ("update/0216-cannock-chase-result.html", 1280),
    ]
    for path, width in shots:
        page = open_page(finished.url, width=width).page
        page.goto(finished.url + path)
        name = path.replace("/", "-").removesuffix(".html")
        assert save_screenshot(page, f"{name}-{width}.png").stat().st_size > 10_000
