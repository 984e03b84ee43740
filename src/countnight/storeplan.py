"""What goes to the object store, with which headers, and in which order (pure: no network, no disk).

The order rule (issue 19): nothing a reader can load may name an object that is not yet in the store.
Every page names others (a share page links the index and its older page, the index links share pages and
assets), so the order is worked out from what each file actually names: a file goes up only after every
file it names that the store does not hold yet, and ``live.json`` and ``index.html``, the way in, last.
Files whose waits are over go up together, whatever their kind. Deletions come after every upload of the
batch. Only new files can name each other (a first upload's index and share pages, a new older page and
its new share pages); then the kinds decide: assets, share pages, older pages, results, the feed.
"""

from __future__ import annotations

import functools
import gzip
import json
import posixpath
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

# Hashed assets and made pictures never change under their name (render.py names them NAME.<10 hex>.EXT, and
# picturemake.py the same), nor do share cards (sharecards.py names them by what they show: cards/<20 hex>.png).
_HASHED = re.compile(r"^(?:(?:assets|media)/[^/]+\.[0-9a-f]{10}\.[A-Za-z0-9]+|cards/[0-9a-f]{20}\.png)$")
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".xml": "application/atom+xml; charset=utf-8",
    ".svg": "image/svg+xml; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".gif": "image/gif",
    ".avif": "image/avif",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
}
_TEXT = (".html", ".css", ".js", ".json", ".xml", ".svg", ".txt")
# What open pages poll and the way in: a CDN may keep them max_age seconds, never serve them staler
# (must-revalidate: RFC 9111 5.2.2.2). Other pages may be served stale for a while as the CDN fetches the new one
# (stale-while-revalidate, RFC 5861, honoured by CloudFront, Fastly and Cloudflare).
# The live channel's head (channel.py writes live/head.json and live/SEQ.json into the output folder): pages
# poll it, then fetch the message it names, so it is a way in like live.json, and goes after that message.
CHANNEL_HEAD = "live/head.json"
_LIVE = frozenset({"index.html", "live.json", CHANNEL_HEAD})
_WAY_IN = (CHANNEL_HEAD, "live.json", "index.html")  # the last wave, in this order when they must not go together
IMMUTABLE = "public, max-age=31536000, immutable"
# href="…", src="…", content="…" (og:image, og:url: only absolute ones count there, as other meta tags hold
# plain words), and the same inside JSON strings (live.json's fragments: \"). One pattern per attribute: each
# begins with a literal the regular expression engine finds quickly, where one pattern of three alternatives
# scanned a 10,000-entry index (800 KB) three times slower.
_REFERENCES = tuple(
    (attribute == b"content", re.compile(rb'%s=\\?"([^"\\]*)\\?"' % attribute))
    for attribute in (b"href", b"src", b"content")
)
# srcset="a.480.webp 480w, a.960.webp 960w" (a picture's files, partials/figure.html): each address in it.
_SRCSET = re.compile(rb'srcset=\\?"([^"\\]*)\\?"')


@dataclass(frozen=True)
class ObjectMeta:
    """The HTTP headers an object is stored with (S3 serves them back to readers and to the CDN)."""

    content_type: str
    cache_control: str
    content_encoding: str | None = None


def is_site_file(name: str) -> bool:
    """Whether a path of the output folder is published: not the writer's temp files and manifest, not
    anything hidden (a dot-file or dot-folder a reader was never meant to load)."""
    return bool(name) and not any(part.startswith(".") or not part for part in name.split("/"))


def object_meta(name: str, *, max_age: int = 10, compress: bool = False) -> ObjectMeta:
    """Content-Type with its charset, Cache-Control by kind, and Content-Encoding when sent gzipped."""
    extension = posixpath.splitext(name)[1].lower()
    content_type = _TYPES.get(extension, "application/octet-stream")
    if _HASHED.match(name):
        cache = IMMUTABLE
    elif name in _LIVE:
        cache = f"public, max-age={max_age}, must-revalidate"
    else:
        cache = f"public, max-age={max_age}, stale-while-revalidate={max_age * 6}"
    encoding = "gzip" if compress and extension in _TEXT else None
    return ObjectMeta(content_type, cache, encoding)


def body(data: bytes, meta: ObjectMeta) -> bytes:
    """The bytes to store: gzipped (with no timestamp, so the same page gives the same object) when
    ``meta`` says so."""
    return gzip.compress(data, compresslevel=6, mtime=0) if meta.content_encoding == "gzip" else data


def references(name: str, data: bytes, base_url: str | None = None) -> set[str]:
    """The site's own files ``name`` names (links, scripts, stylesheets, og:image), as paths of the site.

    Relative addresses are taken from ``name``'s folder; a JSON file's from the top, wherever it is, since
    its fragments go into the index (``live.json``, and the live channel's messages ``live/N.json``, which
    the publisher had read from ``live/`` and so held back for links to nothing). Absolute addresses count
    only when they start with ``base_url``. Anchors, queries, other sites and anything outside the site are
    left out; so is ``name`` itself.
    """
    if name == CHANNEL_HEAD:
        return _message_named(data)
    found: set[str] = set()
    folder = "" if name.endswith(".json") else posixpath.dirname(name)
    addresses = [(content, raw) for content, pattern in _REFERENCES for raw in pattern.findall(data)]
    if b"srcset=" in data:
        addresses += [
            (False, item.strip().split(b" ")[0]) for value in _SRCSET.findall(data) for item in value.split(b",")
        ]
    # Each address once, without its #fragment (urlsplit would drop it too): an index names a few hundred
    # files in thousands of links, and every drop's pages name the same ones again, so they are resolved
    # once (_target's cache) rather than on every match of every round.
    for content, raw in {(content, raw.partition(b"#")[0]) for content, raw in addresses}:
        resolved = _target(folder, raw, base_url, content)
        if resolved is not None and resolved[0] != name:
            found.add(resolved[1])
    return found


