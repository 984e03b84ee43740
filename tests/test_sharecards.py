"""Share cards: the 1200×630 PNG each share page, the index and results.html name as og:image. Drawn from
what the page shows, the same bytes every time, named by what they show, kept in .countnight/cards, made
again on a correction and gone on a withdrawal; in the build's changes before the pages that name them."""

from __future__ import annotations

import io
import json
import re
import time
from collections import Counter
from pathlib import Path

import pytest
from PIL import Image

from conftest import AFTER_THE_NIGHT, DURING_THE_NIGHT, BlogMaker
from countnight.changes import write_order
from countnight.console import NORMAL, Console
from countnight.parties import party_colour
from countnight.sharecards import HEIGHT, WIDTH, Card, draw_card
from countnight.site import Site
from countnight.storeplan import object_meta, references, upload_waves
from countnight.watch import Watcher

BASE_URL = "https://example.org/election/"
_OG_IMAGE = re.compile(r'<meta property="og:image" content="([^"]*)">')
RESULT = "0216-cannock-chase-result"  # a Labour gain in the sample night


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _colours(data: bytes) -> set[tuple[int, int, int]]:
    image = Image.open(io.BytesIO(data)).convert("RGB")
    return {colour for _, colour in image.getcolors(WIDTH * HEIGHT) or []}


def _card(site: Path, page: str) -> tuple[str, bytes]:
    """The og:image a page names, as a path of the site, and the file's bytes."""
    found = _OG_IMAGE.search((site / page).read_text())
    assert found, f"{page} names no og:image"
    address = found[1]
    path = address.removeprefix(BASE_URL) if address.startswith(BASE_URL) else address.removeprefix("../")
    return path, (site / path).read_bytes()


def test_a_card_is_a_1200_by_630_png_the_same_bytes_every_time() -> None:
    card = Card(
        "Labour gain from Conservative",
        party_colour("Lab"),
        "#FFFFFF",
        "Labour gain Cannock Chase from the Conservatives, a headline long enough to wrap onto a second line",
        ("Josh Newbury (Lab) 15,671 votes, 36.3%", "Majority 3,125 (7.2%) · turnout 56.9%"),
        ((party_colour("Lab"), 15671), (party_colour("Con"), 12546), (party_colour("RUK"), 11570)),
        "Test night",
        "02:16 BST 5 July",
    )
    data = draw_card(card)
    assert data == draw_card(card)  # deterministic: the golden site and CDNs depend on it
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(data))
    assert image.size == (WIDTH, HEIGHT) and image.format == "PNG"
    assert not image.info.get("exif") and "dpi" not in image.info  # nothing but the picture
    colours = _colours(data)
    # The band in the winner's colour, the bar with each candidate's party's, the page and the ink.
    for colour in (party_colour("Lab"), party_colour("Con"), party_colour("RUK"), "#FFFFFF", "#141414"):
        assert _rgb(colour) in colours, colour
    band = Image.open(io.BytesIO(data)).convert("RGB").getpixel((5, 5))
    assert band == _rgb(party_colour("Lab"))
    # A different card is a different file.
    other = Card(card.label, card.colour, card.text_colour, card.headline + "!", card.lines, card.bar)
    assert other.digest != card.digest and other.path != card.path


def test_a_headline_of_any_length_and_any_script_fits_the_card() -> None:
    for headline in ("x", "Ynys Môn: Plaid Cymru’s gain — ŵ ŷ “quoted” …", "W" * 400, "word " * 200, "Ä" * 3):
        data = draw_card(Card("Live", "#B80000", "#FFFFFF", headline, ("figures " * 40,), (), "foot " * 40, "now"))
        assert Image.open(io.BytesIO(data)).size == (WIDTH, HEIGHT)


@pytest.mark.parametrize("base_url", [True, False], ids=["base_url", "no_base_url"])
def test_every_share_page_the_index_and_results_name_a_card_that_exists(sample_night: Path, base_url: bool) -> None:
    if not base_url:
        config = sample_night / "countnight.toml"
        config.write_text(config.read_text().replace(f'base_url = "{BASE_URL}"', ""))
    report = Site(sample_night).build(AFTER_THE_NIGHT)
    assert report.built and not report.problems, report.problems
    site = sample_night / "site"
    pages = ["index.html", "results.html", *sorted(f"update/{p.name}" for p in (site / "update").iterdir())]
    assert len(pages) > 20
    cards = set()
    for page in pages:
        text = (site / page).read_text()
        address = _OG_IMAGE.search(text)
        assert address, page
        assert address[1].startswith(BASE_URL) == base_url, address[1]
        path, data = _card(site, page)
        assert re.fullmatch(r"cards/[0-9a-f]{20}\.png", path), path
        assert Image.open(io.BytesIO(data)).size == (WIDTH, HEIGHT)
        for tag in (
            'og:image:width" content="1200"',
            'og:image:height" content="630"',
            'og:image:type" content="image/png"',
        ):
            assert tag in text, (page, tag)
        assert '<meta property="og:image:alt" content="' in text
        assert '<meta name="twitter:card" content="summary_large_image">' in text
        cards.add(path)
    assert _card(site, "index.html")[0] == _card(site, "results.html")[0]  # the night's card: title and tally
    assert {f"cards/{p.name}" for p in (site / "cards").iterdir()} == cards  # no card that no page names
    result_card = _card(site, f"update/{RESULT}.html")[1]
    assert _rgb(party_colour("Lab")) in _colours(result_card)
    alt = re.search(r'og:image:alt" content="([^"]*)"', (site / f"update/{RESULT}.html").read_text())
    assert alt and alt[1].startswith("Labour gain from Conservative. Labour gain Cannock Chase"), alt


