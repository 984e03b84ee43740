"""Share cards: the 1200×630 picture a link to a page shows where it is shared (``og:image``).

Each share page gets one (the headline; for a result the winner's party colour, the figures and gain or
hold, with the candidates' shares as a bar), and the index and results.html one for the night (the blog's
title and the seat tally, with the seats as a bar). A ``Card`` is what a picture shows, worked out in
microseconds from a view; its digest names the file (``cards/<digest>.png``), so a share page can name its card
before anyone draws it, a corrected entry's card gets a new name (no CDN serves the old one for it), and a
card no page names any more goes with the build's other deleted files.

Drawing one is a few milliseconds, so it is done only where the file is written (a cold build's workers, on
every core) and kept in ``.countnight/cards/`` by digest: a restart, a rebuild or a change of theme draws
nothing already drawn. The picture is drawn as 8-bit grey levels in three bands and saved with a palette
that maps each band's levels from its background to its text colour: a quarter of the bytes of RGB to
compress, the same antialiased text. The font ships with countnight (data/fonts, DejaVu Sans), so the same
card is the same bytes on every machine.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .parties import NEUTRAL_COLOUR, party_colour, party_name, party_short, party_text_colour

if TYPE_CHECKING:
    from PIL import Image, ImageDraw, ImageFont

    from .config import Event
    from .elections import Scoreboard
    from .views import EntryView

WIDTH, HEIGHT = 1200, 630
FOLDER = "cards"
CACHE = "cards"  # under .countnight/
# Changes whenever the drawing below changes what a card looks like: part of every card's digest.
DRAWING = "1"
_FONTS = Path(__file__).parent / "data" / "fonts"
_BAND = 100  # the coloured band at the top
_FOOT = 540  # where the dark strip at the foot starts
_MARGIN = 60
_INK, _PAPER, _ACCENT, _FOOT_TEXT = "#141414", "#FFFFFF", "#B80000", "#E0E0E0"
_PNG = b"\x89PNG\r\n\x1a\n"
_KINDS = {"update": "Live update", "turnout": "Turnout", "quote": "Quote", "summary": "Summary", "result": "Result"}


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


@dataclass(frozen=True)
class Card:
    """Everything a share card shows, and nothing else: two cards that are equal are the same picture."""

    label: str  # the band's words: "Labour gain from Conservative", "Breaking", "Live"
    colour: str  # the band's colour (#RRGGBB)
    text_colour: str  # its text's
    headline: str
    lines: tuple[str, ...] = ()  # the figures, a line each
    bar: tuple[tuple[str, int], ...] = ()  # (colour, weight): shares or seats, left to right
    foot: str = ""
    when: str = ""  # at the foot's right: the entry's time
    digest: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        shown = (self.label, self.colour, self.text_colour, self.headline, self.lines, self.bar, self.foot, self.when)
        digest = hashlib.sha256(f"{DRAWING}\n{shown!r}".encode()).hexdigest()[:20]
        object.__setattr__(self, "digest", digest)  # frozen: set once, here

    @property
    def path(self) -> str:
        """Where the card is in the site: named by what it shows."""
        return f"{FOLDER}/{self.digest}.png"

    @property
    def alt(self) -> str:
        """The picture in words (og:image:alt)."""
        return ". ".join((self.label, self.headline, *self.lines))


def entry_card(view: EntryView, event: Event) -> Card:
    """The card of an entry's share page."""
    entry = view.entry
    foot, when = event.title, view.time_shown
    result = view.result
    if result is not None:
        winner = result.winner
        verdict = party_name(winner.party)
        if result.gain is None:
            verdict += " win"
        elif result.gain:
            verdict += f" gain from {party_name(result.previous_winner or '')}"
        else:
            verdict += " hold"
        lines = [f"{winner.name} ({party_short(winner.party)}) {winner.votes:,} votes, {winner.share:.1f}%"]
        figures = f"Majority {result.majority:,} ({result.majority_pct:.1f}%)"
        if result.turnout_pct is not None:
            figures += f" · turnout {result.turnout_pct:.1f}%"
        lines.append(figures)
        bar = tuple((party_colour(c.party), c.votes) for c in result.candidates)
        colour = party_colour(winner.party)
        return Card(verdict, colour, party_text_colour(winner.party), view.headline, tuple(lines), bar, foot, when)
    lines = []
    turnout = view.turnout
    if turnout is not None and turnout.change is not None and turnout.previous is not None:
        direction = "down" if turnout.change < 0 else "up"
        lines.append(f"{turnout.pct:.1f}%, {direction} {abs(turnout.change):.1f} points from {turnout.previous:.1f}%")
    label = "Breaking" if entry.breaking else _KINDS.get(entry.kind, "Live")
    return Card(label, _ACCENT, _PAPER, view.headline, tuple(lines), (), foot, when)


