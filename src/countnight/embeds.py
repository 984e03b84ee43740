"""Posts and videos from social and video services, named by their address in an entry's ``embed:``.

An address is read strictly, as an attacker would write one: ``https`` only, one of the hosts each service
really uses (exactly: ``x.com.evil.example`` and ``x.com.`` are not ``x.com``), no user name, password or port,
plain ASCII, a path of a shape the service gives its posts, and each id matched by its own pattern. What is
kept is rebuilt from those parts alone (the link to the post, the address of the service's own embed), never
copied from what was typed, so nothing of a hostile address can reach a page.

The page shows a card made from the address (the service, the account where the address names it, a link)
and asks nothing of the service until the reader allows it (templates/partials/embed.html and
assets/embed.js): then the service's documented embed address loads in a sandboxed frame, from one of
``FRAME_ORIGINS``, which render.CSP allows as frame sources and nothing else. A choice the reader asked to
remember is taken back on the page (a button under each frame, and the footer's "Embedded content settings"),
which removes that service's frames; frames take the height their service's own messages say, from that
frame and that origin alone, or keep a fixed size by service (assets/style.css).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qsl, quote, urlsplit

from pydantic import BaseModel, ConfigDict

# Longer than any real post address (a Bluesky post with a long handle and record key is ~150 characters), short
# enough that an address pasted with a whole page after it is refused and shown cut.
MAX_URL = 400
_SHOWN = 80

ProviderName = Literal["x", "bluesky", "youtube", "instagram", "facebook", "tiktok"]


@dataclass(frozen=True)
class Provider:
    """A service, as the consent step names it."""

    key: ProviderName
    name: str  # "YouTube": "Allow YouTube content?"
    privacy_url: str  # its privacy policy, linked from the consent step
    origin: str  # where its embeds load from: the CSP's frame-src allows exactly these
    what: str  # "post" or "video", for the card's words


PROVIDERS: dict[str, Provider] = {
    p.key: p
    for p in (
        Provider("x", "X", "https://x.com/en/privacy", "https://platform.twitter.com", "post"),
        Provider(
            "bluesky", "Bluesky", "https://bsky.social/about/support/privacy-policy", "https://embed.bsky.app", "post"
        ),
        Provider(
            "youtube", "YouTube", "https://policies.google.com/privacy", "https://www.youtube-nocookie.com", "video"
        ),
        Provider(
            "instagram", "Instagram", "https://privacycenter.instagram.com/policy", "https://www.instagram.com", "post"
        ),
        Provider(
            "facebook", "Facebook", "https://www.facebook.com/privacy/policy/", "https://www.facebook.com", "post"
        ),
        Provider(
            "tiktok",
            "TikTok",
            "https://www.tiktok.com/legal/page/eea/privacy-policy/en",
            "https://www.tiktok.com",
            "video",
        ),
    )
}
FRAME_ORIGINS = tuple(p.origin for p in PROVIDERS.values())
# The frame's sandbox: scripts and its own origin (every one of these players needs both: storage, its API),
# and pop-ups that escape the sandbox, so "open on X" opens X as a normal tab. No top navigation (a frame can
# never take the reader's page away), no forms, no modals, no downloads, no pointer lock.
SANDBOX = "allow-scripts allow-same-origin allow-popups allow-popups-to-escape-sandbox"
# The frame learns which site it is on (YouTube refuses a player without it: "Error 153"), never which page.
REFERRER_POLICY = "strict-origin"
FRAME_ALLOW = {"youtube": "fullscreen; picture-in-picture; encrypted-media", "tiktok": "fullscreen; encrypted-media"}

_HOSTS: dict[str, ProviderName] = {
    "x.com": "x",
    "www.x.com": "x",
    "mobile.x.com": "x",
    "twitter.com": "x",
    "www.twitter.com": "x",
    "mobile.twitter.com": "x",
    "bsky.app": "bluesky",
    "www.youtube.com": "youtube",
    "youtube.com": "youtube",
    "m.youtube.com": "youtube",
    "youtu.be": "youtube",
    "www.instagram.com": "instagram",
    "instagram.com": "instagram",
    "www.facebook.com": "facebook",
    "facebook.com": "facebook",
    "m.facebook.com": "facebook",
    "www.tiktok.com": "tiktok",
    "tiktok.com": "tiktok",
    "m.tiktok.com": "tiktok",
}
# Short links name no post: the service redirects them, and following one would be a request to it.
_SHORT = {"t.co", "fb.watch", "vm.tiktok.com", "vt.tiktok.com", "instagr.am", "go.bsky.app"}

_X_HANDLE = r"[A-Za-z0-9_]{1,15}"
_DIGITS = r"[0-9]{1,20}"
_X_PATH = re.compile(
    rf"/(?:(?P<handle>{_X_HANDLE})|i(?:/web)?)/status(?:es)?/(?P<id>{_DIGITS})(?:/(?:photo|video)/[1-4])?/?"
)
# A handle is a domain name (atproto: at most 253 characters, labels of up to 63); a DID is did:plc or did:web.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_BSKY_HANDLE = rf"(?:{_LABEL}\.)+[A-Za-z](?:[A-Za-z0-9-]{{0,61}}[A-Za-z0-9])?"
_BSKY_DID = rf"did:plc:[a-z2-7]{{24}}|did:web:{_BSKY_HANDLE}"
_BSKY_PATH = re.compile(rf"/profile/(?P<who>{_BSKY_DID}|{_BSKY_HANDLE})/post/(?P<id>[a-z2-7]{{13}})/?")
_YT_ID = r"[A-Za-z0-9_-]{11}"
_YT_PATH = re.compile(rf"/(?:shorts|live|embed)/(?P<id>{_YT_ID})/?")
_YT_SHORT_PATH = re.compile(rf"/(?P<id>{_YT_ID})/?")
_IG_PATH = re.compile(r"/(?:(?P<handle>[A-Za-z0-9._]{1,30})/)?(?P<kind>p|reels?|tv)/(?P<id>[A-Za-z0-9_-]{5,40})/?")
_FB_NAME = r"[A-Za-z0-9.]{1,50}"
_FB_POST = re.compile(rf"/(?P<handle>{_FB_NAME})/posts/(?P<id>[0-9]{{1,25}}|pfbid[A-Za-z0-9]{{10,80}})/?")
_FB_VIDEO = re.compile(rf"/(?P<handle>{_FB_NAME})/videos/(?:[A-Za-z0-9-]{{1,100}}/)?(?P<id>[0-9]{{1,25}})/?")
_FB_REEL = re.compile(r"/reel/(?P<id>[0-9]{1,25})/?")
_FB_WATCH = re.compile(r"/watch/?")
_TT_PATH = re.compile(r"/@(?P<handle>[A-Za-z0-9_.]{2,24})/video/(?P<id>[0-9]{1,20})/?")
_PRINTABLE = re.compile(r"[!-~]+")  # visible ASCII: no spaces, controls or anything a browser would normalise

_SHAPES = {
    "x": "https://x.com/NAME/status/NUMBER",
    "bluesky": "https://bsky.app/profile/HANDLE/post/ID",
    "youtube": "https://www.youtube.com/watch?v=ID, https://youtu.be/ID or https://www.youtube.com/shorts/ID",
    "instagram": "https://www.instagram.com/p/ID/ or https://www.instagram.com/reel/ID/",
    "facebook": "https://www.facebook.com/NAME/posts/ID, https://www.facebook.com/NAME/videos/NUMBER "
    "or https://www.facebook.com/watch/?v=NUMBER",
    "tiktok": "https://www.tiktok.com/@NAME/video/NUMBER",
}


class Embed(BaseModel):
    """A post or video, as the page shows it: every address here is rebuilt from checked parts."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    provider: ProviderName
    url: str  # the post on the service, for the card's link (and the page without JavaScript)
    frame: str  # the service's embed address, loaded in the sandboxed frame once the reader allows it
    handle: str | None = None  # the account, where the address names it ("@jess", "jess.bsky.social")
    video: bool = False

    @property
    def service(self) -> Provider:
        return PROVIDERS[self.provider]


