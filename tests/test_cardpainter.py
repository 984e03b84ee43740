"""A watcher's share cards drawn aside (cardpainter.py): by a process of their own, never in a build, while
reporters' saves go out at once; the site they end in is the one a build drawing every card makes; a store
that cannot keep them, a card that cannot be drawn, or the process killed hands the drawing back to the
builds, said once."""

from __future__ import annotations

import io
import os
import re
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import AFTER_THE_NIGHT, BlogMaker, copy_sample
from countnight import sharecards
from countnight.cardpainter import BATCH, CardPainter
from countnight.console import NORMAL, Console
from countnight.sharecards import Card, CardStore
from countnight.site import Site
from countnight.watch import Watcher

TIMEOUT = 60.0  # seconds: generous, for a loaded machine
_OG_IMAGE = re.compile(r'<meta property="og:image" content="[^"]*/(cards/[^"]+)">')
NOTES = 70  # more than one batch of cards


def _times(count: int) -> list[str]:
    """``count`` times a minute apart from 22:00 (at most 120)."""
    return [f"{22 + n // 60}:{n % 60:02d}" for n in range(count)]


def _notes(count: int) -> dict[str, str | bytes]:
    return {
        f"entries/{t.replace(':', '')}-note.md": f'---\ntime: "{t}"\ntitle: Note {t}\n---\nWords.\n'
        for t in _times(count)
    }


def _named(site: Path) -> dict[str, str]:
    """Each share page → the card it names."""
    return {
        page.name: match.group(1)
        for page in (site / "update").iterdir()
        if (match := _OG_IMAGE.search(page.read_text()))
    }


def _wait(predicate: Callable[[], object], what: str, detail: Callable[[], str] = str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}\n{detail()}"
        time.sleep(0.01)


def _all_drawn(watcher: Watcher, out: io.StringIO) -> None:
    _wait(lambda: watcher.last is not None and not watcher.last.cards_pending, "every card", out.getvalue)


