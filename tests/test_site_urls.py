"""Every address the site gives other programs (JSON-LD, Open Graph, canonical links, Atom) resolves, from
the page it is on, to a file the site holds, and to the entry it names: with ``base_url`` and without.

Each is resolved the way a crawler or feed reader does (urljoin against the page's own address, or the
feed's xml:base), so a relative address that is right only from the site's root is caught.
"""

from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urljoin

import pytest

from conftest import AFTER_THE_NIGHT, DURING_THE_NIGHT
from countnight.site import Site

ATOM = "{http://www.w3.org/2005/Atom}"
XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"
BASE_URL = "https://example.org/election/"
ELSEWHERE = "http://127.0.0.1:8080/somewhere/deep/"  # where a site without base_url happens to be served
_LD = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.S)
_CANONICAL = re.compile(r'<link rel="canonical" href="([^"]*)"')
_OG = re.compile(r'<meta property="og:(url|image)" content="([^"]*)"')
_HREF = re.compile(r'href="([^"]*)"')


def _json_urls(data: Any) -> Iterator[str]:
    if isinstance(data, dict):
        for key, value in data.items():
            if key in ("url", "image") and isinstance(value, str):
                yield value
            else:
                yield from _json_urls(value)
    elif isinstance(data, list):
        for item in data:
            yield from _json_urls(item)


def _page_addresses(text: str) -> Iterator[tuple[str, str]]:
    """(what, address) of every machine-read address in one HTML page."""
    for block in _LD.findall(text):
        for url in _json_urls(json.loads(block)):
            yield "JSON-LD", url
    for url in _CANONICAL.findall(text):
        yield "canonical", html.unescape(url)
    for prop, url in _OG.findall(text):
        yield f"og:{prop}", html.unescape(url)


def _feed_addresses(site: Path, origin: str) -> Iterator[tuple[str, str]]:
    """(what, absolute address) of the feed's links and of every relative link in its entries' content."""
    feed = ET.parse(site / "atom.xml").getroot()
    base = urljoin(origin + "atom.xml", feed.get(XML_BASE, ""))
    for link in feed.iter(f"{ATOM}link"):
        yield "Atom link", urljoin(base, link.get("href", ""))
    for entry in feed.findall(f"{ATOM}entry"):
        for href in _HREF.findall(entry.findtext(f"{ATOM}content") or ""):
            if re.match(r"[a-z][a-z0-9+.-]*:", href):  # a reporter's link to another site, absolute already
                continue
            yield "Atom content", urljoin(base, html.unescape(href))


def _check(site: Path, origin: str, what: str, on: str, address: str) -> str | None:
    """None if ``address`` reaches a file in ``site`` (and the element its #fragment names), else why not."""
    if not address.startswith(origin):
        return f"{on}: {what} {address!r} leaves the site ({origin})"
    path, fragment = urldefrag(address[len(origin) :])
    target = site / path
    if not path or not target.is_file():
        return f"{on}: {what} {address!r} → {path!r}, which the site does not hold"
    if fragment and f'id="{fragment}"' not in target.read_text():
        return f"{on}: {what} {address!r} → {path} holds no #{fragment}"
    return None


@pytest.mark.parametrize("now", [DURING_THE_NIGHT, AFTER_THE_NIGHT], ids=["during", "after"])
@pytest.mark.parametrize("base_url", [True, False], ids=["base_url", "no_base_url"])
def test_every_address_resolves_to_a_file_of_the_site(sample_night: Path, base_url: bool, now: object) -> None:
    config = sample_night / "countnight.toml"
    if not base_url:
        config.write_text(config.read_text().replace(f'base_url = "{BASE_URL}"', ""))
    report = Site(sample_night).build(now)  # type: ignore[arg-type]
    assert report.built and not report.problems, report.problems
    site = sample_night / "site"
    origin = BASE_URL if base_url else ELSEWHERE
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))
    kinds = {"index.html", "results.html", "page/1.html"} | {p for p in pages if p.startswith("update/")}
    assert kinds <= set(pages) and len(pages) > 20
    seen: dict[str, int] = {}
    wrong = []
    for page in pages:
        for what, address in _page_addresses((site / page).read_text()):
            seen[what] = seen.get(what, 0) + 1
            wrong.append(_check(site, origin, what, page, urljoin(origin + page, address)))
    for what, address in _feed_addresses(site, origin):
        seen[what] = seen.get(what, 0) + 1
        wrong.append(_check(site, origin, what, "atom.xml", address))
    problems = [w for w in wrong if w]
    assert not problems, "\n".join(problems[:20])
    expected = {"JSON-LD", "Atom link", "Atom content", "og:image"} | ({"og:url", "canonical"} if base_url else set())
    assert expected <= seen.keys(), seen
    # Every page a crawler lands on says what it is: JSON-LD everywhere but results.html, and with base_url (where
    # it can be absolute: search engines and Lighthouse want no relative one) a canonical link on the index,
    # results and share pages.
    for page in pages:
        text = (site / page).read_text()
        assert (page == "results.html") != bool(_LD.search(text)), page
        wants_canonical = base_url and (page in ("index.html", "results.html") or page.startswith("update/"))
        assert bool(_CANONICAL.search(text)) == wants_canonical, page
        # Every share page, the index and results.html name their share card (resolved above), absolute with
        # base_url as Open Graph requires, else relative to the page.
        images = [address for prop, address in _OG.findall(text) if prop == "image"]
        if page.startswith("update/") or page in ("index.html", "results.html"):
            assert len(images) == 1 and images[0].startswith(BASE_URL) == base_url, (page, images)
