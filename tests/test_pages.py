"""The pages readers and programs load: what each shows, how they link, and what machines read in them.

Most tests look at one build of the sample night (after it ended, and at 03:30 while it was live); the
rest build a tiny blog of their own. No browser here: tests/test_browser.py drives Chromium.
"""

from __future__ import annotations

import html
import itertools
import json
import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import AFTER_THE_NIGHT, BASELINE, CONFIG, DURING_THE_NIGHT, REPO, BlogMaker, copy_sample
from countnight.feeds import plain_text, shorten
from countnight.render import CSP, CSP_META, party_class
from countnight.site import Site

ATOM = "{http://www.w3.org/2005/Atom}"


@dataclass
class Parsed(HTMLParser):
    """The parts of an HTML page these tests look at."""

    ids: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    labelledby: list[str] = field(default_factory=list)
    headings: list[int] = field(default_factory=list)
    styles: int = 0
    scripts: list[dict[str, str | None]] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if "id" in a and a["id"] is not None:
            self.ids.append(a["id"])
        if tag == "a" and a.get("href"):
            self.links.append(a["href"] or "")
        if a.get("aria-labelledby"):
            self.labelledby.append(a["aria-labelledby"] or "")
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        self.styles += tag == "style" or "style" in a
        if tag == "script":
            self.scripts.append(a)
        if tag == "meta" and (a.get("property") or a.get("name")):
            self.meta[a.get("property") or a.get("name") or ""] = a.get("content") or ""


def parse(path: Path) -> Parsed:
    page = Parsed()
    page.feed(path.read_text())
    return page


def build(root: Path, now: datetime) -> Path:
    report = Site(root).build(now)
    assert report.built and not report.problems, report.problems
    return root / "site"