def night_card(event: Event, scoreboard: Scoreboard, ended: bool) -> Card:
    """The card of the index and results.html: the blog's title and the seat tally."""
    seats = [(code, n) for code, n in scoreboard.seats.items() if n]
    lines = []
    if seats:
        shown = seats[:6]
        tally = " · ".join(f"{party_short(code)} {n:,}" for code, n in shown)
        if len(seats) > len(shown):
            tally += f" · others {sum(n for _, n in seats[len(shown) :]):,}"
        lines.append(tally)
        total = f" of {scoreboard.total:,}" if scoreboard.total else ""
        lines.append(f"{scoreboard.declared:,}{total} seats declared")
    else:
        lines.append("No seats declared yet")
    bar = tuple((party_colour(code), n) for code, n in seats)
    if bar and scoreboard.total and scoreboard.total > scoreboard.declared:  # the seats still to declare, in grey
        bar += ((NEUTRAL_COLOUR, scoreboard.total - scoreboard.declared),)
    label = "Coverage ended" if ended else "Live"
    foot = f"Edited by {event.editor}" if event.editor else "Results as they are declared"
    return Card(label, _ACCENT, _PAPER, event.title, tuple(lines), bar, foot)


def blog_card(event: Event) -> Card:
    """The blog's card, for a share page whose own card is not drawn yet: made from the config alone."""
    foot = f"Edited by {event.editor}" if event.editor else "Results as they are declared"
    return Card("Live coverage", _ACCENT, _PAPER, event.title, (), (), foot)


# -- drawing --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Face:
    """A font at a size. Its glyphs are drawn once each and kept: FreeType drew every string afresh, ~1.8 ms a
    line at these sizes (most of a card); a line pasted from kept glyphs is a few dozen microseconds."""

    bold: bool
    size: int

    @functools.cached_property
    def font(self) -> ImageFont.FreeTypeFont:
        from PIL import ImageFont

        name = "DejaVuSans-Bold.ttf" if self.bold else "DejaVuSans.ttf"
        # Basic layout: the same advances whether or not Pillow was built with libraqm.
        return ImageFont.truetype(str(_FONTS / name), self.size, layout_engine=ImageFont.Layout.BASIC)

    @functools.cached_property
    def glyphs(self) -> dict[str, tuple[Image.Image | None, int, int, float]]:
        return {}

    def glyph(self, char: str) -> tuple[Image.Image | None, int, int, float]:
        """The character's coverage (0-255), where it sits from the pen, and how far the pen then moves."""
        kept = self.glyphs.get(char)
        if kept is None:
            from PIL import Image, ImageDraw

            left, top, right, bottom = self.font.getbbox(char)
            mask = None
            if right > left and bottom > top:
                mask = Image.new("L", (right - left, bottom - top), 0)
                ImageDraw.Draw(mask).text((-left, -top), char, font=self.font, fill=255)
            kept = self.glyphs[char] = (mask, left, top, self.font.getlength(char))
        return kept

    def length(self, text: str) -> float:
        return sum(self.glyph(char)[3] for char in text)

    def write(self, image: Image.Image, x: float, y: int, text: str, ink: int) -> None:
        """``text`` on ``image`` from (x, y), each glyph's coverage mixing ``ink`` with what is there."""
        for char in text:
            mask, left, top, advance = self.glyph(char)
            if mask is not None:
                image.paste(ink, (round(x) + left, y + top), mask)
            x += advance


@functools.cache
def _face(bold: bool, size: int) -> _Face:
    return _Face(bold, size)


