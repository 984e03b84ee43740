"""Every kind of feed the site writes is valid against RFC 4287's schema (Appendix B, tests/atom/atom.rnc):
its RELAX NG grammar and its Schematron rules, checked by jing (tests/atom_schema.py).

The feeds: the sample night while it is live and after it, with ``base_url`` and without; after a correction
and a withdrawal; the whole 2024 night replayed (650 results, with and without ``base_url``); a blog with no
entries yet; and a blog with a character XML cannot hold typed into every field.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from xml.etree import ElementTree

import pytest
from click.testing import CliRunner

from atom_schema import ATOM_NS, JING, TRANG, AtomSchema, compile_schema
from browser_support import need
from conftest import AFTER_THE_NIGHT, DURING_THE_NIGHT, copy_sample, write_blog
from countnight.cli import main
from countnight.site import Site
from test_xml_outputs import FORBIDDEN, config_with, night_with

ATOM = f"{{{ATOM_NS}}}"
XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"
CORRECTED, WITHDRAWN = "0216-cannock-chase-result", "0455-sunak-concedes"


@pytest.fixture(scope="module")
def schema(tmp_path_factory: pytest.TempPathFactory) -> AtomSchema:
    need(JING is not None and TRANG is not None, "jing and trang (Debian) are not installed")
    return compile_schema(tmp_path_factory.mktemp("atom-schema"))


def build(root: Path, now: object, into: Path, name: str) -> Path:
    """Build ``root`` at ``now`` and keep its feed as ``into/NAME.xml`` (jing names the file in what it says)."""
    report = Site(root).build(now)  # type: ignore[arg-type]
    assert report.built and not report.problems, report.problems
    into.mkdir(exist_ok=True)
    return Path(shutil.copy(root / "site" / "atom.xml", into / f"{name}.xml"))


def without_base_url(root: Path) -> None:
    config = root / "countnight.toml"
    config.write_text(re.sub(r"(?m)^base_url = .*\n", "", config.read_text()))


def edit_entry(root: Path, ident: str, change: Callable[[str], str]) -> None:
    path = root / "entries" / f"{ident}.md"
    path.write_text(change(path.read_text()))


def feed(path: Path) -> ElementTree.Element:
    return ElementTree.parse(path).getroot()


def entry_ids(path: Path) -> list[str]:
    return [
        link.get("href", "") for link in feed(path).iter(f"{ATOM}link") if link.get("href", "").startswith("update/")
    ]


@pytest.fixture(scope="module")
def feeds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every kind of feed, built from real blog folders: name → its atom.xml."""
    made = tmp_path_factory.mktemp("feeds")
    into = made / "feeds"
    found: dict[str, Path] = {}

    sample = copy_sample(made / "sample")
    found["sample-live"] = build(sample, DURING_THE_NIGHT, into, "sample-live")
    found["sample-after"] = build(sample, AFTER_THE_NIGHT, into, "sample-after")
    # A correction (``countnight correct`` writes these two fields) and a withdrawal, the morning after.
    edit_entry(sample, CORRECTED, lambda t: t.replace("key: true\n", 'key: true\nupdated: "09:30"\ncorrection: "The majority was misstated."\n', 1))  # fmt: skip
    edit_entry(sample, WITHDRAWN, lambda t: t.replace("key: true\n", "key: true\nstatus: withdrawn\n", 1))
    found["sample-corrected"] = build(sample, AFTER_THE_NIGHT, into, "sample-corrected")
    without_base_url(sample)
    found["sample-corrected-no-base-url"] = build(sample, AFTER_THE_NIGHT, into, "sample-corrected-no-base-url")
    live = copy_sample(made / "live")
    without_base_url(live)
    found["sample-live-no-base-url"] = build(live, DURING_THE_NIGHT, into, "sample-live-no-base-url")

    national = made / "national"
    result = CliRunner().invoke(main, ["replay", "--root", str(national), "--instant"])
    assert result.exit_code == 0, result.output
    found["national-no-base-url"] = build(national, AFTER_THE_NIGHT, into, "national-no-base-url")
    with (national / "countnight.toml").open("a") as config:
        config.write('base_url = "https://example.org/ge2024/"\n')
    found["national"] = build(national, AFTER_THE_NIGHT, into, "national")

    found["empty"] = build(write_blog(made / "empty", {}), DURING_THE_NIGHT, into, "empty")
    odd = "".join(FORBIDDEN)
    root = write_blog(made / "odd", night_with(odd, odd.replace("\x00", "")), config=config_with(odd))
    found["odd-characters"] = build(root, AFTER_THE_NIGHT, into, "odd-characters")
    return found


