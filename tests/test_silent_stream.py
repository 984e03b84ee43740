"""A live channel that goes silent without closing: a proxy or a network holds the event stream open and lets
nothing through. The channel pings (nchan's keep-alive in deploy/nginx.conf, the same from `countnight serve`),
and the page gives up a stream that brought no byte for 2.5 ping intervals: it closes it, catches up from the
files, and subscribes again from the last message it had. Real nginx + nchan and the preview server, real
Chromium, a real TCP proxy on loopback that stalls the stream's connection (tests/tcp_proxy.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from conftest import DURING_THE_NIGHT, copy_sample
from countnight.channel import CHANNEL_PATH, PING, LiveChannel
from countnight.serve import PreviewServer
from countnight.site import Site

pytest.register_assert_rewrite("browser_support")
from browser_support import NGINX_CONF, TIMEOUT, Watched, start_nginx  # noqa: E402
from tcp_proxy import DelayingProxy  # noqa: E402

pytest_plugins = ["browser_support"]  # the browser fixtures
pytestmark = pytest.mark.browser
expect.set_options(timeout=TIMEOUT * 1000)

FAST = 1  # seconds between pings in these tests (15 as shipped): the page gives a stream up after 2.5 s
OpenPage = Callable[..., Watched]


def fast_pings(conf: str) -> str:
    """deploy/nginx.conf with nchan pinging every FAST seconds (and saying so in the ping)."""
    shipped = f"nchan_eventsource_ping_interval {PING};\n            nchan_eventsource_ping_data {PING};"
    assert shipped in conf, "deploy/nginx.conf's ping is not channel.PING"
    return conf.replace(shipped, shipped.replace(str(PING), str(FAST)))


@dataclass
class Live:
    """The sample night built with its channel, served through the proxy."""

    root: Path
    site: Site
    channel: LiveChannel
    proxy: DelayingProxy

    def publish(self, name: str, title: str) -> None:
        (self.root / "entries" / name).write_text(f'---\ntime: "03:29"\ntitle: {title}\n---\nWords.\n')
        report = self.site.build(DURING_THE_NIGHT)
        assert report.built and not report.problems, report.problems
        assert self.channel.flush(TIMEOUT)


def night(tmp_path: Path) -> tuple[Path, Site]:
    root = copy_sample(tmp_path / "night")
    return root, Site(root)


def with_channel(site: Site, publish_url: str | None) -> LiveChannel:
    """The channel plugged into the site as `serve` and `watch` plug it in, and a first build sent."""
    channel = LiveChannel(site.out, publish_url=publish_url, local=publish_url is None)
    site.outlets = (channel,)
    report = site.build(DURING_THE_NIGHT)
    assert report.built and channel.flush(TIMEOUT)
    return channel


@pytest.fixture
def through_nginx(tmp_path: Path) -> Iterator[Live]:
    """nginx + nchan with deploy/nginx.conf (pings every FAST s), behind the proxy."""
    root, site = night(tmp_path)
    server = start_nginx(site.out, tmp_path / "nginx", edit=fast_pings)
    channel = with_channel(site, server.publish_url)
    proxy = DelayingProxy(server.port).start()
    try:
        yield Live(root, site, channel, proxy)
    finally:
        channel.close()
        proxy.stop()
        server.stop()


@pytest.fixture
def through_preview(tmp_path: Path) -> Iterator[Live]:
    """`countnight serve`'s preview server and its own channel (pings every FAST s), behind the proxy."""
    root, site = night(tmp_path)
    channel = with_channel(site, None)
    server = PreviewServer(site.out, port=0, channel=channel, ping=FAST)
    server.start()
    proxy = DelayingProxy(int(server.server_address[1])).start()
    try:
        yield Live(root, site, channel, proxy)
    finally:
        channel.close()
        proxy.stop()
        server.stop()


def wait_for(what: str, condition: Callable[[], bool], page: Page) -> float:
    """Wait (with a deadline) until ``condition()``; the seconds it took."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > TIMEOUT:
            pytest.fail(f"timed out after {TIMEOUT:g} s waiting for {what}")
        page.wait_for_timeout(20)
    return time.monotonic() - started


def silent_stream_is_given_up(open_page: OpenPage, live: Live) -> float:
    """The seconds from the stall to the page's closing the stream (RELIABILITY.md has them: 2.25-2.49 s)."""
    proxy = live.proxy
    watched = open_page(proxy.url)
    page = watched.page
    page.goto(f"{proxy.url}/index.html")
    expect(page.locator("main[data-live-mode=push]")).to_have_count(1)
    live.publish("0329-first.md", "Pushed before the silence")  # the page then holds a message id to resume from
    expect(page.locator('[data-stream] > article[id="0329-first"]')).to_have_count(1)

    # A stream that pings is alive: six pings (over two of the page's 2.5-interval deadlines) and no new stream.
    pinged = proxy.pings
    wait_for("six pings", lambda: proxy.pings >= pinged + 6, page)
    assert sum(CHANNEL_PATH in line for line in proxy.requests) == 1, proxy.requests

    [stalled] = proxy.asked(CHANNEL_PATH)
    assert proxy.stall(CHANNEL_PATH) == 1  # open, and from now on nothing comes through it
    live.publish("0329-silent.md", "Published while the stream was silent")  # the engine has it; the page not
    took = wait_for("the page to give the silent stream up", lambda: stalled in proxy.hung_up, page)
    assert took > 1.0  # 2.5 intervals after the last ping, which came at most one interval before the stall
    expect(page.locator('[data-stream] > article[id="0329-silent"]')).to_have_count(1)  # caught up
    expect(page.locator("main[data-live-mode=push]")).to_have_count(1)  # and subscribed again
    again = [line for line in proxy.requests if CHANNEL_PATH in line][1:]
    assert again and all("last_event_id=" in line for line in again), again  # from the last message it had

    # Pushed again: the next entry comes through the new stream, with no poll for it.
    heads = sum("/live/head.json" in line for line in proxy.requests)
    live.publish("0330-after.md", "Pushed after the silence")
    expect(page.locator('[data-stream] > article[id="0330-after"]')).to_have_count(1)
    assert sum("/live/head.json" in line for line in proxy.requests) == heads
    page.close()
    return took


def test_a_silent_nchan_stream_is_given_up_caught_up_and_resumed(open_page: OpenPage, through_nginx: Live) -> None:
    assert silent_stream_is_given_up(open_page, through_nginx) < 2.5 * FAST + 5  # its deadline, and a loaded machine


def test_a_silent_preview_stream_is_given_up_caught_up_and_resumed(open_page: OpenPage, through_preview: Live) -> None:
    assert silent_stream_is_given_up(open_page, through_preview) < 2.5 * FAST + 5


def test_the_shipped_ping_says_its_interval_and_the_preview_pings_alike() -> None:
    """The page reads the interval from the ping's data: nginx's two lines must agree (as channel.PING)."""
    conf = NGINX_CONF.read_text()
    assert f"nchan_eventsource_ping_interval {PING};" in conf and f"nchan_eventsource_ping_data {PING};" in conf
