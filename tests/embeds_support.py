"""Fixtures for the embed tests in a real browser: a blog with embeds built and served by nginx with
deploy/nginx.conf (so with the Content-Security-Policy as a header), the live channel publishing to it.

Nothing leaves the machine: every request to a host other than the test's nginx is caught by the browser
context's route and answered with a small page of the test's own, a stand-in for the service's embed (a
request the Content-Security-Policy refused would never reach the route, so each one caught was also allowed
by it). Each stand-in tells its parent how tall its post is as that service's own embed does (X, Instagram,
Bluesky); the others say it in every one of those ways, which the page must ignore from them. A stand-in
may also keep asking its service for more (``Served.pinging``), as a live embed does, so a test can see the
frame really gone once the reader takes the choice back.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Locator, Page, Route

from browser_support import TIMEOUT, Nginx, Watched
from conftest import DURING_THE_NIGHT, write_blog
from countnight.channel import LiveChannel
from countnight.site import Site

OpenPage = Callable[..., Watched]
YOUTUBE = "https://youtu.be/dQw4w9WgXcQ"
POST = "https://x.com/ProfJaneGreen/status/1809167489123456789"
BLUESKY = "https://bsky.app/profile/jess.bsky.social/post/3kj2umze7zj2n"
INSTAGRAM = "https://www.instagram.com/p/C8xYz12AbCd/"
FACEBOOK = "https://www.facebook.com/bbcnews/posts/1234567890123456"
TIKTOK = "https://www.tiktok.com/@bbcnews/video/7387123456789012345"
STAND_IN = "<!doctype html><title>stand-in</title><p>A stand-in for the service's embed, served by the test.</p>"
DONE = "stand-in done"  # what a stand-in posts after its size messages: the page has handled those by then

# How tall each stand-in's post is, in the service's own message (the page's listener must read exactly this).
HEIGHT_SAID = {"platform.twitter.com": 612, "www.instagram.com": 901, "embed.bsky.app": 777}
NOT_HEEDED = 999  # what the stand-ins of services that send no size say, in every shape, to be ignored


def messages(height: int) -> dict[str, object]:
    """Each sizing service's message saying ``height``, as its embed posts it."""
    return {
        "platform.twitter.com": {
            "twttr.embed": {
                "id": "0",
                "jsonrpc": "2.0",
                "method": "twttr.private.resize",
                "params": [{"height": height, "width": 550}],
            }
        },
        "www.instagram.com": json.dumps({"type": "MEASURE", "details": {"height": height}}),
        "embed.bsky.app": {"height": height, "id": 1},
    }


def stand_in(host: str, ping: bool) -> str:
    said = messages(HEIGHT_SAID[host])[host] if host in HEIGHT_SAID else None
    posts = [said] if said is not None else list(messages(NOT_HEEDED).values())
    script = "".join(f"parent.postMessage({json.dumps(m)}, '*');" for m in posts)
    script += f"parent.postMessage({json.dumps(DONE)}, '*');"
    if ping:
        script += "var n = 0; setInterval(function () { fetch('/ping?n=' + (++n)); }, 25);"
    return f"{STAND_IN}<script>{script}</script>"


def entry(time: str, title: str, address: str) -> str:
    return f'---\ntime: "{time}"\ntitle: {title}\nembed: {address}\n---\nFrom the count.\n'


@dataclass
class Served:
    root: Path
    site: Site
    server: Nginx
    channel: LiveChannel
    caught: list[str] = field(default_factory=list)  # every request to another host, as the route caught it
    pinging: set[str] = field(default_factory=set)  # hosts whose stand-in keeps asking for more

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
            host = urlsplit(url).hostname or ""
            if urlsplit(url).path == "/ping":
                route.fulfill(status=204)
                return
            body = stand_in(host, host in self.pinging)
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=body)

        watched.page.context.route(lambda url: urlsplit(url).hostname != "127.0.0.1", elsewhere)
        return watched

    def wait_for(self, page: Page, url: str, times: int = 1) -> None:
        """Wait until the route has caught ``url`` ``times`` times (Playwright runs the route while it waits)."""
        self.wait_until(page, lambda: self.caught.count(url) >= times, f"a request to {url}")

    def wait_until(self, page: Page, ready: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + TIMEOUT
        while not ready():
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting for {what} (caught: {self.caught})")
            page.wait_for_timeout(20)

    def settle(self, watched: Watched) -> None:
        """The fixture checks that a page asked nothing of another host; here, the requests this test let the
        reader allow were its point (each asserted on): they leave the log once checked."""
        watched.requests[:] = [u for u in watched.requests if u.startswith(self.server.url)]


def serve_blog(tmp_path: Path, serve: Callable[[Path], Nginx], entries: dict[str, str]) -> Iterator[Served]:
    root = write_blog(tmp_path / "blog", entries)
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