def test_every_kind_of_feed_is_valid_against_rfc_4287s_schema(schema: AtomSchema, feeds: dict[str, Path]) -> None:
    problems = schema.problems(list(feeds.values()))
    assert not problems, "\n".join(problems)


def test_the_feeds_are_the_kinds_they_claim(feeds: dict[str, Path]) -> None:
    """The check above saw what it was meant to: each case really is that case."""
    assert feed(feeds["sample-live"]).get(XML_BASE) == "https://example.org/election/"
    assert feed(feeds["sample-corrected-no-base-url"]).get(XML_BASE) is None
    assert feed(feeds["sample-live-no-base-url"]).get(XML_BASE) is None
    assert feed(feeds["national"]).get(XML_BASE) == "https://example.org/ge2024/"
    assert feed(feeds["national-no-base-url"]).get(XML_BASE) is None
    after, corrected = entry_ids(feeds["sample-after"]), entry_ids(feeds["sample-corrected"])
    assert f"update/{WITHDRAWN}.html" in after and f"update/{WITHDRAWN}.html" not in corrected
    assert len(entry_ids(feeds["sample-live"])) < len(after)  # the live night has fewer entries so far
    entry = next(e for e in feed(feeds["sample-corrected"]).iter(f"{ATOM}entry") if CORRECTED in ElementTree.tostring(e, "unicode"))  # fmt: skip
    assert entry.findtext(f"{ATOM}updated", "").startswith("2024-07-05T09:30")
    assert len(entry_ids(feeds["national"])) > 10
    assert entry_ids(feeds["empty"]) == []
    assert len(entry_ids(feeds["odd-characters"])) == 4


def test_the_check_finds_what_the_rfc_forbids(schema: AtomSchema, tmp_path: Path) -> None:
    """The schema check is no formality: a feed the RFC forbids, each way, is refused, naming the file."""
    good = (Path(__file__).parent / "golden" / "atom.xml").read_text()
    broken = {  # name → (the feed, what jing must say)
        "no-id": (re.sub(r"(?m)^  <id>.*\n", "", good, count=1), 'missing required element "id"'),
        "bad-date": (good.replace("<updated>2024-07-05T07:00:00+01:00", "<updated>5 July 2024", 1), "ISO date"),
        "odd-attribute": (good.replace("<generator>", '<generator colour="red">', 1), 'attribute "colour" not allowed'),
        # The Schematron rules: with no author on the feed, every entry needs one of its own...
        "no-author": (re.sub(r"(?m)^\s*<author>.*</author>\n", "", good), "must have an atom:author"),
        # ...and every entry needs an alternate link or content.
        "no-link-or-content": (
            re.sub(
                r'(?s)    <link rel="alternate" type="text/html" href="update/[^"]*"/>\n(.*?)    <content type="html">.*?</content>\n',
                r"\1", good, count=1,
            ),
            "at least one atom:link element",
        ),
    }  # fmt: skip
    for name, (text, said) in broken.items():
        assert text != good, name
        path = tmp_path / f"{name}.xml"
        path.write_text(text)
        problems = schema.problems([path])
        assert problems and all(str(path) in p for p in problems) and any(said in p for p in problems), (name, problems)
    assert not schema.problems([Path(__file__).parent / "golden" / "atom.xml"])