def _wrap(text: str, face: _Face, width: int) -> list[str]:
    """``text`` in lines no wider than ``width`` (a word wider than a line is cut where it must be)."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}" if line else word
        if face.length(candidate) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        while face.length(word) > width:  # a very long word (an address): cut it to fit
            cut = _longest(word, "", face, width)
            lines.append(word[:cut])
            word = word[cut:]
        line = word
    if line:
        lines.append(line)
    return lines


def _longest(text: str, end: str, face: _Face, width: int) -> int:
    """How many of ``text``'s characters fit ``width`` with ``end`` after them (at least one)."""
    low, high = 1, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if face.length(text[:middle] + end) <= width:
            low = middle
        else:
            high = middle - 1
    return low


def _fit(text: str, face: _Face, width: int) -> str:
    """One line of ``text``, ending in "…" if it had to be cut."""
    if face.length(text) <= width:
        return text
    return text[: _longest(text, "…", face, width)].rstrip() + "…"


def _headline(text: str, room: int, sizes: Sequence[int]) -> tuple[_Face, list[str], int]:
    """The largest size at which the headline fits ``room`` pixels of height; at the smallest, cut with "…"."""
    width = WIDTH - 2 * _MARGIN
    for size in sizes:
        face = _face(True, size)
        step = size * 6 // 5
        lines = _wrap(text, face, width)
        if len(lines) * step <= room:
            return face, lines, step
    most = max(1, room // step)
    if len(lines) > most:
        lines = [*lines[: most - 1], _fit(" ".join(lines[most - 1 :]), face, width)]
    return face, lines, step


def _palette(card: Card) -> bytes:
    """Grey levels → colours: 0-63 the band (its colour to its text's), 64-127 the page (paper to ink), 128-191
    the foot (ink to its text), 192 on: the bar's colours, one each."""

    def ramp(start: str, end: str) -> list[int]:
        a, b = _rgb(start), _rgb(end)
        return [round(a[c] + (b[c] - a[c]) * i / 63) for i in range(64) for c in range(3)]

    solid = [channel for colour, _ in card.bar[:64] for channel in _rgb(colour)]
    return bytes(ramp(card.colour, card.text_colour) + ramp(_PAPER, _INK) + ramp(_INK, _FOOT_TEXT) + solid)


def draw_card(card: Card) -> bytes:
    """The card as a PNG, the same bytes for the same card."""
    from PIL import Image, ImageDraw

    image = Image.new("L", (WIDTH, HEIGHT), 64)
    pen = ImageDraw.Draw(image)
    pen.rectangle((0, 0, WIDTH, _BAND - 1), fill=0)
    pen.rectangle((0, _FOOT, WIDTH, HEIGHT), fill=128)
    width = WIDTH - 2 * _MARGIN
    label = _face(True, 38)
    label.write(image, _MARGIN, 30, _fit(card.label.upper(), label, width), 63)
    small = _face(False, 34)
    below = 64 * len(card.lines) + (44 if card.bar else 0)  # the figures and the bar under the headline
    top = _BAND + 40
    face, lines, step = _headline(card.headline, _FOOT - 40 - top - below, (72, 62, 54, 46))
    y = top
    for line in lines:
        face.write(image, _MARGIN, y, line, 127)
        y += step
    y += 12
    for line in card.lines:
        small.write(image, _MARGIN, y, _fit(line, small, width), 127)
        y += 52
    if card.bar:
        _bar(pen, card.bar, y + 8)
    foot = _face(False, 30)
    when = foot.length(card.when) if card.when else 0
    foot.write(image, _MARGIN, _FOOT + 28, _fit(card.foot, foot, int(width - when - 40)), 191)
    if card.when:
        foot.write(image, WIDTH - _MARGIN - when, _FOOT + 28, card.when, 191)
    image.putpalette(_palette(card))  # the grey levels become the colours; the image is now "P"
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=1)
    return out.getvalue()


def _bar(pen: ImageDraw.ImageDraw, parts: Sequence[tuple[str, int]], y: int) -> None:
    """The shares or seats as one bar across the card, each part in its own palette entry (192 on)."""
    parts = parts[:64]
    total = sum(weight for _, weight in parts)
    if total <= 0:
        return
    left, width = _MARGIN, WIDTH - 2 * _MARGIN
    done = 0
    for index, (_, weight) in enumerate(parts):
        start = left + width * done // total
        done += weight
        end = left + width * done // total
        if end > start:
            pen.rectangle((start, y, end - 1, y + 23), fill=192 + index)


