"""Embeds in a real browser: Chromium (Playwright) against nginx serving the site with deploy/nginx.conf (so
with the Content-Security-Policy as a header), the live channel publishing to it.

No request reaches a service before the reader allows it: the request log of the page, its frames included,
shows none. Nothing leaves the machine either way: every request to a host other than the test's nginx is
caught by the browser context's route and answered with a small page of the test's own (embeds_support.py).
A choice the reader remembered is taken back on the page, and from then on the service is asked for nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from countnight.embeds import REFERRER_POLICY, SANDBOX, parse_embed

pytest.register_assert_rewrite("browser_support", "embeds_support")
from browser_support import TIMEOUT, Nginx  # noqa: E402
from embeds_support import (  # noqa: E402
    BLUESKY,
    POST,
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


@pytest.fixture
def served(tmp_path: Path, serve: Callable[[Path], Nginx]) -> Iterator[Served]:
    entries = {
        "entries/0105-video.md": entry("01:05", "The count on video", YOUTUBE),
        "entries/0110-post.md": entry("01:10", "A professor's view", POST),
    }
    yield from serve_blog(tmp_path, serve, entries)


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
    expect(figure(page, "0105-video").locator("[data-embed-consent]")).to_be_hidden()
    expect(frame).to_be_focused()  # the reader goes on to what the button loaded
    # Allowed once, not remembered: nothing to take back beside the frame, and nothing in the footer.
    assert figure(page, "0105-video").locator("[data-embed-forget]").count() == 0
    expect(page.locator("[data-embed-settings]")).to_be_hidden()
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


def note(time: str, title: str) -> str:
    return f'---\ntime: "{time}"\ntitle: {title}\n---\nFrom the count.\n'


def test_a_remembered_choice_is_taken_back_on_the_page_and_the_service_is_asked_for_nothing_more(
    open_page: OpenPage, served: Served
) -> None:
    served.write("0115-second-post.md", entry("01:15", "A second view", "https://x.com/bbcpolitics/status/42"))
    served.pinging.add("platform.twitter.com")  # X's stand-in keeps asking X for more while it is loaded
    tweets = [parse_embed(POST).frame, parse_embed("https://x.com/bbcpolitics/status/42").frame]
    pings = lambda: [u for u in served.caught if u.startswith("https://platform.twitter.com/ping")]  # noqa: E731
    watched = served.open(open_page)
    page = watched.page
    page.goto(f"{served.server.url}index.html")
    expect(page.locator("main[data-live-mode=push]")).to_have_count(1)
    expect(page.locator("[data-embed-settings]")).to_be_hidden()  # nothing remembered: nothing to list
    post = figure(page, "0110-post")
    post.get_by_label("Remember my choice for X").check()
    post.get_by_role("button", name="Accept and continue to X").click()

    page.reload()  # remembered: both X posts load at once, each with the button that takes the choice back
    for ident, tweet in (("0110-post", parse_embed(POST).frame), ("0115-second-post", tweets[1])):
        expect(frame_of(page, ident)).to_have_attribute("src", tweet)
        expect(figure(page, ident).get_by_role("button", name="Stop loading X content automatically")).to_be_visible()
    assert figure(page, "0105-video").locator("[data-embed-forget]").count() == 0  # YouTube: never allowed
    settings = page.locator("[data-embed-settings]")
    expect(settings).to_be_visible()
    expect(settings.get_by_role("heading", name="Embedded content settings")).to_be_visible()
    expect(settings.get_by_role("button")).to_have_text(["Stop loading X content automatically"])
    loaded = len(pings())
    served.wait_until(page, lambda: len(pings()) >= loaded + 3, "X's stand-in asking for more")  # it is live

    figure(page, "0115-second-post").get_by_role("button", name="Stop loading X content automatically").click()
    # Every X frame on the page is gone, the card and its consent step back in its place, the choice forgotten.
    expect(page.locator("iframe")).to_have_count(0)
    for ident in ("0110-post", "0115-second-post"):
        consent = figure(page, ident).locator("[data-embed-consent]")
        expect(consent).to_be_visible()
        expect(consent.get_by_label("Remember my choice for X")).not_to_be_checked()
        assert figure(page, ident).locator("[data-embed-forget]").count() == 0
    expect(figure(page, "0115-second-post").locator(".embed__ask")).to_be_focused()
    expect(settings.locator("[role=status]")).to_have_text("X content will no longer load without asking you first.")
    expect(settings.get_by_role("button")).to_have_count(0)
    assert page.evaluate("window.localStorage.getItem('countnight.embeds')") is None
    withdrawn = len(served.caught)

    # The service is asked for nothing more. A request already on its way when the frame went may still land
    # while the next entry comes live; after that, two more entries come and go with nothing asked of X.
    served.write("0120-note.md", note("01:20", "A note"))
    expect(page.locator('article[id="0120-note"]')).to_have_count(1)
    quiet = len(served.caught)
    served.write("0125-note.md", note("01:25", "Another note"))
    expect(page.locator('article[id="0125-note"]')).to_have_count(1)
    page.reload()  # forgotten for good: the cards stay, nothing loads
    expect(page.locator("main[data-live-mode=push]")).to_have_count(1)
    expect(page.locator("[data-embed-consent]:not([hidden])")).to_have_count(3)
    assert page.locator("iframe").count() == 0
    expect(page.locator("[data-embed-settings]")).to_be_hidden()
    assert not [u for u in served.caught[withdrawn:] if not u.startswith("https://platform.twitter.com/ping")]
    assert served.caught[quiet:] == [], served.caught[quiet:]

    # The footer takes a choice back too, from a page that shows that service's posts or not.
    post = figure(page, "0110-post")
    post.get_by_label("Remember my choice for X").check()
    post.get_by_role("button", name="Accept and continue to X").click()
    expect(frame_of(page, "0115-second-post")).to_have_count(1)
    page.goto(f"{served.server.url}update/0105-video.html")  # a share page with YouTube's video alone
    settings = page.locator("[data-embed-settings]")
    settings.get_by_role("button", name="Stop loading X content automatically").click()
    status = settings.locator("[role=status]")
    expect(status).to_be_focused()
    expect(status).to_have_text("X content will no longer load without asking you first.")
    expect(settings.locator(".embed-settings__intro")).to_have_text(
        "No service’s content loads without asking you first."
    )
    assert page.evaluate("window.localStorage.getItem('countnight.embeds')") is None
    page.goto(f"{served.server.url}index.html")
    expect(page.locator("[data-embed-consent]:not([hidden])")).to_have_count(3)
    assert page.locator("iframe").count() == 0
    served.settle(watched)


def test_a_choice_taken_back_in_another_tab_takes_that_services_frames_away_there_too(
    open_page: OpenPage, served: Served
) -> None:
    watched = served.open(open_page)
    first = watched.page
    first.goto(f"{served.server.url}index.html")
    post = figure(first, "0110-post")
    post.get_by_label("Remember my choice for X").check()
    post.get_by_role("button", name="Accept and continue to X").click()
    expect(frame_of(first, "0110-post")).to_have_count(1)

    second = first.context.new_page()  # another tab of the same browser: the same storage
    second.goto(f"{served.server.url}index.html")
    expect(frame_of(second, "0110-post")).to_have_attribute("src", parse_embed(POST).frame)
    figure(second, "0105-video").get_by_role("button", name="Accept and continue to YouTube").click()  # once
    expect(frame_of(second, "0105-video")).to_have_count(1)
    expect(second.locator("[data-embed-settings]").get_by_role("button")).to_have_count(1)

    first.locator("[data-embed-settings]").get_by_role("button", name="Stop loading X content automatically").click()
    expect(frame_of(first, "0110-post")).to_have_count(0)
    # The other tab hears it from storage: its X frame goes, its settings empty; YouTube, allowed there once, stays.
    expect(frame_of(second, "0110-post")).to_have_count(0)
    expect(figure(second, "0110-post").locator("[data-embed-consent]")).to_be_visible()
    expect(second.locator("[data-embed-forget]")).to_have_count(0)
    expect(frame_of(second, "0105-video")).to_have_count(1)
    second.close()
    served.settle(watched)