def _shown(text: str) -> str:
    """An address as an error message quotes it: cut short, control characters escaped."""
    cut = text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"
    return cut.encode("unicode_escape").decode("ascii")  # "\n", "\u200b": seen, never acted on


def parse_embed(text: str) -> Embed:
    """An address → the post it names; ValueError saying what is wrong and what to write instead."""
    address = text.strip()
    if not address:
        raise ValueError("is empty: give the address of the post or video (https://…)")
    if len(address) > MAX_URL:
        raise ValueError(f"the address is {len(address):,} characters; a post's address is under {MAX_URL}")
    if not _PRINTABLE.fullmatch(address):
        raise ValueError(
            f"'{_shown(address)}' has spaces, control characters or letters outside plain ASCII: "
            "copy the post's address from the service's Share button"
        )
    scheme, sep, _ = address.partition(":")
    if not sep or scheme.lower() not in ("https", "http"):
        raise ValueError(f"'{_shown(address)}' is not a web address: give the post's https:// address")
    if scheme != "https":
        raise ValueError(f"'{_shown(address)}' must start with https:// (the services serve every post over https)")
    try:
        parts = urlsplit(address)
        port = parts.port
    except ValueError:
        raise ValueError(f"'{_shown(address)}' is not a valid web address") from None
    if "@" in parts.netloc or port is not None or ":" in parts.netloc:
        raise ValueError(
            f"'{_shown(address)}' has a user name, password or port before the host: give the post's own address"
        )
    if not address.startswith("https://") or "\\" in address:
        raise ValueError(f"'{_shown(address)}' is not a valid web address: it must start with https://")
    host = parts.netloc.lower()
    if host in _SHORT:
        raise ValueError(
            f"'{_shown(address)}' is a short link: open it and give the full address of the post it leads to"
        )
    provider = _HOSTS.get(host)
    if provider is None:
        known = "X (Twitter), Bluesky, YouTube, Instagram, Facebook and TikTok"
        raise ValueError(f"'{_shown(address)}': {host or 'no host'} is not a service countnight embeds ({known})")
    embed = _READERS[provider](host, parts.path, parts.query)
    if embed is None:
        service = PROVIDERS[provider]
        article = "an" if service.name[0] in "AEIOX" else "a"
        raise ValueError(
            f"'{_shown(address)}' is not the address of {article} {service.name} {service.what} "
            f"(write {_SHAPES[provider]})"
        )
    return embed


