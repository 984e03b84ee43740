"""Atom ids: made from the blog's own id, so they survive a change of address and differ between blogs.

Feed readers tell entries apart by id: an id that changed with ``base_url`` would show every entry again,
and two blogs at one address sharing ids would hide one blog's entries behind the other's.
"""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

from conftest import AFTER_THE_NIGHT, CONFIG, BlogMaker, copy_sample, write_blog
from countnight.site import Site

ATOM = "{http://www.w3.org/2005/Atom}"
ENTRY = """\
---
time: "23:10"
title: Counting under way
---
Boxes are open.
"""


def _ids(root: Path) -> tuple[str, dict[str, str]]:
    """(the feed's id, entry link → entry id) of a fresh build of ``root``."""
    report = Site(root).build(AFTER_THE_NIGHT)
    assert report.built and not report.problems, report.problems
    feed = ET.parse(root / "site" / "atom.xml").getroot()
    entries = {e.find(f"{ATOM}link").get("href"): e.findtext(f"{ATOM}id") for e in feed.findall(f"{ATOM}entry")}  # type: ignore[union-attr]
    return feed.findtext(f"{ATOM}id") or "", entries


def _set_config(root: Path, text: str) -> None:
    (root / "countnight.toml").write_text(text)


def test_ids_never_change_when_base_url_is_set_changed_or_removed(sample_night: Path) -> None:
    config = (sample_night / "countnight.toml").read_text()
    assert 'base_url = "https://example.org/election/"' in config
    first = _ids(sample_night)
    assert len(first[1]) > 10
    for url in ('base_url = "https://news.example.com/live/"', ""):
        _set_config(sample_night, config.replace('base_url = "https://example.org/election/"', url))
        assert _ids(sample_night) == first, url


def test_a_blog_without_feed_id_keeps_the_one_its_first_build_made(tmp_path: Path) -> None:
    root = write_blog(tmp_path / "blog", {"entries/2310-x.md": ENTRY})
    first = _ids(root)
    kept = (root / ".countnight" / "blog-id").read_text().strip()
    assert first[0] == f"urn:uuid:{uuid.UUID(kept)}"
    _set_config(root, CONFIG + 'base_url = "https://example.org/a/"\n')
    assert _ids(root) == first  # a new process, a new address: the same ids


def test_two_blogs_at_one_address_get_different_ids(tmp_path: Path) -> None:
    config = CONFIG + 'base_url = "https://example.org/live/"\n'
    one = write_blog(tmp_path / "one", {"entries/2310-x.md": ENTRY}, config=config)
    two = write_blog(tmp_path / "two", {"entries/2310-x.md": ENTRY}, config=config)
    (feed_one, entries_one), (feed_two, entries_two) = _ids(one), _ids(two)
    assert feed_one != feed_two
    assert entries_one.keys() == entries_two.keys() and not set(entries_one.values()) & set(entries_two.values())


def test_feed_id_in_the_config_wins_and_copies_of_the_sample_agree(tmp_path: Path) -> None:
    a, b = copy_sample(tmp_path / "a"), copy_sample(tmp_path / "b")
    assert _ids(a) == _ids(b)  # the golden site depends on it
    assert not (a / ".countnight" / "blog-id").exists()
    given = re.search(r'feed_id = "([^"]+)"', (a / "countnight.toml").read_text())
    assert given and _ids(a)[0] == f"urn:uuid:{given[1]}"


def test_a_feed_id_that_is_not_a_uuid_is_an_error_on_its_line(blog: BlogMaker) -> None:
    root = blog({"entries/2310-x.md": ENTRY}, config=CONFIG + 'feed_id = "my-election"\n')
    report = Site(root).build(AFTER_THE_NIGHT)
    assert not report.built
    assert [(p.path, p.line) for p in report.problems] == [("countnight.toml", 6)]
    assert "not a UUID" in report.problems[0].message


def test_a_damaged_kept_id_is_an_error_naming_the_file(blog: BlogMaker) -> None:
    root = blog({"entries/2310-x.md": ENTRY})
    (root / ".countnight").mkdir()
    (root / ".countnight" / "blog-id").write_text("\x00\x00garbage")
    report = Site(root).build(AFTER_THE_NIGHT)
    assert not report.built
    assert [p.path for p in report.problems] == [".countnight/blog-id"]


def test_entry_content_links_to_the_entry_s_own_page_not_a_fragment_of_the_index(sample_night: Path) -> None:
    _ids(sample_night)
    feed = ET.parse(sample_night / "site" / "atom.xml").getroot()
    for entry in feed.findall(f"{ATOM}entry"):
        link = entry.find(f"{ATOM}link").get("href")  # type: ignore[union-attr]
        content = entry.findtext(f"{ATOM}content") or ""
        assert not re.search(r'href="#', content), link
        assert f'class="entry__time" href="{link}"' in content
