"""Embeds: the addresses an entry's ``embed:`` takes and refuses, the card a page shows (no request to the
service in it), and the frame origins the Content-Security-Policy allows. The browser's side is in
tests/test_embeds_browser.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import AFTER_THE_NIGHT, CONFIG, REPO, write_blog
from countnight.config import parse_config
from countnight.embeds import FRAME_ORIGINS, MAX_URL, PROVIDERS, REFERRER_POLICY, SANDBOX, Embed, parse_embed
from countnight.entries import parse_entry
from countnight.errors import InputError
from countnight.models import Context
from countnight.render import CSP, CSP_META, load_theme, render_entry
from countnight.site import Site
from countnight.views import make_view

GOOD: list[tuple[str, str, str, str, str | None]] = [
    # (address, provider, link, frame, handle)
    (
        "https://x.com/ProfJaneGreen/status/1809167489123456789",
        "x",
        "https://x.com/ProfJaneGreen/status/1809167489123456789",
        "https://platform.twitter.com/embed/Tweet.html?id=1809167489123456789&dnt=true",
        "@ProfJaneGreen",
    ),
    (
        "https://twitter.com/ProfJaneGreen/status/1809167489123456789?s=20&t=abc",
        "x",
        "https://x.com/ProfJaneGreen/status/1809167489123456789",
        "https://platform.twitter.com/embed/Tweet.html?id=1809167489123456789&dnt=true",
        "@ProfJaneGreen",
    ),
    (
        "https://mobile.twitter.com/bbcpolitics/status/99/photo/1",
        "x",
        "https://x.com/bbcpolitics/status/99",
        "https://platform.twitter.com/embed/Tweet.html?id=99&dnt=true",
        "@bbcpolitics",
    ),
    (
        "https://x.com/i/web/status/1809167489123456789",
        "x",
        "https://x.com/i/status/1809167489123456789",
        "https://platform.twitter.com/embed/Tweet.html?id=1809167489123456789&dnt=true",
        None,
    ),
    (
        "https://bsky.app/profile/jess.bsky.social/post/3kj2umze7zj2n",
        "bluesky",
        "https://bsky.app/profile/jess.bsky.social/post/3kj2umze7zj2n",
        "https://embed.bsky.app/embed/jess.bsky.social/app.bsky.feed.post/3kj2umze7zj2n",
        "@jess.bsky.social",
    ),
    (
        "https://bsky.app/profile/did:plc:ragtjsm2j2vknwkz3zp4oxrd/post/3kj2umze7zj2n",
        "bluesky",
        "https://bsky.app/profile/did:plc:ragtjsm2j2vknwkz3zp4oxrd/post/3kj2umze7zj2n",
        "https://embed.bsky.app/embed/did:plc:ragtjsm2j2vknwkz3zp4oxrd/app.bsky.feed.post/3kj2umze7zj2n",
        None,
    ),
    (
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=42s",
        "youtube",
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ",
        None,
    ),
    (
        "https://youtu.be/dQw4w9WgXcQ?si=xyz",
        "youtube",
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ",
        None,
    ),
    (
        "https://www.youtube.com/shorts/dQw4w9WgXcQ",
        "youtube",
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ",
        None,
    ),
    (
        "https://m.youtube.com/watch?feature=share&v=dQw4w9WgXcQ",
        "youtube",
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ",
        None,
    ),
    (
        "https://www.instagram.com/p/C8xYz12AbCd/",
        "instagram",
        "https://www.instagram.com/p/C8xYz12AbCd/",
        "https://www.instagram.com/p/C8xYz12AbCd/embed/?cr=1&v=14",
        None,
    ),
    (
        "https://www.instagram.com/reel/C8xYz12AbCd/?igsh=abc",
        "instagram",
        "https://www.instagram.com/reel/C8xYz12AbCd/",
        "https://www.instagram.com/reel/C8xYz12AbCd/embed/?cr=1&v=14",
        None,
    ),
    (
        "https://instagram.com/bbcnews/p/C8xYz12AbCd",
        "instagram",
        "https://www.instagram.com/p/C8xYz12AbCd/",
        "https://www.instagram.com/p/C8xYz12AbCd/embed/?cr=1&v=14",
        "@bbcnews",
    ),
    (
        "https://www.facebook.com/bbcnews/posts/1234567890123456",
        "facebook",
        "https://www.facebook.com/bbcnews/posts/1234567890123456",
        "https://www.facebook.com/plugins/post.php?href=https%3A%2F%2Fwww.facebook.com%2Fbbcnews%2Fposts%2F"
        "1234567890123456&show_text=true&width=500",
        "bbcnews",
    ),
    (
        "https://www.facebook.com/bbcnews/videos/987654321098765/",
        "facebook",
        "https://www.facebook.com/bbcnews/videos/987654321098765/",
        "https://www.facebook.com/plugins/video.php?href=https%3A%2F%2Fwww.facebook.com%2Fbbcnews%2Fvideos%2F"
        "987654321098765%2F&show_text=true&width=500",
        "bbcnews",
    ),
    (
        "https://www.facebook.com/watch/?v=987654321098765",
        "facebook",
        "https://www.facebook.com/watch/?v=987654321098765",
        "https://www.facebook.com/plugins/video.php?href=https%3A%2F%2Fwww.facebook.com%2Fwatch%2F%3Fv%3D"
        "987654321098765&show_text=true&width=500",
        None,
    ),
    (
        "https://www.tiktok.com/@scout2015/video/6718335390845095173",
        "tiktok",
        "https://www.tiktok.com/@scout2015/video/6718335390845095173",
        "https://www.tiktok.com/player/v1/6718335390845095173",
        "@scout2015",
    ),
]


@pytest.mark.parametrize(("address", "provider", "link", "frame", "handle"), GOOD, ids=[g[0][8:40] for g in GOOD])
def test_a_post_address_gives_its_card_and_the_service_s_embed(
    address: str, provider: str, link: str, frame: str, handle: str | None
) -> None:
    embed = parse_embed(address)
    assert (embed.provider, embed.url, embed.frame, embed.handle) == (provider, link, frame, handle)
    assert embed.frame.startswith(tuple(f"{origin}/" for origin in FRAME_ORIGINS))
    assert embed.service is PROVIDERS[provider]


HOSTILE: list[tuple[str, str]] = [
    ("javascript:alert(1)", "is not a web address"),
    ("JaVaScRiPt:alert(document.domain)//https://x.com/a/status/1", "is not a web address"),
    ("data:text/html,<script>alert(1)</script>", "is not a web address"),
    ("data:text/html;base64,PHNjcmlwdD4=", "is not a web address"),
    ("vbscript:msgbox", "is not a web address"),
    ("http://x.com/a/status/1", "must start with https://"),
    ("HTTPS://x.com/a/status/1", "must start with https://"),
    ("ftp://x.com/a/status/1", "is not a web address"),
    ("//x.com/a/status/1", "is not a web address"),
    ("https:x.com/a/status/1", "not a valid web address"),
    ("https:/x.com/a/status/1", "not a valid web address"),
    ("https:\\\\x.com/a/status/1", "not a valid web address"),
    ("https://x.com.evil.example/a/status/1", "x.com.evil.example is not a service countnight embeds"),
    ("https://evil.example/x.com/a/status/1", "evil.example is not a service countnight embeds"),
    ("https://evilx.com/a/status/1", "evilx.com is not a service countnight embeds"),
    ("https://x.com./a/status/1", "x.com. is not a service countnight embeds"),
    ("https://x.com@evil.example/a/status/1", "user name, password or port"),
    ("https://user:pass@x.com/a/status/1", "user name, password or port"),
    ("https://x.com:8443/a/status/1", "user name, password or port"),
    ("https://x.com:443/a/status/1", "user name, password or port"),
    ("https://x.com:/a/status/1", "user name, password or port"),
    ("https://[::1]/a/status/1", "user name, password or port"),
    ("https://127.0.0.1/a/status/1", "127.0.0.1 is not a service countnight embeds"),
    ("https://ẋ.com/a/status/1", "outside plain ASCII"),
    ("https://xn--x-ocb.com/a/status/1", "is not a service countnight embeds"),
    ("https://youtube.com\u200b/watch?v=dQw4w9WgXcQ", "outside plain ASCII"),
    ("https://x.com/a/status/1\n<script>", "control characters"),
    ("https://x.com/a/status/1 onmouseover=alert(1)", "spaces"),
    ('https://x.com/a/status/1"><script>alert(1)</script>', "is not the address of an X post"),
    ("https://x.com/" + "a" * 500, "characters; a post's address is under"),
    ("https://x.com/a/status/" + "9" * 30, "is not the address of an X post"),
    ("https://x.com/a", "is not the address of an X post (write https://x.com/NAME/status/NUMBER)"),
    ("https://x.com/a/status/12/../../evil", "is not the address of an X post"),
    ("https://x.com/this_handle_is_too_long/status/1", "is not the address of an X post"),
    ("https://t.co/abc123", "is a short link"),
    ("https://bsky.app/profile/jess.bsky.social", "is not the address of a Bluesky post"),
    ("https://bsky.app/profile/jess/post/3kj2umze7zj2n", "is not the address of a Bluesky post"),
    ("https://bsky.app/profile/jess.bsky.social/post/3kj2umze7zj2n/../x", "is not the address of a Bluesky post"),
    ("https://www.youtube.com/watch?v=short", "is not the address of a YouTube video"),
    ("https://www.youtube.com/watch?v=dQw4w9WgXcQ&v=aaaaaaaaaaa", "is not the address of a YouTube video"),
    ("https://www.youtube.com/watch?v=dQw4w9WgXc%22", "is not the address of a YouTube video"),
    ("https://www.youtube.com/watch?list=PL123", "is not the address of a YouTube video"),
    ("https://www.youtube.com/@bbcnews", "is not the address of a YouTube video"),
    ("https://youtu.be/dQw4w9WgXcQ/extra", "is not the address of a YouTube video"),
    ("https://www.instagram.com/bbcnews/", "is not the address of an Instagram post"),
    ("https://www.facebook.com/bbcnews", "is not the address of a Facebook post"),
    ("https://www.facebook.com/watch/?v=abc", "is not the address of a Facebook post"),
    ("https://www.facebook.com/plugins/post.php?href=https://evil.example", "is not the address of a Facebook post"),
    ("https://fb.watch/abc", "is a short link"),
    ("https://www.tiktok.com/@scout2015", "is not the address of a TikTok video"),
    ("https://vm.tiktok.com/ZMabc/", "is a short link"),
    ("https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ", "is not a service countnight embeds"),
    ("https://platform.twitter.com/embed/Tweet.html?id=1", "is not a service countnight embeds"),
    ("", "is empty"),
]


@pytest.mark.parametrize(("address", "message"), HOSTILE, ids=[f"{i}-{h[0][:30]}" for i, h in enumerate(HOSTILE)])
def test_a_hostile_or_malformed_address_is_refused_with_what_to_write(address: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_embed(address)
    said = str(caught.value)
    assert message in said, said
    assert len(said) < 400 and all(ch.isprintable() for ch in said), said  # cut short, controls shown escaped


def test_only_the_checked_parts_of_an_address_reach_the_page() -> None:
    """Whatever follows the id (a query, a fragment, tracking) is dropped: the link is rebuilt, not copied."""
    embed = parse_embed("https://x.com/a_b/status/123?ref=%22%3E%3Cscript%3E#frag")
    assert embed.url == "https://x.com/a_b/status/123"
    assert "script" not in embed.frame and "%" not in embed.frame
    assert len(parse_embed("https://youtu.be/dQw4w9WgXcQ?" + "a" * (MAX_URL - 40)).url) < 60


# -- in an entry -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def context() -> Context:
    return Context(parse_config(CONFIG.encode(), "countnight.toml").window)


def _entry(front: str) -> bytes:
    return f'---\ntime: "01:00"\ntitle: Watch the count\n{front}---\nBody.\n'.encode()


def test_an_entry_takes_one_address_or_a_list(context: Context) -> None:
    one = parse_entry(_entry("embed: https://youtu.be/dQw4w9WgXcQ\n"), "entries/a.md", context)
    assert [e.provider for e in one.embed or []] == ["youtube"]
    many = parse_entry(
        _entry("embed:\n  - https://youtu.be/dQw4w9WgXcQ\n  - https://x.com/a/status/1\n"), "entries/b.md", context
    )
    assert [e.provider for e in many.embed or []] == ["youtube", "x"]
    none = parse_entry(_entry(""), "entries/c.md", context)
    assert none.embed is None
    assert isinstance(many.embed and many.embed[0], Embed)


@pytest.mark.parametrize(
    ("front", "expected"),
    [
        (
            "embed: https://x.com.evil.example/a/status/1\n",
            "4: embed: 'https://x.com.evil.example/a/status/1': x.com.evil.example is not a service countnight "
            "embeds (X (Twitter), Bluesky, YouTube, Instagram, Facebook and TikTok)",
        ),
        (
            "embed:\n  - https://youtu.be/dQw4w9WgXcQ\n  - javascript:alert(1)\n",
            "6: embed[2]: 'javascript:alert(1)' is not a web address: give the post's https:// address",
        ),
        ("embed:\n", "4: embed: is empty: give the address of the post or video, or remove the line"),
        ("embed: []\n", "4: embed: the list is empty: give at least one address, or remove the line"),
        ("embed: {url: https://youtu.be/dQw4w9WgXcQ}\n", "4: embed: must be a list"),
        (
            "embed:\n" + "  - https://youtu.be/dQw4w9WgXcQ\n" * 11,
            "4: embed: at most 10 posts or videos an entry (make a second entry for the rest)",
        ),
        (
            "embed: http://www.youtube.com/watch?v=dQw4w9WgXcQ\n",
            "4: embed: 'http://www.youtube.com/watch?v=dQw4w9WgXcQ' must start with https:// (the services serve "
            "every post over https)",
        ),
    ],
    ids=["lookalike", "list-item", "blank", "empty-list", "mapping", "too-many", "http"],
)
def test_a_bad_embed_is_the_entry_s_error_with_its_line(context: Context, front: str, expected: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_entry(_entry(front), "entries/x.md", context)
    assert [str(p) for p in caught.value.problems] == [f"entries/x.md:{expected}"]


def test_a_summary_takes_no_embed(context: Context) -> None:
    text = b'---\nkind: summary\ntime: "01:00"\nembed: https://youtu.be/dQw4w9WgXcQ\n---\n- Labour ahead\n'
    with pytest.raises(InputError) as caught:
        parse_entry(text, "entries/s.md", context)
    assert [str(p) for p in caught.value.problems] == [
        "entries/s.md:4: embed: the summary box shows its text only: put the post in an update of its own"
    ]


def test_a_misspelt_field_name_suggests_embed(context: Context) -> None:
    with pytest.raises(InputError) as caught:
        parse_entry(_entry("embeds: https://youtu.be/dQw4w9WgXcQ\n"), "entries/x.md", context)
    assert [str(p) for p in caught.value.problems] == ["entries/x.md:4: embeds: unknown field (did you mean 'embed'?)"]


# -- on the page -----------------------------------------------------------------------------------


def _view(address: str) -> object:
    context = Context(parse_config(CONFIG.encode(), "countnight.toml").window)
    entry = parse_entry(_entry(f"embed: {address}\n"), "entries/watch.md", context)
    return make_view(entry, None, parse_config(CONFIG.encode(), "countnight.toml").timezone)


_ADDRESS = re.compile(r'(?<![\w-])(?:src|href|action|data|poster|srcset|content)="(https?:[^"]*)"')


@pytest.mark.parametrize("address", [g[0] for g in GOOD])
def test_the_card_names_the_service_and_loads_nothing_from_it(tmp_path: Path, address: str) -> None:
    theme = load_theme(tmp_path)
    html = render_entry(theme, _view(address))  # type: ignore[arg-type]
    embed = parse_embed(address)
    service = embed.service
    # Nothing that would load: no frame, script, image, stylesheet, font, preconnect or prefetch.
    for tag in ("<iframe", "<script", "<img", "<link", "<object", "<embed", "<video", "<audio", "<source", "style="):
        assert tag not in html, tag
    # The only addresses of the service are links a reader may follow, and the frame's, kept in a data attribute.
    assert {m for m in _ADDRESS.findall(html)} == {embed.url, service.privacy_url}
    assert f'data-embed-src="{embed.frame.replace("&", "&amp;")}"' in html
    assert (
        f'<a class="embed__link" href="{embed.url.replace("&", "&amp;")}" rel="noopener noreferrer nofollow">' in html
    )
    assert f"Allow {service.name} content?" in html
    assert "data-embed-consent hidden" in html  # shown by embed.js only: without JavaScript, the card is a link
    assert f"Remember my choice for {service.name}" in html
    if embed.handle:
        assert f'<span class="embed__who">{embed.handle}</span>' in html


def test_the_csp_allows_exactly_the_services_frames_and_embed_js_agrees() -> None:
    frames = re.search(r"frame-src ([^;]*)", CSP_META)
    assert frames and tuple(frames[1].split()) == FRAME_ORIGINS
    assert CSP.startswith(CSP_META) and "frame-ancestors 'none'" in CSP
    # Nothing else of theirs: scripts, styles, fonts and connections stay 'self'.
    for directive in ("script-src 'self'", "style-src 'self'", "font-src 'self'", "connect-src 'self'"):
        assert f"{directive};" in CSP_META
    nginx = (REPO / "deploy" / "nginx.conf").read_text()
    assert f'add_header Content-Security-Policy "{CSP}" always;' in nginx
    script = (REPO / "templates" / "assets" / "embed.js").read_text()
    # Each service's frame loads from its own origin only, and the footer names it as the consent step does.
    listed = re.search(r"var ORIGINS = \{(.*?)\};", script, re.S)
    assert listed and dict(re.findall(r'(\w+): "([^"]+)"', listed[1])) == {k: p.origin for k, p in PROVIDERS.items()}
    assert tuple(re.findall(r'"([^"]+)"', listed[1])) == FRAME_ORIGINS
    names = re.search(r"var NAMES = \{(.*?)\};", script, re.S)
    assert names and dict(re.findall(r'(\w+): "([^"]+)"', names[1])) == {k: p.name for k, p in PROVIDERS.items()}
    assert f'var SANDBOX = "{SANDBOX}";' in script
    assert f'var REFERRER = "{REFERRER_POLICY}";' in script
    assert "allow-top-navigation" not in SANDBOX and "allow-forms" not in SANDBOX


def test_every_page_with_entries_carries_embed_js_and_the_feed_leaves_the_consent_step_out(
    tmp_path: Path,
) -> None:
    root = write_blog(
        tmp_path / "blog",
        {
            "entries/0100-watch.md": '---\ntime: "01:00"\ntitle: Watch\nembed: https://youtu.be/dQw4w9WgXcQ\n---\nBody.\n'
        },
    )
    report = Site(root).build(AFTER_THE_NIGHT)
    assert report.built and not report.problems, report.problems
    site = root / "site"
    script = re.compile(r'<script src="(?:\.\./)?assets/embed\.[0-9a-f]{10}\.js" defer></script>')
    for page in ("index.html", "update/0100-watch.html"):
        assert script.search((site / page).read_text()), page
    assert "assets/embed." not in (site / "results.html").read_text()  # no entries there
    feed = (site / "atom.xml").read_text()
    assert "data-embed-src" in feed and "embed__link" in feed
    assert "Allow YouTube content?" not in feed and "data-embed-allow" not in feed