def _query(query: str, name: str) -> str | None:
    values = [value for key, value in parse_qsl(query, keep_blank_values=True) if key == name]
    return values[0] if len(values) == 1 else None


def _x(host: str, path: str, query: str) -> Embed | None:
    match = _X_PATH.fullmatch(path)
    if match is None:
        return None
    handle, ident = match["handle"], match["id"]
    if handle is not None and handle.lower() in ("i", "home", "search", "settings", "explore"):
        handle = None
    url = f"https://x.com/{handle}/status/{ident}" if handle else f"https://x.com/i/status/{ident}"
    frame = f"https://platform.twitter.com/embed/Tweet.html?id={ident}&dnt=true"
    return Embed(provider="x", url=url, frame=frame, handle=f"@{handle}" if handle else None)


def _bluesky(host: str, path: str, query: str) -> Embed | None:
    match = _BSKY_PATH.fullmatch(path)
    if match is None or len(match["who"]) > 253:
        return None
    who, ident = match["who"], match["id"]
    handle = None if who.startswith("did:") else who.lower()
    url = f"https://bsky.app/profile/{handle or who}/post/{ident}"
    frame = f"https://embed.bsky.app/embed/{handle or who}/app.bsky.feed.post/{ident}"
    return Embed(provider="bluesky", url=url, frame=frame, handle=f"@{handle}" if handle else None)


def _youtube(host: str, path: str, query: str) -> Embed | None:
    ident: str | None = None
    if host == "youtu.be":
        match = _YT_SHORT_PATH.fullmatch(path)
        ident = match["id"] if match else None
    elif path in ("/watch", "/watch/"):
        ident = _query(query, "v")
        if ident is not None and not re.fullmatch(_YT_ID, ident):
            ident = None
    elif match := _YT_PATH.fullmatch(path):
        ident = match["id"]
    if ident is None:
        return None
    url = f"https://www.youtube.com/watch?v={ident}"
    return Embed(provider="youtube", url=url, frame=f"https://www.youtube-nocookie.com/embed/{ident}", video=True)


def _instagram(host: str, path: str, query: str) -> Embed | None:
    match = _IG_PATH.fullmatch(path)
    if match is None:
        return None
    kind = "reel" if match["kind"].startswith("reel") else match["kind"]
    ident = match["id"]
    handle = match["handle"]
    url = f"https://www.instagram.com/{kind}/{ident}/"
    # cr=1 asks the embed to tell its parent its height (MEASURE messages), as Instagram's own embed.js asks.
    frame = f"https://www.instagram.com/{kind}/{ident}/embed/?cr=1&v=14"
    return Embed(provider="instagram", url=url, frame=frame, handle=f"@{handle}" if handle else None)


def _facebook(host: str, path: str, query: str) -> Embed | None:
    handle: str | None = None
    if match := _FB_POST.fullmatch(path):
        handle = match["handle"]
        url, plugin = f"https://www.facebook.com/{handle}/posts/{match['id']}", "post"
    elif match := _FB_VIDEO.fullmatch(path):
        handle = match["handle"]
        url, plugin = f"https://www.facebook.com/{handle}/videos/{match['id']}/", "video"
    elif match := _FB_REEL.fullmatch(path):
        url, plugin = f"https://www.facebook.com/reel/{match['id']}", "video"
    elif _FB_WATCH.fullmatch(path) and (ident := _query(query, "v")) and re.fullmatch(r"[0-9]{1,25}", ident):
        url, plugin = f"https://www.facebook.com/watch/?v={ident}", "video"
    else:
        return None
    if handle is not None and handle.lower() in ("watch", "reel", "share", "groups", "events", "plugins"):
        return None
    frame = f"https://www.facebook.com/plugins/{plugin}.php?href={quote(url, safe='')}&show_text=true&width=500"
    return Embed(provider="facebook", url=url, frame=frame, handle=handle, video=plugin == "video")


def _tiktok(host: str, path: str, query: str) -> Embed | None:
    match = _TT_PATH.fullmatch(path)
    if match is None:
        return None
    handle, ident = match["handle"], match["id"]
    url = f"https://www.tiktok.com/@{handle}/video/{ident}"
    # The Embed Player (developers.tiktok.com/doc/embed-player): a plain frame, no script of TikTok's on the page.
    frame = f"https://www.tiktok.com/player/v1/{ident}"
    return Embed(provider="tiktok", url=url, frame=frame, handle=f"@{handle}", video=True)


_READERS = {
    "x": _x,
    "bluesky": _bluesky,
    "youtube": _youtube,
    "instagram": _instagram,
    "facebook": _facebook,
    "tiktok": _tiktok,
}