@pytest.fixture(scope="module")
def ended(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample night's site/, built after the night."""
    return build(copy_sample(tmp_path_factory.mktemp("ended") / "night"), AFTER_THE_NIGHT)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample night's site/, built at 03:30 while it was live."""
    return build(copy_sample(tmp_path_factory.mktemp("live") / "night"), DURING_THE_NIGHT)


def html_pages(site: Path) -> Iterator[Path]:
    return iter(sorted(p for p in site.rglob("*.html") if p.name != "results.html"))


def article(site: Path, ident: str) -> str:
    """The article of an entry, from its share page."""
    html = (site / "update" / f"{ident}.html").read_text()
    start = html.index(f'<article id="{ident}"')
    return html[start : html.index("</article>", start)]


def text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


# -- every page --------------------------------------------------------------------------------------


def test_ids_are_unique_and_every_label_and_link_resolves(ended: Path) -> None:
    """Pinned copies carry a prefix; pager, key-event, constituency and share links all land on an id."""
    pages = {p: parse(p) for p in html_pages(ended)}
    for path, page in pages.items():
        dupes = [i for i, n in Counter(page.ids).items() if n > 1]
        assert not dupes, f"{path.relative_to(ended)}: duplicate ids {dupes}"
        assert set(page.labelledby) <= set(page.ids), path
        for link in page.links:
            target = urlsplit(urljoin(f"http://site/{path.relative_to(ended).as_posix()}", link))
            if target.netloc != "site":
                continue
            file = ended / target.path.lstrip("/")
            assert file.is_file(), f"{path.relative_to(ended)}: {link} → no such file"
            if target.fragment and file.suffix == ".html":
                known = pages[file].ids if file in pages else parse(file).ids
                assert target.fragment in known, f"{path.relative_to(ended)}: {link} → no such id"
    index = pages[ended / "index.html"]
    assert "pinned-2205-how-to-follow-tonight" in index.ids
    assert "pinned-2205-how-to-follow-tonight-h" in index.ids


def test_no_inline_style_or_script_anywhere(ended: Path) -> None:
    for path in html_pages(ended):
        page = parse(path)
        assert page.styles == 0, path
        for script in page.scripts:
            assert script.get("src") or script.get("type") == "application/ld+json", (path, script)


def test_headings_go_down_one_level_at_a_time(ended: Path) -> None:
    for path in html_pages(ended):
        levels = parse(path).headings
        assert levels[0] == 1 and levels.count(1) == 1, path
        assert all(b <= a + 1 for a, b in itertools.pairwise(levels)), (path, levels)


def test_the_meta_csp_is_the_header_without_frame_ancestors(ended: Path) -> None:
    assert CSP == CSP_META + "; frame-ancestors 'none'"
    meta = parse(ended / "index.html").meta
    assert "Content-Security-Policy" not in meta  # http-equiv, not name: read it from the raw text
    raw = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', (ended / "index.html").read_text())
    assert raw and html.unescape(raw[1]) == CSP_META
    conf = (REPO / "deploy" / "nginx.conf").read_text()
    assert f'add_header Content-Security-Policy "{CSP}" always;' in conf


def test_assets_have_content_hashed_names(ended: Path) -> None:
    names = sorted(p.name for p in (ended / "assets").iterdir())
    assert all(re.fullmatch(r"[a-z]+\.[0-9a-f]{10}\.(css|js)", n) for n in names), names
    script = next(p for p in (ended / "assets").iterdir() if p.name.startswith("live."))
    assert script.stat().st_size < 22_000  # one small file: the live channel, its watchdog, the map's patch


# -- the index -----------------------------------------------------------------------------------


def test_the_index_has_what_a_reader_expects_in_order(live: Path) -> None:
    html = (live / "index.html").read_text()
    order = [
        "Election 2024: Staffordshire and Cheshire</a></h1>",
        "Edited by Tim Page",
        'id="key-h"',
        'id="pinned-h"',
        'id="stream-h"',
        'id="seats-h"',
        'id="follow-h"',
    ]
    positions = [html.index(marker) for marker in order]
    # The source is the reading order of keyboards and screen readers, and what a page arriving in pieces draws
    # first: the newest entries before the seats, map and followed seats (phones show them after it too).
    assert positions == sorted(positions)
    assert "Refresh for the latest" in html
    assert 'aria-live="polite"' in html
    assert re.search(r'<button type="button" class="new-updates" data-new-updates hidden>', html)
    assert "Coverage has ended" not in html


def test_the_ended_index_says_so_and_has_no_refresh_link(ended: Path) -> None:
    html = (ended / "index.html").read_text()
    assert "Coverage has ended (12:00 BST 5 July)" in html
    assert "Refresh for the latest" not in html
    assert 'data-ended="true"' in html


def test_constituencies_followed_mark_the_declared_ones(live: Path) -> None:
    html = (live / "index.html").read_text()
    follow = html[html.index('id="follow-h"') : html.index("</section>", html.index('id="follow-h"'))]
    declared = re.findall(r'<li class="is-declared">\s*<a class="follow__name" href="([^"]+)">([^<]+)</a>', follow)
    waiting = re.findall(r'<li class="is-waiting">\s*<span class="follow__name">([^<]+)</span>', follow)
    assert ("#0216-cannock-chase-result", "Cannock Chase") in declared
    assert "Stafford" in waiting and len(declared) + len(waiting) == 14
    assert "Lab gain from Con" in follow


def test_the_scoreboard_shows_seats_gains_and_declared(ended: Path) -> None:
    html = (ended / "index.html").read_text()
    board = html[html.index('id="seats-h"') : html.index("</section>", html.index('id="seats-h"'))]
    assert "<strong>14</strong> of 14 seats declared" in board
    rows = re.findall(r'<th scope="row">.*?</th>\s*<td class="scoreboard__seats">(\d+)</td>', board, re.S)
    assert rows == ["11", "3"]
    assert "Labour" in board and "Conservative" in board and "+11" in board and "−11" in board
    # The seat bar's parts, each as wide as its seats of the 14 (style.css lays them side by side)
    bar = board[board.index('<div class="seatbar"') : board.index("</div>", board.index('<div class="seatbar"'))]
    assert re.findall(r'<svg class="([^"]+)" width="([^"]+)"></svg>', bar) == [
        ("party-lab", "78.57%"),
        ("party-con", "21.43%"),
    ]


def test_key_events_link_to_the_page_that_holds_each(ended: Path) -> None:
    html = (ended / "index.html").read_text()
    key = html[html.index('id="key-h"') : html.index("</section>", html.index('id="key-h"'))]
    assert 'href="#0610-lichfield-result"' in key  # on the index
    assert 'href="page/1.html#2200-exit-poll"' in key  # on the first older page


# -- entries -----------------------------------------------------------------------------------------


def test_an_entry_has_time_labels_byline_permalink_and_share_link(ended: Path) -> None:
    html = article(ended, "0216-cannock-chase-result")
    assert '<time datetime="2024-07-05T02:16:00+01:00">02:16 BST 5 July</time>' in html
    assert '<a class="entry__time" href="#0216-cannock-chase-result">' in html
    assert '<strong class="label label--breaking">Breaking</strong>' in html
    assert (
        'By <span class="entry__author">Priya Khatri</span><span class="entry__role">, BBC Midlands Today</span>'
        in html
    )
    assert 'class="entry__share" href="../update/0216-cannock-chase-result.html"' in html


def test_a_result_card_has_the_figures(ended: Path) -> None:
    card = text(article(ended, "0216-cannock-chase-result"))
    assert "Lab gain from Con" in card
    assert "Josh Newbury (Labour) elected, taking the seat from the Conservatives" in card
    names = re.findall(r"(Josh Newbury|Amanda Milling|Paul Allen|Andrea Muckley|Elizabeth Jewkes)", card)
    assert names[1:6] == ["Josh Newbury", "Amanda Milling", "Paul Allen", "Andrea Muckley", "Elizabeth Jewkes"]
    assert "15,671 36.5%" in card and "+11.1" in card
    assert "Majority 3,125 (7.3%)" in card
    assert "Turnout 56.0% (−5.3 pts)" in card
    assert "Swing 25.1 pts from Con to Lab" in card
    html = article(ended, "0216-cannock-chase-result")
    assert '<span class="bar" aria-hidden="true"><svg class="party-lab" width="36.5%"></svg></span>' in html


def test_a_hold_says_so(ended: Path) -> None:
    card = text(article(ended, "0247-staffordshire-moorlands-result"))
    assert "Con hold" in card and "holding the seat" in card


def test_turnout_and_quote_cards(ended: Path) -> None:
    turnout = text(article(ended, "0223-stafford-turnout"))
    assert "65.39% turnout in Stafford" in turnout
    assert "Ballots 46,169" in turnout and "Last time 70.5%" in turnout and "Change −5.1 pts" in turnout
    quote = article(ended, "0221-josh-newbury-quote")
    assert "<blockquote><p>" in quote and '<strong class="quote__speaker">Josh Newbury</strong>' in quote


def test_a_correction_shows_the_updated_time_and_note(blog: BlogMaker) -> None:
    root = blog(
        {
            "entries/0100-story.md": """\
            ---
            time: "01:00"
            title: A story
            updated: "01:30"
            correction: An earlier version gave the wrong count.
            ---
            Text.
            """
        }
    )
    site = build(root, AFTER_THE_NIGHT)
    assert (
        '<strong>Updated <time datetime="2024-07-05T01:30:00+01:00">01:30</time></strong>: '
        "An earlier version gave the wrong count." in (site / "index.html").read_text()
    )
    feed = ET.parse(site / "atom.xml").getroot()
    entry = feed.find(f"{ATOM}entry")
    assert entry is not None
    assert entry.findtext(f"{ATOM}updated") == "2024-07-05T01:30:00+01:00"
    assert entry.findtext(f"{ATOM}published") == "2024-07-05T01:00:00+01:00"


def test_an_unknown_party_gets_the_neutral_class(blog: BlogMaker) -> None:
    assert party_class("Lab") == "party-lab" and party_class("Monster Raving Loony") == "party-other"
    root = blog(
        {
            "baseline.csv": BASELINE,
            "entries/0200-result.md": """\
            ---
            kind: result
            time: "02:00"
            constituency: Stafford
            candidates:
              - {name: A, party: Whig, votes: 900}
              - {name: B, party: Con, votes: 100}
            ---
            """,
        },
        config=CONFIG + 'baseline = "baseline.csv"\n',
    )
    html = (build(root, AFTER_THE_NIGHT) / "index.html").read_text()
    assert '<span class="chip party-other">Whig</span>' in html
    assert "Whig gain from Con" in html


# -- paging ----------------------------------------------------------------------------------------


def updates(times: range, day: str = "2024-07-05") -> dict[str, str]:
    return {
        f"entries/{n:04d}-u.md": f'---\ntime: "{day}T{n // 60:02d}:{n % 60:02d}:00+01:00"\ntitle: Update {n}\n---\n'
        for n in times
    }


def test_paging_keeps_older_addresses_and_links_both_ways(blog: BlogMaker) -> None:
    root = blog(updates(range(60, 73)), config=CONFIG + "page_size = 5\n")
    site = build(root, AFTER_THE_NIGHT)

    def ids(path: str) -> list[str]:
        return re.findall(r'<article id="([^"]+)"', (site / path).read_text())

    assert ids("index.html") == [f"{n:04d}-u" for n in range(72, 67, -1)]
    assert ids("page/1.html") == [f"{n:04d}-u" for n in range(64, 59, -1)]  # the first five of the night
    assert ids("page/2.html") == [f"{n:04d}-u" for n in range(67, 64, -1)]
    first = (site / "page/1.html").read_bytes()
    for name, body in updates(range(73, 80)).items():
        (root / name).write_text(body)
    build(root, AFTER_THE_NIGHT)
    assert (site / "page/1.html").read_bytes() == first
    assert ids("page/2.html") == [f"{n:04d}-u" for n in range(69, 64, -1)]
    assert ids("page/3.html") == [f"{n:04d}-u" for n in range(74, 69, -1)]
    index = (site / "index.html").read_text()
    assert 'class="pager__older" href="page/3.html"' in index
    assert 'class="pager__newer" href="../index.html"' in (site / "page/3.html").read_text()
    assert 'class="pager__older" href="2.html"' in (site / "page/3.html").read_text()
    assert 'class="pager__newer" href="2.html"' in (site / "page/1.html").read_text()
    assert "pager__older" not in (site / "page/1.html").read_text()
    assert "Earlier updates: 01:00 BST 5 July to 01:04 BST 5 July" in (site / "page/1.html").read_text()


# -- share pages -----------------------------------------------------------------------------------


def test_every_entry_has_a_share_page_with_cards(ended: Path) -> None:
    shown = json.loads((ended / "live.json").read_text())["entries"]
    assert len(list((ended / "update").glob("*.html"))) == 46  # every entry but the summary
    page = parse(ended / "update/0216-cannock-chase-result.html")
    headline = "Labour gain Cannock Chase from the Conservatives"
    assert page.meta["og:title"] == page.meta["twitter:title"] == headline
    assert page.meta["og:type"] == "article" and page.meta["twitter:card"] == "summary_large_image"
    assert re.fullmatch(r"https://example\.org/election/cards/[0-9a-f]{20}\.png", page.meta["og:image"])
    assert (page.meta["og:image:width"], page.meta["og:image:height"]) == ("1200", "630")
    assert page.meta["og:url"] == "https://example.org/election/update/0216-cannock-chase-result.html"
    assert page.meta["description"] == page.meta["og:description"] == page.meta["twitter:description"]
    assert page.meta["description"].startswith("Josh Newbury (Labour) wins Cannock Chase with a majority of 3,125")
    assert len(page.meta["description"]) <= 200
    assert page.meta["article:published_time"] == "2024-07-05T02:16:00+01:00"
    html = (ended / "update/0216-cannock-chase-result.html").read_text()
    assert f"<title>{headline} – Election 2024: Staffordshire and Cheshire</title>" in html
    assert f'<h1 id="0216-cannock-chase-result-h" class="entry__title">{headline}</h1>' in html
    assert 'href="../page/1.html#0216-cannock-chase-result">See it in the live page</a>' in html
    assert shown  # live.json lists entries that each have such a page
    assert all((ended / "update" / f"{e['id']}.html").is_file() for e in shown)


def test_plain_text_and_shorten() -> None:
    assert plain_text("**Bold** and _it_ with [a link](https://x.org) and ![pic](a.png)\n\n- item") == (
        "Bold and it with a link and pic item"
    )
    # Marks only where Markdown reads them, at the start of a line: a sentence ending in a number keeps it
    # (the sample night's JSON-LD said Jonathan Gullis "had held the seat since Reform UK was only…").
    assert (
        plain_text("held the seat since 2019. Reform UK was third.") == "held the seat since 2019. Reform UK was third."
    )
    assert plain_text("Lab - Con - LD, by 5) votes") == "Lab - Con - LD, by 5) votes"
    assert plain_text("## Head\n> - quoted item\n  1. one\n  2) two\n-\n* star\n+ plus\n#tag") == (
        "Head quoted item one two star plus #tag"
    )
    assert shorten("one two three", 9) == "one two…"
    assert shorten("short", 9) == "short"


# -- live.json ---------------------------------------------------------------------------------------


def test_live_json_has_entries_panels_and_matching_revisions(live: Path) -> None:
    data = json.loads((live / "live.json").read_text())
    assert set(data) >= {"entries", "withdrawn", "panels", "ended", "generated"}
    assert data["ended"] is False
    first = data["entries"][0]
    assert set(first) >= {"id", "kind", "time", "updated", "html", "rev", "title"}
    index = (live / "index.html").read_text()
    for entry in data["entries"][:20]:
        assert f'data-id="{entry["id"]}" data-rev="{entry["rev"]}"' in index
        assert entry["html"].lstrip().startswith(f'<article id="{entry["id"]}"')
    assert set(data["panels"]) == {"notice", "summary", "key_events", "pinned", "scoreboard", "follow", "map"}
    for name, panel in data["panels"].items():
        assert f'data-panel="{name}" data-rev="{panel["rev"]}"' in index


def test_live_json_lists_what_was_withdrawn(blog: BlogMaker) -> None:
    root = blog({**updates(range(60, 63))})
    site = build(root, AFTER_THE_NIGHT)
    path = root / "entries/0061-u.md"
    path.write_text(path.read_text().replace("---\n", "---\nstatus: withdrawn\n", 1))
    (root / "entries/0062-u.md").unlink()
    build(root, AFTER_THE_NIGHT)
    data = json.loads((site / "live.json").read_text())
    assert data["withdrawn"] == ["0061-u", "0062-u"]
    assert [e["id"] for e in data["entries"]] == ["0060-u"]


# -- feeds and structured data -----------------------------------------------------------------------


def test_atom_is_valid_and_complete(ended: Path) -> None:
    feed = ET.parse(ended / "atom.xml").getroot()
    assert feed.tag == f"{ATOM}feed"
    for tag in ("id", "title", "updated", "author"):
        assert feed.find(f"{ATOM}{tag}") is not None, tag
    ids = [feed.findtext(f"{ATOM}id")]
    for entry in feed.findall(f"{ATOM}entry"):
        for tag in ("id", "title", "updated", "published", "author", "content", "summary"):
            assert entry.find(f"{ATOM}{tag}") is not None, tag
        ids.append(entry.findtext(f"{ATOM}id"))
        link = entry.find(f"{ATOM}link")
        assert link is not None and re.fullmatch(r"update/[\w-]+\.html", link.get("href", ""))
        assert datetime.fromisoformat(entry.findtext(f"{ATOM}updated") or "").tzinfo is not None
    assert all(re.fullmatch(r"urn:uuid:[0-9a-f-]{36}", i or "") for i in ids), ids[:3]
    assert len(set(ids)) == len(ids)


def _json_ld(path: Path) -> dict[str, object]:
    html = path.read_text()
    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert block
    data: dict[str, object] = json.loads(block[1])
    return data


def test_json_ld_describes_the_live_blog(live: Path, ended: Path) -> None:
    during = _json_ld(live / "index.html")
    assert during["@type"] == "LiveBlogPosting"
    assert during["coverageStartTime"] == "2024-07-04T22:00:00+01:00"
    assert during["coverageEndTime"] == "2024-07-05T12:00:00+01:00"  # Google wants the end expected, from the start
    assert during["url"] == "https://example.org/election/index.html"
    after = _json_ld(ended / "index.html")
    assert after["coverageEndTime"] == "2024-07-05T12:00:00+01:00"
    updates_ = after["liveBlogUpdate"]
    assert isinstance(updates_, list) and len(updates_) == 20
    for item in updates_:
        assert item["@type"] == "BlogPosting"
        assert set(item) >= {"headline", "datePublished", "dateModified", "articleBody", "url", "author"}
        assert re.fullmatch(r"https://example\.org/election/index\.html#[\w-]+", item["url"])
        assert item["articleBody"] and "**" not in item["articleBody"]
    result = next(u for u in updates_ if u["url"].endswith("#0610-lichfield-result"))
    assert result["author"] == {"@type": "Person", "name": "Hannah Birch"}


@settings(max_examples=1000, deadline=None, database=None)
@given(st.text(alphabet=st.sampled_from("&<>\"'\n\r\tab é😀;#x"), max_size=30) | st.text())
def test_feed_escaping_is_xml_sax_saxutils(text: str) -> None:
    """xmltext.escape and quoteattr stand in for xml.sax.saxutils' (which imports urllib.request), on the text
    without the characters XML cannot carry (tests/test_xml_outputs.py)."""
    from xml.sax import saxutils

    from countnight import xmltext

    assert xmltext.escape(text) == saxutils.escape(xmltext.xml_chars(text))
    assert xmltext.quoteattr(text) == saxutils.quoteattr(xmltext.xml_chars(text))


def test_without_coverage_end_json_ld_gives_the_24_hour_window_s_end(blog: BlogMaker) -> None:
    config = CONFIG.replace('coverage_end = "2024-07-05T12:00:00+01:00"\n', "")
    root = blog({"entries/2310-x.md": '---\ntime: "23:10"\ntitle: Counting\n---\nBoxes.\n'}, config=config)
    assert Site(root).build(AFTER_THE_NIGHT).built
    data = _json_ld(root / "site" / "index.html")
    assert data["coverageEndTime"] == "2024-07-05T22:00:00+01:00" and data["url"] == "index.html"
    share = _json_ld(root / "site" / "update" / "2310-x.html")
    assert share["@type"] == "BlogPosting" and share["url"] == "../update/2310-x.html"
    assert share["isPartOf"]["url"] == "../index.html"  # type: ignore[index]


@pytest.mark.parametrize("seats", [50, 51])
def test_a_long_follow_list_waits_in_a_template_with_a_link_to_every_result(blog: BlogMaker, seats: int) -> None:
    """Up to 50 seats are drawn as a list; more (a national night's 650 were most of the index's elements) wait
    in a <template> that follow.js searches, each row as it would be drawn, and the page links to results.html."""
    rows = "".join(f"Seat {n},70000,65.0,Con,30.0,60.0\n" for n in range(1, seats + 1))
    result = '---\nkind: result\ntime: "02:16"\nconstituency: Seat 7\ncandidates:\n  - {name: Ann, party: Lab, votes: 200}\n  - {name: Bob, party: Con, votes: 100}\n---\n'
    root = blog({"baseline.csv": "constituency,electorate,turnout,winner,Lab,Con\n" + rows, "entries/0216-seat-7.md": result}, config=CONFIG + 'baseline = "baseline.csv"\n')  # fmt: skip
    assert Site(root).build(AFTER_THE_NIGHT).built
    page = (root / "site" / "index.html").read_text()
    follow = page[page.index('id="follow-h"') : page.index("</section>", page.index('id="follow-h"'))]
    assert len(re.findall(r'<li class="is-(?:declared|waiting)">', follow)) == seats  # every row, drawn or kept
    assert '<a class="follow__name" href="#0216-seat-7">Seat 7</a>' in follow
    script = re.search(r'<script src="(assets/follow\.[0-9a-f]+\.js)" defer>', page)
    if seats <= 50:
        assert '<ul class="follow__list">' in follow and "<template" not in follow and script is None
    else:
        assert "<template data-follow-rows>" in follow and '<ul class="follow__list">' not in follow
        assert f"<strong>1</strong> of {seats} constituencies declared." in follow
        assert '<a href="results.html#table">Every result</a>' in follow
        assert script is not None and (root / "site" / script.group(1)).is_file()