@pytest.fixture
def drawn_here(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The headline of each card drawn in this process (the watcher's); those drawn aside are not."""
    drawn: list[str] = []
    real = sharecards.draw_card

    def draw(card: Card) -> bytes:
        drawn.append(card.headline)
        return real(card)

    monkeypatch.setattr(sharecards, "draw_card", draw)
    return drawn


def _kept(root: Path) -> set[str]:
    folder = root / ".countnight" / "cards"
    return {p.name for p in folder.iterdir()} if folder.is_dir() else set()


def _painter(watcher: Watcher) -> CardPainter:
    painter = watcher._painter
    assert painter is not None and painter.pid is not None
    return painter


def _watch(root: Path, out: io.StringIO, **options: object) -> Watcher:
    return Watcher(Site(root, long_lived=True, **options), console=Console(out, verbosity=NORMAL, colour=False))  # type: ignore[arg-type]


def test_the_cards_are_drawn_aside_and_the_site_ends_as_a_build_drawing_every_card_makes(
    blog: BlogMaker, tmp_path: Path, drawn_here: list[str]
) -> None:
    root = blog(_notes(NOTES))
    out = io.StringIO()
    watcher = _watch(root, out)
    first = watcher.start()
    painter = _painter(watcher)
    drawing = painter.pid
    try:
        assert first is not None and first.cards_pending == NOTES  # the first build drew none of the entries'
        _all_drawn(watcher, out)
        _wait(lambda: painter.pid is None and _reaped(drawing), "the drawing process to end, nothing left to draw")
    finally:
        watcher.stop()
    # The first build drew the night's card and the blog's (named until an entry's own is drawn); no other build
    # drew any: each entry's was drawn aside.
    assert len(drawn_here) == 2 and len(_kept(root)) == NOTES + 2, drawn_here
    assert "share cards" not in out.getvalue() and out.getvalue().count("published") == NOTES, out.getvalue()
    Site(root, tmp_path / "all", cards_per_build=None).build(AFTER_THE_NIGHT)
    site = root / "site"
    assert _named(site) == _named(tmp_path / "all") and len(set(_named(site).values())) == NOTES
    made = {p.name: p.read_bytes() for p in (site / "cards").iterdir()}
    assert made == {p.name: p.read_bytes() for p in (tmp_path / "all" / "cards").iterdir()}


def test_a_reporter_s_save_goes_out_while_the_cards_are_drawn_and_gets_its_own(
    blog: BlogMaker, drawn_here: list[str]
) -> None:
    """A save while the drawing process is held is built at once and draws nothing; its card comes later."""
    root = blog(_notes(NOTES))
    out = io.StringIO()
    watcher = _watch(root, out)
    watcher.start()
    painter = _painter(watcher)
    os.kill(painter.pid, signal.SIGSTOP)  # held, with a batch handed to it  # type: ignore[arg-type]
    try:
        _wait(lambda: painter.busy, "a batch handed to the drawing process")
        (root / "entries" / "2359-late.md").write_text('---\ntime: "23:59"\ntitle: A late word\n---\nWords.\n')
        _wait(lambda: "2359-late" in (root / "site" / "live.json").read_text(), "the save published", out.getvalue)
        assert len(drawn_here) == 2 and painter.busy  # the save's build drew nothing
    finally:
        os.kill(painter.pid, signal.SIGCONT)  # type: ignore[arg-type]
    try:
        _all_drawn(watcher, out)
    finally:
        watcher.stop()
    assert len(drawn_here) == 2 and len(_kept(root)) == NOTES + 3  # the late one's, and the night's and blog's
    named = _named(root / "site")
    assert len(named) == NOTES + 1 and len(set(named.values())) == NOTES + 1


def test_a_store_that_cannot_keep_cards_hands_the_drawing_back_to_the_builds(blog: BlogMaker) -> None:
    root = blog(_notes(12))
    (root / ".countnight").mkdir()
    (root / ".countnight" / "cards").write_text("a file where the cards' folder goes")
    out = io.StringIO()
    watcher = _watch(root, out, cards_per_build=4)
    watcher.start()
    try:
        _all_drawn(watcher, out)
    finally:
        watcher.stop()
    assert out.getvalue().count("share cards cannot be kept there; the builds draw them") == 1, out.getvalue()
    assert len(set(_named(root / "site").values())) == 12  # each its own, drawn by the builds


def test_the_drawing_process_killed_is_said_once_and_the_builds_draw_the_rest(blog: BlogMaker) -> None:
    root = blog(_notes(NOTES))
    out = io.StringIO()
    watcher = _watch(root, out, cards_per_build=16)
    watcher.start()
    painter = _painter(watcher)
    drawing = painter.pid
    try:
        os.kill(painter.pid, signal.SIGKILL)  # type: ignore[arg-type]
        _all_drawn(watcher, out)
    finally:
        watcher.stop()
    assert out.getvalue().count("the process drawing share cards ended; the builds draw them") == 1, out.getvalue()
    assert len(set(_named(root / "site").values())) == NOTES
    assert _reaped(drawing) and painter.pid is None


def test_the_painter_takes_one_batch_at_a_time_says_what_it_drew_and_ends(tmp_path: Path) -> None:
    done = threading.Event()
    painter = CardPainter(tmp_path / "cards", done.set)
    cards = [Card("Live", "#000000", "#ffffff", f"Headline {n}") for n in range(BATCH + 3)]
    assert not painter.paint(cards)  # not started
    painter.start()
    assert painter.pid is None  # its process starts with the first batch
    assert painter.paint(cards) and not painter.paint(cards[:1])  # busy with the first
    first = painter.pid
    assert done.wait(TIMEOUT) and not painter.busy and painter.trouble is None
    assert sorted(painter.take_drawn()) == sorted(c.digest for c in cards[:BATCH]) and painter.take_drawn() == []
    assert sorted(p.name for p in (tmp_path / "cards").iterdir()) == sorted(f"{c.digest}.png" for c in cards[:BATCH])
    assert (tmp_path / "cards" / f"{cards[0].digest}.png").read_bytes() == sharecards.draw_card(cards[0])
    store = CardStore(tmp_path / "cards")
    assert all(store.kept(c.digest) for c in cards[:BATCH]) and not store.kept(cards[-1].digest)
    assert not painter.paint([])  # nothing to draw
    painter.rest()  # its process ends; the next batch starts another
    assert painter.pid is None and painter.working
    _wait(lambda: _reaped(first), "the process that rested to end")
    done.clear()
    assert painter.paint(cards[BATCH:]) and done.wait(TIMEOUT)
    assert painter.pid not in (None, first) and painter.trouble is None  # (rested: not trouble)
    second = painter.pid
    painter.stop()
    assert not painter.working and not painter.paint(cards) and painter.trouble is None
    assert _reaped(second) and len(list((tmp_path / "cards").iterdir())) == BATCH + 3


def _reaped(pid: int | None) -> bool:
    """Whether the process has ended and been waited for (no zombie left)."""
    assert pid is not None
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def _trouble_after_one_card(folder: Path, card: Card) -> str | None:
    """A painter handed one card: why it stopped, once it has answered (None: it goes on)."""
    done = threading.Event()
    painter = CardPainter(folder, done.set)
    painter.start()
    try:
        assert painter.paint([card]) and done.wait(TIMEOUT)
    finally:
        painter.stop()
    assert painter.working is False
    return painter.trouble


def test_a_card_that_cannot_be_drawn_aside_stops_the_painter_and_says_why(tmp_path: Path) -> None:
    trouble = _trouble_after_one_card(tmp_path / "cards", Card("Live", "#not-a-colour", "#ffffff", "Headline"))
    assert trouble is not None and trouble.startswith("a share card could not be drawn aside (")
    assert trouble.endswith("); the builds draw them")


def test_a_store_that_cannot_keep_cards_stops_the_painter(tmp_path: Path) -> None:
    (tmp_path / "cards").write_text("a file where the folder goes")
    trouble = _trouble_after_one_card(tmp_path / "cards", Card("Live", "#000000", "#ffffff", "Headline"))
    assert trouble == f"{tmp_path / 'cards'}: share cards cannot be kept there; the builds draw them"


def test_the_sample_night_under_a_watcher_names_every_card_a_one_off_build_does(tmp_path: Path) -> None:
    root = copy_sample(tmp_path / "night")
    out = io.StringIO()
    watcher = _watch(root, out)
    watcher.start()
    try:
        _all_drawn(watcher, out)
    finally:
        watcher.stop()
    Site(root, tmp_path / "all", cards_per_build=None).build()
    assert _named(root / "site") == _named(tmp_path / "all")


def test_a_build_names_cards_drawn_aside_past_newer_entries_still_waiting_and_a_save_s_build_names_none(
    blog: BlogMaker,
) -> None:
    root = blog(_notes(12))
    site = Site(root, long_lived=True)
    assert site.build(AFTER_THE_NIGHT, draw=0).cards_pending == 12
    for card in site.cards_to_draw(5):  # the newest five, drawn aside (here, in this process)
        site.cards.png(card)
    (root / "entries" / "2359-late.md").write_text('---\ntime: "23:59"\ntitle: A late word\n---\nWords.\n')
    report = site.build(AFTER_THE_NIGHT, changed=["entries/2359-late.md"], draw=0)
    assert report.cards_pending == 13 and [v.id for v in report.published] == ["2359-late"]  # a save names none
    assert len(report.changes.files) < 20, sorted(report.changes.files)
    assert site.build(AFTER_THE_NIGHT, changed=[], draw=0, name_kept=3).cards_pending == 10  # past the late one
    assert site.build(AFTER_THE_NIGHT, changed=[], draw=0, name_kept=32).cards_pending == 8
    assert [card.headline for card in site.cards_to_draw(2)] == ["A late word", "Note 22:06"]