def test_cards_are_kept_by_digest_and_never_drawn_twice(sample_night: Path, tmp_path: Path) -> None:
    Site(sample_night).build(AFTER_THE_NIGHT)
    kept = sample_night / ".countnight" / "cards"
    path, data = _card(sample_night / "site", f"update/{RESULT}.html")
    digest = Path(path).stem
    assert (kept / f"{digest}.png").read_bytes() == data
    # What is kept is what a build publishes: a card marked in the store comes out marked, so it was not drawn.
    marked = data + b"kept"
    (kept / f"{digest}.png").write_bytes(marked)
    other = tmp_path / "elsewhere"
    report = Site(sample_night, other).build(AFTER_THE_NIGHT)
    assert report.built and (other / path).read_bytes() == marked


def test_a_correction_makes_a_new_card_and_a_withdrawal_takes_it_away(sample_night: Path) -> None:
    site_folder = sample_night / "site"
    site = Site(sample_night)
    site.build(DURING_THE_NIGHT)
    before, _ = _card(site_folder, f"update/{RESULT}.html")
    night_before, _ = _card(site_folder, "index.html")
    entry = sample_night / "entries" / f"{RESULT}.md"
    entry.write_text(entry.read_text().replace("votes: 15671", "votes: 15771"))
    report = site.build(DURING_THE_NIGHT)
    assert report.built and not report.problems, report.problems
    after, _ = _card(site_folder, f"update/{RESULT}.html")
    assert after != before and not (site_folder / before).exists()
    assert after in report.changes.files and f"update/{RESULT}.html" in report.changes.files
    assert write_order(after) < write_order(f"update/{RESULT}.html")  # the card goes out first
    assert _card(site_folder, "index.html")[0] == night_before  # the tally did not change: nor did its card
    entry.write_text(entry.read_text().replace("kind: result", "kind: result\nstatus: withdrawn"))
    report = site.build(DURING_THE_NIGHT)
    assert report.built and not report.problems
    assert not (site_folder / after).exists() and after in report.changes.deleted
    assert _card(site_folder, "index.html")[0] != night_before  # one seat fewer in the tally