def _message_named(head: bytes) -> set[str]:
    """The message the channel's head points pages to (``{"seq": 12, …}`` → live/12.json); none if unreadable."""
    try:
        seq = json.loads(head).get("seq")
    except (ValueError, AttributeError):
        return set()
    return {f"{posixpath.dirname(CHANNEL_HEAD)}/{seq}.json"} if isinstance(seq, int) and seq > 0 else set()


@functools.lru_cache(maxsize=1 << 16)
def _target(folder: str, address: bytes, base_url: str | None, content: bool) -> tuple[str, str] | None:
    """Where ``address`` (no fragment) found in a file of ``folder`` leads in the site: (the path it names,
    that path with index.html added to a folder's), or None when it leads out of the site or nowhere."""
    raw = address.decode("utf-8", "replace")
    if content and not (base_url and raw.startswith(base_url)):
        return None
    if base_url and raw.startswith(base_url):
        raw = "/" + raw[len(base_url) :]
    parts = urlsplit(raw)
    if parts.scheme or parts.netloc or not parts.path:
        return None  # https://…, data:, mailto:, //host/…, or a plain #anchor
    path = unquote(parts.path)
    joined = path[1:] if path.startswith("/") else posixpath.join(folder, path)
    target = posixpath.normpath(joined)
    if target.startswith("..") or target == ".":
        return None
    return target, posixpath.join(target, "index.html") if path.endswith("/") else target


def rank(name: str) -> int:
    """Where a kind of file goes when nothing it names decides: assets, share pages, older pages, results
    and the rest, the feed, live.json, the index."""
    if name.startswith(("assets/", "media/", "cards/")):  # (a page names its share card where storeplan cannot see)
        return 0
    if name.startswith("update/"):
        return 1
    if name.startswith("page/"):
        return 2
    if name == "atom.xml":
        return 4
    if name == "live.json":
        return 5
    if name == "index.html":
        return 6
    return 3


def upload_waves(names: Mapping[str, Collection[str]], stored: Collection[str]) -> list[list[str]]:
    """``names`` (each file to upload → the files it names) in waves: each wave may go up all at once,
    and only after the waves before it are in the store.

    A file waits only for the files it names that are neither in ``stored`` nor in an earlier wave, so each
    wave holds every file whose wait is over, whatever its kind: a drop's new share page and the older page
    it lands on go together, then the feed and the results that list it, then ``live.json``, ``index.html``
    and the live channel's head, the ways in, last of all and together (each wave a round trip: a wave per
    kind made a drop six round trips long). Only when ``live.json`` is new too (a first upload) does it go
    before the others, as the index's script loads it.

    New files can name each other (a new older page and the new share pages it lists, or a first upload's
    pages and the index): such a cycle has no order, so when no file is free its new files go first, lowest
    ``rank`` first, and never the way in while anything else is left. That is safe: nothing a reader can
    reach names a new file yet, because every file in the store that will name it waits for it. And a file
    sent so, ahead of what it names, is not finished: what names it waits on until everything it leads to
    is up (the feed naming a new share page whose new older page is still to come; found by the 100-kill
    run, where the feed went up one wave after the share pages and a kill left it naming pages not there).
    """
    targets = {name: {t for t in refs if t in names and t not in stored and t != name} for name, refs in names.items()}
    namers: dict[str, list[str]] = {}
    for name, found in targets.items():
        for target in found:
            namers.setdefault(target, []).append(name)
    up: set[str] = set()
    left = {name for name in names if name not in _WAY_IN}
    waves: list[list[str]] = []
    while left:
        unfinished = _leading_to(names.keys() - up, namers)  # not up, or up but naming (in turn) one that is not
        wave = [n for n in left if not targets[n] & unfinished]
        if not wave:  # a cycle (or a wait for the way in): its new files, lowest rank first
            new = [n for n in left if n not in stored] or list(left)
            level = min(rank(n) for n in new)
            wave = [n for n in new if rank(n) == level]
        waves.append(sorted(wave, key=lambda n: (rank(n), n)))
        up.update(wave)
        left.difference_update(wave)
    last = [name for name in _WAY_IN if name in names]
    if "live.json" in last and "live.json" not in stored and len(last) > 1:
        waves.append(["live.json"])
        last.remove("live.json")
    if last:
        waves.append(last)
    return waves


def _leading_to(ends: Collection[str], namers: Mapping[str, Collection[str]]) -> set[str]:
    """``ends`` and every file that names one of them, directly or through others (``namers``: file → the
    files naming it)."""
    found = set(ends)
    stack = list(found)
    while stack:
        for name in namers.get(stack.pop(), ()):
            if name not in found:
                found.add(name)
                stack.append(name)
    return found


def named_by(uploads: Mapping[str, Collection[str]], candidates: Iterable[str]) -> set[str]:
    """Which of ``candidates`` a file of ``uploads`` names (a deletion of one must wait)."""
    wanted = set(candidates)
    return {target for refs in uploads.values() for target in refs if target in wanted}