@dataclass
class CardBudget:
    """This build's share cards: those published already, and how many more may be drawn.

    A card is a few milliseconds to draw (4-8 on a busy machine, most of it the PNG encoder): 10,000 of them
    would make a cold build of 2.5 s take a minute. So a build draws at most ``left`` cards it has never drawn
    (those kept in .countnight/cards cost a read), the newest entries' first; a share page whose card is not
    drawn yet names the blog's card (the night's title, which changes with nothing but the config), and gets
    its own in a later build: the watcher builds again while any wait, a few at a time between reporters' saves.
    """

    store: CardStore
    published: set[str | None]
    left: int | None  # None: no limit
    _spent: bool | None = field(default=None, init=False)

    def spent(self) -> bool:
        """Whether no entry's own card can be named any more in this build: none left to draw, none published,
        none kept. A cold build past its newest entries then need not work out the other cards at all (~8 µs
        an entry, in the build's own process before its workers start: ~0.1 s at 10,000 entries)."""
        if self.left != 0:
            return False
        if self._spent is None:
            self._spent = not self.published - {None} and not self.store.holds_any()
        return self._spent

    def own(self, card: Card) -> bool:
        """Whether ``card`` can be named now: drawn already, or drawn in this build."""
        if card.path in self.published or self.left is None or self.store.kept(card.digest):
            return True
        if self.left > 0:
            self.left -= 1
            return True
        return False


class CardStore:
    """Cards as PNGs, kept by digest in a folder (``.countnight/cards``) so none is drawn twice."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self._kept: set[str] | None = None
        self._ahead: tuple[frozenset[str], Callable[[], object]] | None = None  # see draw_ahead

    def kept(self, digest: str) -> bool:
        """Whether the folder held this card when first asked (listed once: a build asks for every entry)."""
        return digest in self._listing()

    def holds_any(self) -> bool:
        """Whether the folder held any card when first asked."""
        return bool(self._listing())

    def _listing(self) -> set[str]:
        if self._kept is None:
            self._kept = set()
            if self.folder is not None:
                with contextlib.suppress(OSError):  # no folder yet
                    self._kept = {name[:-4] for name in os.listdir(self.folder) if name.endswith(".png")}
        return self._kept

    def png(self, card: Card) -> bytes:
        """The card's PNG: from the folder, else drawn and kept there (quietly not, where it cannot write)."""
        if self.folder is None:
            return draw_card(card)
        path = self.folder / f"{card.digest}.png"
        if self._ahead is not None and card.digest in self._ahead[0]:
            self._ahead[1]()  # being drawn by another process: not drawn twice
        with contextlib.suppress(OSError):
            kept = path.read_bytes()
            if kept.startswith(_PNG):  # anything else there (an empty file, another kind of file) is drawn again
                self._note(card.digest)
                return kept
        data = draw_card(card)
        temp = f"{path}.{os.getpid()}.tmp"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with open(temp, "wb") as f:
                f.write(data)
            os.replace(temp, path)
            self._note(card.digest)
        except OSError:  # a read-only or full disk: drawn again next time
            with contextlib.suppress(OSError):
                os.unlink(temp)
        return data

    def draw_ahead(self, cards: Sequence[Card]) -> None:
        """Draw into the folder each of ``cards`` it does not hold yet (a one-off build's, in a process of their
        own: see site.py), so that ``png`` finds them there when the build writes its pages."""
        for card in cards:
            self.png(card)

    def drawn_ahead(self, cards: Sequence[Card], wait: Callable[[], object]) -> None:
        """``cards`` are being drawn into the folder by another process (``draw_ahead``): ``png`` calls ``wait``
        (until it is done) before it looks for one of them. What the folder held before is what ``kept`` says
        (listed now, if not yet): a card drawn ahead must not change which cards this build may draw."""
        self._listing()
        self._ahead = (frozenset(card.digest for card in cards), wait)

    def note_drawn(self, digests: Iterable[str]) -> None:
        """Cards another process drew into the folder (cardpainter.py): kept, from now on."""
        for digest in digests:
            self._note(digest)

    def _note(self, digest: str) -> None:
        if self._kept is not None:  # (in a cold build's worker, lost with it: the next build lists the folder)
            self._kept.add(digest)
