"""Embeds in a real browser: Chromium (Playwright) against nginx serving the site with deploy/nginx.conf (so
with the Content-Security-Policy as a header), the live channel publishing to it.

No request reaches a service before the reader allows it: the request log of the page, its frames included,
shows none. Nothing leaves the machine either way: every request to a host other than the test's nginx is
caught by the browser context's route and answered with a small page of the test's own (a request the
Content-Security-Policy refused would never reach the route, so each one caught was also allowed by it).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Locator, Page, Route, expect

from conftest import DURING_THE_NIGHT, write_blog
from countnight.channel import LiveChannel
from countnight.embeds import REFERRER_POLICY, SANDBOX, parse_embed
from countnight.site import Site

pytest.register_assert_rewrite("browser_support")
from browser_support import TIMEOUT, Nginx, Watched  # noqa: E402

pytest_plugins = ["browser_support"]
pytestmark = pytest.mark.browser
expect.set_options(timeout=TIMEOUT * 1000)

OpenPage = Callable[..., Watched]
YOUTUBE = "https://youtu.be/dQw4w9WgXcQ"
POST = "https://x.com/ProfJaneGreen/status/1809167489123456789"
BLUESKY = "https://bsky.app/profile/jess.bsky.social/post/3kj2umze7zj2n"
STAND_IN = "<!doctype html><title>stand-in</title><p>A stand-in for the service's embed, served by the test.</p>"
# Bluesky's embed tells its parent how tall the post is; the stand-in does the same (its own page, with no CSP).
SAYS_HEIGHT = STAND_IN + "<script>parent.postMessage({height: 777}, '*');</script>"


def entry(time: str, title: str, address: str) -> str:
    return f'---\ntime: "{time}"\ntitle: {title}\nembed: {address}\n---\nFrom the count.\n'


@dataclass
class Served:
    root: Path
    site: Site
    server: Nginx
    channel: LiveChannel
    caught: list[str] = field(default_factory=list)  # every request to another host, as the route caught it

    def write(self, name: str, text: str) -> None:
        path = self.root / "entries" / name
        temp = path.with_name(f".{name}.tmp")
        temp.write_text(text)
        temp.replace(path)
        report = self.site.build(DURING_THE_NIGHT)
        assert report.built and not report.problems, report.problems
        assert self.channel.flush(TIMEOUT)

    def open(self, open_page: OpenPage, **options: object) -> Watched:
        """A page of the site in a fresh context, every request to another host caught and answered here."""
        watched = open_page(self.server.url, **options)

        def elsewhere(route: Route) -> None:
            url = route.request.url
            self.caught.append(url)
            body = SAYS_HEIGHT if urlsplit(url).hostname == "embed.bsky.app" else STAND_IN
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=body)

        watched.page.context.route(lambda url: urlsplit(url).hostname != "127.0.0.1", elsewhere)
        return watched

    def wait_for(self, page: Page, url: str, times: int = 1) -> None:
        """Wait until the route has caught ``url`` ``times`` times (Playwright runs the route while it waits)."""
        deadline = time.monotonic() + TIMEOUT
        while self.caught.count(url) < times:
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting for a request to {url} (caught: {self.caught})")
            page.wait_for_timeout(20)

    def settle(self, watched: Watched) -> None:
        """The fixture checks that a page asked nothing of another host; here, the requests this test let the
        reader allow were its point (each asserted on): they leave the log once checked."""
        watched.requests[:] = [u for u in watched.requests if u.startswith(self.server.url)]


@pytest.fixture
def served(tmp_path: Path, serve: Callable[[Path], Nginx]) -> Iterator[Served]:
    root = write_blog(
        tmp_path / "blog",
        {
            "entries/0105-video.md": entry("01:05", "The count on video", YOUTUBE),
            "entries/0110-post.md": entry("01:10", "A professor's view", POST),
        },
    )
    site = Site(root)
    server = serve(site.out)
    channel = LiveChannel(site.out, publish_url=server.publish_url)
    site.outlets = (channel,)
    report = site.build(DURING_THE_NIGHT)
    assert report.built and not report.problems and channel.flush(TIMEOUT), report.problems
    yield Served(root, site, server, channel)
    channel.close()


def figure(page: Page, ident: str) -> Locator:
    return page.locator(f'article[id="{ident}"] figure[data-embed]')


def frame_of(page: Page, ident: str) -> Locator:
    return page.locator(f'article[id="{ident}"] figure[data-embed] iframe')


def test_no_request_to_a_service_before_consent_and_its_sandboxed_frame_after(
    open_page: OpenPage, served: Served
) -> None:
    watched = served.open(open_page)
    page = watched.page
    page.goto(f"{served.server.url}index.html")
    expect(page.locator("[data-embed-consent]:not([hidden])")).to_have_count(2)  # embed.js asks, for each
    expect(page.locator("main[data-live-mode=push]")).to_have_count(1)
    expect(figure(page, "0105-video").locator(".embed__ask")).to_have_text("Allow YouTube content?")
    expect(figure(page, "0110-post").locator(".embed__ask")).to_have_text("Allow X content?")
    privacy = figure(page, "0110-post").locator(".embed__note a")
    expect(privacy).to_have_attribute("href", "https://x.com/en/privacy")
    assert watched.third_party() == [] and served.caught == []  # the page, its assets, live.json: nothing else
    assert page.locator("iframe").count() == 0

    figure(page, "0105-video").get_by_role("button", name="Accept and continue to YouTube").click()
    frame = frame_of(page, "0105-video")
    expected = parse_embed(YOUTUBE).frame
    expect(frame).to_have_attribute("src", expected)
    expect(frame).to_have_attribute("sandbox", SANDBOX)
    expect(frame).to_have_attribute("referrerpolicy", REFERRER_POLICY)
    expect(frame).to_have_attribute("title", "YouTube content")
    expect(figure(page, "0105-video").locator("[data-embed-consent]")).to_have_count(0)
    served.wait_for(page, expected)
    # Only that service was asked, once, for that frame; the other embed still waits for its own consent.
    assert served.caught == [expected], served.caught
    assert frame_of(page, "0110-post").count() == 0
    assert page.frame_locator('article[id="0105-video"] iframe').locator("p").inner_text().startswith("A stand-in")

    # Not remembered: after a reload the reader is asked again, and nothing is requested.
    page.reload()
    expect(page.locator("[data-embed-consent]:not([hidden])")).to_have_count(2)
    assert page.locator("iframe").count() == 0
    assert served.caught == [expected]
    assert page.evaluate("window.localStorage.getItem('countnight.embeds')") is None
    served.settle(watched)


def test_a_remembered_choice_applies_after_a_reload_and_to_entries_that_arrive_live(
    open_page: OpenPage, served: Served
) -> None:
    watched = served.open(open_page)
    page = watched.page
    page.goto(f"{served.server.url}index.html")
    expect(page.locator("main[data-live-mode=push]")).to_have_count(1)
    post = figure(page, "0110-post")
    post.get_by_label("Remember my choice for X").check()
    post.get_by_role("button", name="Accept and continue to X").click()
    tweet = parse_embed(POST).frame
    expect(frame_of(page, "0110-post")).to_have_attribute("src", tweet)
    assert page.evaluate("window.localStorage.getItem('countnight.embeds')") == '{"x":true}'

    page.reload()  # remembered: X loads at once; YouTube, never allowed, still asks and loads nothing
    expect(frame_of(page, "0110-post")).to_have_attribute("src", tweet)
    expect(figure(page, "0105-video").locator("[data-embed-consent]:not([hidden])")).to_have_count(1)
    assert frame_of(page, "0105-video").count() == 0
    served.wait_for(page, tweet, 2)

    # Entries the live channel brings: the remembered service loads by itself, the others ask, and their
    # consent buttons work on the inserted entries.
    served.write("0120-another-post.md", entry("01:20", "Another view", "https://x.com/bbcpolitics/status/42"))
    served.write("0125-bluesky.md", entry("01:25", "On Bluesky", BLUESKY))
    expect(page.locator('article[id="0125-bluesky"]')).to_have_count(1)
    expect(frame_of(page, "0120-another-post")).to_have_attribute(
        "src", parse_embed("https://x.com/bbcpolitics/status/42").frame
    )
    sky = figure(page, "0125-bluesky")
    expect(sky.locator("[data-embed-consent]:not([hidden])")).to_have_count(1)
    assert frame_of(page, "0125-bluesky").count() == 0
    assert not any("bsky" in url for url in served.caught), served.caught
    sky.get_by_role("button", name="Accept and continue to Bluesky").click()
    frame = frame_of(page, "0125-bluesky")
    expect(frame).to_have_attribute("src", parse_embed(BLUESKY).frame)
    expect(frame).to_have_attribute("sandbox", SANDBOX)
    served.wait_for(page, parse_embed(BLUESKY).frame)
    # The frame says how tall its post is, and only it is heeded: the page itself cannot make it 5,000 px.
    expect(frame).to_have_css("height", "777px")
    page.evaluate(  # messages are handled in order: once the second has come, the first has been handled
        """() => new Promise((done) => {
            window.addEventListener("message", (event) => event.data === "after" && done());
            window.postMessage({height: 5000}, "*");
            window.postMessage("after", "*");
        })"""
    )
    expect(frame).to_have_css("height", "777px")
    assert not any("youtube" in url for url in served.caught), served.caught
    served.settle(watched)


def test_without_javascript_an_embed_is_a_plain_link(open_page: OpenPage, served: Served) -> None:
    watched = served.open(open_page, java_script_enabled=False)
    page = watched.page
    page.goto(f"{served.server.url}update/0110-post.html")
    link = figure(page, "0110-post").locator("a.embed__link")
    expect(link).to_have_attribute("href", POST)
    expect(link).to_be_visible()
    expect(page.locator("[data-embed-consent]")).to_be_hidden()
    assert page.locator("iframe").count() == 0 and served.caught == [] and watched.third_party() == []
