"""Embedded frames sized as their services say, in a real browser (Chromium against nginx with the site's CSP).

X, Instagram and Bluesky tell their parent how tall the post is, each in its own message: X's
twttr.private.resize call, Instagram's MEASURE, Bluesky's {height}. The stand-ins (embeds_support.py) send
exactly those, so the frames take those heights; YouTube and TikTok keep their videos' shape and Facebook its
fixed height, whatever their frames say. Then the listener is put to the test with messages dispatched as
the browser would deliver them (a MessageEvent may name its origin and source): only a message from the very
frame it sizes, from that service's origin exactly, saying a sane number of pixels, is heeded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from countnight.embeds import PROVIDERS, parse_embed

pytest.register_assert_rewrite("browser_support", "embeds_support")
from browser_support import TIMEOUT, Nginx  # noqa: E402
from embeds_support import (  # noqa: E402
    BLUESKY,
    DONE,
    FACEBOOK,
    HEIGHT_SAID,
    INSTAGRAM,
    POST,
    TIKTOK,
    YOUTUBE,
    OpenPage,
    Served,
    entry,
    figure,
    frame_of,
    serve_blog,
)

pytest_plugins = ["browser_support"]
pytestmark = pytest.mark.browser
expect.set_options(timeout=TIMEOUT * 1000)

ADDRESSES = {
    "x": POST,
    "x2": "https://x.com/bbcpolitics/status/42",
    "bluesky": BLUESKY,
    "instagram": INSTAGRAM,
    "youtube": YOUTUBE,
    "facebook": FACEBOOK,
    "tiktok": TIKTOK,
}
MIN_HEIGHT, MAX_HEIGHT = 120, 3000  # embed.js's bounds
# Each sizing service's message, made in the page (so that NaN and Infinity survive), saying ``height``.
DISPATCH = """([ident, shape, height, origin, from]) => {
    const VALUES = {infinity: Infinity, nan: NaN, text: "600", none: null, object: {px: 600}};
    const h = typeof height === "string" ? VALUES[height] : height;
    const SHAPES = {
        x: {"twttr.embed": {id: "0", jsonrpc: "2.0", method: "twttr.private.resize", params: [{height: h, width: 550}]}},
        instagram: JSON.stringify({type: "MEASURE", details: {height: h}}),
        bluesky: {height: h, id: 1},
        garbage: "{not json",
    };
    const frameIn = (id) => document.querySelector(`article[id="${id}"] iframe`);
    const source = from === "window" ? window : frameIn(from || ident).contentWindow;
    window.dispatchEvent(new MessageEvent("message", {data: SHAPES[shape], origin, source}));
    return getComputedStyle(frameIn(ident)).height;
}"""


@pytest.fixture
def served(tmp_path: Path, serve: Callable[[Path], Nginx]) -> Iterator[Served]:
    entries = {
        f"entries/01{n:02d}-{key}.md": entry(f"01:{n:02d}", f"From {key}", address)
        for n, (key, address) in enumerate(ADDRESSES.items())
    }
    yield from serve_blog(tmp_path, serve, entries)


def ident(key: str) -> str:
    return f"01{list(ADDRESSES).index(key):02d}-{key}"


def dispatch(page: Page, key: str, shape: str, height: object, origin: str, source: str | None = None) -> str:
    """Dispatch a message to the page as from ``source``'s frame (default: the frame of ``key``), return the
    height of ``key``'s frame once it was handled (a dispatched event is handled before dispatch returns)."""
    frame = source if source in (None, "window") else ident(source)
    return str(page.evaluate(DISPATCH, [ident(key), shape, height, origin, frame]))


def origin(key: str) -> str:
    return PROVIDERS[key.rstrip("2")].origin


@pytest.fixture
def loaded(open_page: OpenPage, served: Served) -> Iterator[Page]:
    """The page with every embed allowed, each stand-in's own messages received and handled."""
    watched = served.open(open_page)
    page = watched.page
    page.goto(f"{served.server.url}index.html")
    expect(page.locator("[data-embed-consent]:not([hidden])")).to_have_count(len(ADDRESSES))
    # Heard after embed.js's own listener: once a frame's DONE is here, its size messages were handled.
    page.evaluate(
        f"""() => {{ window.heard = [];
            window.addEventListener("message", (e) => e.data === {DONE!r} && window.heard.push(e.origin)); }}"""
    )
    for key in ADDRESSES:
        figure(page, ident(key)).locator("[data-embed-allow]").click()
        expect(frame_of(page, ident(key))).to_have_attribute("src", parse_embed(ADDRESSES[key]).frame)
    for key in ADDRESSES:
        served.wait_for(page, parse_embed(ADDRESSES[key]).frame)
    served.wait_until(page, lambda: page.evaluate("window.heard.length") >= len(ADDRESSES), "every stand-in's messages")
    yield page
    served.settle(watched)


