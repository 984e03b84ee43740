"""Every XML file the site writes is well-formed whatever the input: a control character, a noncharacter or any
other character XML cannot hold, typed (as a YAML or TOML escape, or raw) into any field of any entry, the config
or the baseline, never makes a feed that a parser refuses. Fuzzed with generated Unicode in tests/test_fuzz.py."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import AFTER_THE_NIGHT, write_blog
from countnight.site import Site
from countnight.xmltext import NOT_IN_XML, escape, quoteattr, xml_chars

ATOM = "{http://www.w3.org/2005/Atom}"
# Every character XML 1.0 forbids or asks documents not to use, by kind: C0 controls, DEL, C1 controls (NEL
# among them), noncharacters of the BMP and of the other planes.
FORBIDDEN = [chr(c) for c in range(0x20) if chr(c) not in "\t\n\r"] + [
    "\x7f", "\x80", "\x85", "\x9f", "\ufdd0", "\ufdef", "\ufffe", "\uffff", "\U0001fffe", "\U0010ffff",
]  # fmt: skip


def yaml_quoted(text: str) -> str:
    """``text`` as a YAML double-quoted scalar, every unprintable character as a ``\\U`` escape."""
    return '"' + "".join(c if c.isprintable() and c not in '"\\' else f"\\U{ord(c):08X}" for c in text) + '"'


def toml_quoted(text: str) -> str:
    return '"' + "".join(c if c.isprintable() and c not in '"\\' else f"\\U{ord(c):08X}" for c in text) + '"'


def night_with(text: str, raw_body: str) -> dict[str, str]:
    """A blog whose every free-text field (config, baseline name, each kind's fields, bodies) holds ``text``."""
    q = yaml_quoted
    return {
        "baseline.csv": (
            "constituency,electorate,turnout,winner,Lab,Con\n"
            + f'"Stafford{text if text not in chr(0) + chr(13) + chr(10) else ""}",70608,72.70,Con,31.20,57.94\n'
        ),
        "entries/0001-update.md": (
            f'---\ntime: "23:00"\ntitle: {q("Polls " + text + "closed")}\nauthor: {q("Hannah" + text)}\n'
            f'role: {q("BBC" + text)}\nupdated: "23:30"\ncorrection: {q("Fixed" + text)}\n---\n'
            f"The count{raw_body} is under way.\n"
        ),
        "entries/0002-result.md": (
            f'---\nkind: result\ntime: "02:16"\nconstituency: Stafford\nwinner: {q("Ann" + text)}\n'
            f"candidates:\n  - {{name: {q('Ann' + text)}, party: {q('Lab')}, votes: 100}}\n"
            f"  - {{name: {q('Bob' + text)}, party: {q('Con')}, votes: 100}}\n"
            f"  - {{name: Cy, party: {q('Yorkshire ' + text + 'Independents')}, votes: 5}}\n---\n{raw_body}\n"
        ),
        "entries/0003-quote.md": (
            f'---\nkind: quote\ntime: "02:20"\nspeaker: {q("Ann" + text)}\nspeaker_role: {q("MP" + text)}\n'
            f"quote: {q('Thank ' + text + 'you')}\ntitle: {q('A' + text + 'b')}\n---\nAt the count{raw_body}.\n"
        ),
        "entries/0004-turnout.md": (
            f'---\nkind: turnout\ntime: "01:00"\nconstituency: {q("Stafford" + text)}\nturnout: 60\n---\n'
        ),
        "entries/0005-summary.md": f'---\nkind: summary\ntime: "06:00"\n---\n- Labour won{raw_body}\n',
    }


def config_with(text: str) -> str:
    return (
        f'title = {toml_quoted("Test " + text + "night")}\ntimezone = "Europe/London"\n'
        'coverage_start = "2024-07-04T22:00:00+01:00"\ncoverage_end = "2024-07-05T12:00:00+01:00"\n'
        f'editor = {toml_quoted("Tim" + text)}\nbaseline = "baseline.csv"\n'
        f"base_url = {toml_quoted('https://example.org/' + text.strip() + 'x/')}\n"
    )


def build_and_parse(root: Path) -> ElementTree.Element:
    report = Site(root).build(AFTER_THE_NIGHT)
    assert report.built, report.problems
    assert not report.problems, report.problems
    return ElementTree.fromstring((root / "site/atom.xml").read_bytes())  # expat: refuses any ill-formed byte


@pytest.mark.parametrize("char", FORBIDDEN, ids=[f"U+{ord(c):04X}" for c in FORBIDDEN])
def test_a_character_xml_cannot_hold_in_any_field_leaves_the_feed_well_formed(tmp_path: Path, char: str) -> None:
    raw = char if char != "\x00" else ""  # a NUL byte makes the file binary, refused: the YAML escape carries it
    root = write_blog(tmp_path / "blog", night_with(char, raw), config=config_with(char))
    feed = build_and_parse(root)
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 4  # nothing lost: every entry is in the feed (the summary is the box, not a feed entry)
    titles = {e.findtext(f"{ATOM}title") for e in entries}
    assert "A b" in titles or "Ab" in titles
    text = (root / "site/atom.xml").read_text()
    assert NOT_IN_XML.search(text) is None
    assert feed.findtext(f"{ATOM}title") in ("Test night", "Test  night")


def test_the_reported_titles_give_a_feed_that_parses(tmp_path: Path) -> None:
    """The issue's cases: YAML escapes in a title (``"a\\bb"``, ``"\\e"``, ``"\\uFFFE"``), a control in a body."""
    files = {
        f"entries/000{n}-t.md": f'---\ntime: "23:0{n}"\ntitle: "{title}"\n---\nbody \x01 here\n'
        for n, title in enumerate(("a\\bb", "\\e", "\\uFFFE", "x\\x0cy"), 1)
    }
    root = write_blog(tmp_path / "blog", files)
    feed = build_and_parse(root)
    assert sorted(e.findtext(f"{ATOM}title") or "" for e in feed.findall(f"{ATOM}entry")) == ["", "", "ab", "x y"]


@settings(max_examples=2000, deadline=None, database=None)
@given(st.text(st.characters(codec=None, exclude_categories=()), max_size=40))
def test_escaped_text_is_always_xml_and_reads_back_as_its_xml_characters(text: str) -> None:
    """Any str, lone surrogates included, in an element and in an attribute: expat reads back xml_chars(text)."""
    document = f"<a b={quoteattr(text)}>{escape(text)}</a>".encode()
    element = ElementTree.fromstring(document)
    assert (element.text or "") == xml_chars(text).replace("\r\n", "\n").replace("\r", "\n")  # XML reads line ends so
    assert element.get("b") == xml_chars(text)
    assert NOT_IN_XML.search(xml_chars(text)) is None


def test_the_pages_svg_maps_and_charts_hold_only_xml_characters(tmp_path: Path) -> None:
    """The hex map and the charts are SVG inside the pages: a control character in a party or a seat's name is
    left out of them too, so each <svg> reads as XML."""
    import re

    char = "\x08"
    files = night_with(char, "")
    root = write_blog(tmp_path / "blog", files, config=config_with(char))
    build_and_parse(root)
    for page in ("results.html", "index.html"):
        html = (root / "site" / page).read_text()
        svgs = re.findall(r"<svg\b.*?</svg>", html, re.S)
        assert svgs, page
        for svg in svgs:
            assert NOT_IN_XML.search(svg) is None, svg
            ElementTree.fromstring(svg)