def test_an_object_store_uploads_a_card_before_the_page_that_names_it(sample_night: Path) -> None:
    report = Site(sample_night).build(AFTER_THE_NIGHT)
    site = sample_night / "site"
    page = f"update/{RESULT}.html"
    card, _ = _card(site, page)
    assert card in references(page, (site / page).read_bytes(), BASE_URL)
    names = {name: references(name, (site / name).read_bytes(), BASE_URL) for name in (page, card, "index.html")}
    waves = upload_waves(names, stored=set())
    order = [name for wave in waves for name in wave]
    assert order.index(card) < order.index(page) < order.index("index.html")
    assert object_meta(card).cache_control == "public, max-age=31536000, immutable"
    assert object_meta(card).content_type == "image/png"
    assert report.built


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_a_build_draws_a_few_cards_and_the_next_ones_the_rest_newest_first(sample_night: Path, tmp_path: Path) -> None:
    """A build draws at most so many cards it never drew; the other share pages name the blog's card (which
    exists, and changes with the config alone) until a later build draws theirs, newest entries first. Once none
    waits, the site is byte for byte the one a build drawing every card makes."""
    site = Site(sample_night, long_lived=True, cards_per_build=5)
    report = site.build(AFTER_THE_NIGHT)
    out = sample_night / "site"
    pages = sorted(f"update/{p.name}" for p in (out / "update").iterdir())
    named = {page: _card(out, page)[0] for page in pages}
    blog = Counter(named.values()).most_common(1)[0][0]
    newest = [f"update/{e['id']}.html" for e in json.loads((out / "live.json").read_text())["entries"]]
    assert report.cards_pending == len(pages) - 5 == sum(card == blog for card in named.values())
    assert {page for page, card in named.items() if card != blog} == set(newest[:5])
    assert (out / blog).is_file() and blog != _card(out, "index.html")[0]
    assert site.inputs_seen() is not None  # recorded as up to date: a restart is quick; a watcher draws the rest
    builds = 0
    while report.cards_pending:
        before = report.cards_pending
        report = site.build(AFTER_THE_NIGHT, changed=[])  # as the watcher does, once things are quiet
        assert report.built and report.cards_pending == max(0, before - 5)
        builds += 1
    assert builds == -(-(len(pages) - 5) // 5) and not (out / blog).exists()  # the blog's card went with the last
    Site(sample_night, tmp_path / "all", cards_per_build=None).build(AFTER_THE_NIGHT)
    assert _files(out) == _files(tmp_path / "all")


def test_a_watcher_that_does_not_draw_aside_draws_the_waiting_cards_in_builds_between_saves(blog: BlogMaker) -> None:
    """No file changes, and no cards drawn aside (test_cardpainter.py): the watcher builds again while cards
    wait, drawing a few at a time, and says nothing of it."""
    files: dict[str, str | bytes] = {
        f"entries/23{minute:02d}-note.md": f'---\ntime: "23:{minute:02d}"\ntitle: Note {minute}\n---\nWords.\n'
        for minute in range(12)
    }
    root = blog(files)
    out = io.StringIO()
    site = Site(root, long_lived=True, cards_per_build=2)
    watcher = Watcher(site, console=Console(out, verbosity=NORMAL, colour=False), quiet=0.03, paint_cards=False)
    first = watcher.start()
    try:
        assert first is not None and first.cards_pending == 10
        deadline = time.monotonic() + 15
        while watcher.last is None or watcher.last.cards_pending:
            assert time.monotonic() < deadline, f"cards still waiting: {out.getvalue()}"
            time.sleep(0.01)
        assert watcher.builds >= 6
    finally:
        watcher.stop()
    site_folder = root / "site"
    named = {_card(site_folder, f"update/23{minute:02d}-note.html")[0] for minute in range(12)}
    assert len(named) == 12 and len(list((site_folder / "cards").iterdir())) == 13  # theirs and the night's
    assert out.getvalue().count("published") == 12, out.getvalue()  # one line each, none for the cards


def test_a_reporter_s_save_is_published_before_its_card_is_drawn(sample_night: Path) -> None:
    """Under a watcher a build for changed files draws no card: the entry goes out at once, naming the blog's
    card, and the next build (the watcher's, a moment later) draws its own."""
    site = Site(sample_night, long_lived=True)
    site.build(AFTER_THE_NIGHT, changed=None)
    while site.build(AFTER_THE_NIGHT, changed=[]).cards_pending:
        pass
    out = sample_night / "site"
    blog = _card(out, "index.html")[0]  # (any card but the entry's own will do to compare with)
    (sample_night / "entries" / "0705-late.md").write_text('---\ntime: "07:05"\ntitle: A late word\n---\nWords.\n')
    report = site.build(AFTER_THE_NIGHT, changed=["entries/0705-late.md"])
    assert [v.id for v in report.published] == ["0705-late"] and report.cards_pending == 1
    waiting, _ = _card(out, "update/0705-late.html")
    assert waiting != blog and not any(path.endswith(".png") and path != waiting for path in report.changes.files)
    report = site.build(AFTER_THE_NIGHT, changed=[])
    own, data = _card(out, "update/0705-late.html")
    assert report.cards_pending == 0 and own != waiting and not (out / waiting).exists()
    assert Image.open(io.BytesIO(data)).size == (WIDTH, HEIGHT)


def test_a_result_s_save_keeps_the_night_s_card_until_the_next_build_draws_the_new_tally(sample_night: Path) -> None:
    site = Site(sample_night, long_lived=True)
    site.build(DURING_THE_NIGHT, changed=None)
    while site.build(DURING_THE_NIGHT, changed=[]).cards_pending:
        pass
    out = sample_night / "site"
    night, _ = _card(out, "index.html")
    result = (sample_night / "entries" / "0338-stafford-result.md").read_text().replace('"03:38"', '"03:25"')
    assert '"03:25"' in result
    (sample_night / "entries" / "0338-stafford-result.md").unlink()
    (sample_night / "entries" / "0325-stafford-result.md").write_text(result)  # declared before 03:30 now
    names = ["entries/0325-stafford-result.md", "entries/0338-stafford-result.md"]
    report = site.build(DURING_THE_NIGHT, changed=names)
    assert [v.id for v in report.published] == ["0325-stafford-result"] and report.cards_pending == 2
    assert not any(
        path.endswith(".png")
        for path in report.changes.files
        if path != _card(out, "update/0325-stafford-result.html")[0]
    )
    assert _card(out, "index.html")[0] == _card(out, "results.html")[0] == night  # the tally's card, a moment old
    report = site.build(DURING_THE_NIGHT, changed=[])
    assert report.cards_pending == 0 and _card(out, "index.html")[0] == _card(out, "results.html")[0] != night
    assert not (out / night).exists()