def test_each_frame_takes_the_height_its_service_says_or_keeps_its_services_shape(loaded: Page) -> None:
    page = loaded
    for key, host in (("x", "platform.twitter.com"), ("instagram", "www.instagram.com"), ("bluesky", "embed.bsky.app")):
        expect(frame_of(page, ident(key))).to_have_css("height", f"{HEIGHT_SAID[host]}px")
    expect(frame_of(page, ident("x2"))).to_have_css("height", f"{HEIGHT_SAID['platform.twitter.com']}px")
    # The others said 999 in every service's shape: not theirs to say. Fixed, or the video's shape.
    boxes = {key: frame_of(page, ident(key)).bounding_box() for key in ("facebook", "youtube", "tiktok")}
    assert all(boxes.values()), boxes
    facebook, youtube, tiktok = boxes["facebook"], boxes["youtube"], boxes["tiktok"]
    assert facebook and youtube and tiktok
    assert facebook["height"] == 36 * 16  # 36rem
    assert youtube["height"] == pytest.approx(youtube["width"] * 9 / 16, abs=1)
    assert tiktok["height"] == pytest.approx(tiktok["width"] * 16 / 9, abs=1)


@pytest.mark.parametrize("key", ["x", "instagram", "bluesky"])
def test_only_a_sane_height_from_that_very_frame_and_its_services_origin_is_heeded(loaded: Page, key: str) -> None:
    page = loaded
    right = origin(key)
    assert dispatch(page, key, key, 640, right) == "640px"
    wrong = "bluesky" if key != "bluesky" else "x"
    ignored: list[tuple[str, str, object, str, str | None]] = [  # what, shape, height, origin, source
        ("another origin", key, 700, "https://evil.example", None),
        ("another service's origin", key, 700, PROVIDERS["youtube"].origin, None),
        ("a look-alike origin", key, 700, right + ".evil.example", None),
        ("the origin over http", key, 700, right.replace("https:", "http:"), None),
        ("the page itself", key, 700, right, "window"),
        ("another service's frame", key, 700, right, "youtube"),
        ("a height as text", key, "text", right, None),
        ("no height", key, "none", right, None),
        ("a height that is an object", key, "object", right, None),
        ("NaN", key, "nan", right, None),
        ("infinity", key, "infinity", right, None),
        ("zero", key, 0, right, None),
        ("below zero", key, -5, right, None),
        ("an absurd height", key, 1e9, right, None),
        ("another service's shape", wrong, 700, right, None),
        ("garbled JSON", "garbage", 700, right, None),
    ]
    for what, shape, height, sender, source in ignored:
        said = dispatch(page, key, shape, height, sender, source)
        assert said == "640px", f"{what}: the frame became {said}"
    # Within bounds: the shortest and tallest frame a post may have.
    assert dispatch(page, key, key, 5000, right) == f"{MAX_HEIGHT}px"
    assert dispatch(page, key, key, 10, right) == f"{MIN_HEIGHT}px"
    assert dispatch(page, key, key, 480.6, right) == "481px"


def test_a_message_sizes_only_the_frame_that_sent_it(loaded: Page) -> None:
    page = loaded
    said = HEIGHT_SAID["platform.twitter.com"]
    assert dispatch(page, "x", "x", 500, origin("x"), source="x2") == f"{said}px"  # x2 spoke, not x
    expect(frame_of(page, ident("x2"))).to_have_css("height", "500px")


@pytest.mark.parametrize("key", ["youtube", "facebook", "tiktok"])
def test_services_that_send_no_size_keep_theirs_whatever_their_frames_say(loaded: Page, key: str) -> None:
    page = loaded
    before = frame_of(page, ident(key)).evaluate("(frame) => getComputedStyle(frame).height")
    for shape in ("x", "instagram", "bluesky"):
        assert dispatch(page, key, shape, 640, origin(key)) == before, shape
