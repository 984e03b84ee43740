"""The results map: the 650 constituencies as equal hexagons, each declared seat in its winner's colour. Pure.

Drawn as SVG at build time, no script needed, from Open Innovations' hex layout of the 2024 constituencies
(``data/hexmap/uk-constituencies-2023.hexjson``, MIT: see ``data/hexmap/LICENSE.md``). Results are matched to hexes
by constituency name, folded as the baseline folds it (an entry names its seat, never its ONS code; the
layout's names are the Library's, "Glyndŵr" folding to "Glyndwr"). A declared seat that the layout does not
know (a by-election, a misspelling) is listed under the map, never an error.

Every hex is one element carrying ``data-hex="ONS code"``: a link to the seat's result (``update/ID.html``,
an address that never moves) named for screen readers ("Cannock Chase: Labour gain from Conservative"), or
for an undeclared seat an empty outline. The map as made is kept in the build's fragment store, so the next
build makes only the hexes whose result came, went or changed: a new result makes one new element and the
map is a join of strings already made. Open pages patch the map element by element (``live.js``); a push
channel can send just the changed elements of :attr:`HexMap.parts`.
"""

from __future__ import annotations

import functools
import json
import weakref
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from markupsafe import escape

from .baseline import Baseline, fold_name
from .feeds import share_path
from .parties import MAIN_PARTIES, party_colour, party_name, party_text_colour
from .views import EntryView, memo
from .xmltext import xml_chars

__all__ = [
    "LAYOUT_FILE",
    "Hex",
    "HexMap",
    "Layout",
    "hex_label",
    "load_layout",
    "own_seats",
    "parse_layout",
    "render_map",
    "shipped_layout",
]

LAYOUT_FILE = "uk-constituencies-2023.hexjson"
# Pointy-topped hexes 52 wide and 60 tall, rows 45 apart: whole numbers everywhere keep the SVG small (a
# regular hexagon 60 tall is 51.96 wide, so the shape is off by a tenth of a unit, which no one can see).
HALF_WIDTH = 26
WIDTH = 2 * HALF_WIDTH
SIDE = 30  # the centre to a vertex
ROW = 45  # 1.5 sides
MARGIN = 8
RING = 12  # the radius of a gain's ring
ZOOM_MARGIN = 2  # hexes around the blog's own seats on the compact map
ZOOM_MIN = 9  # hexes across and down, at least, on the compact map
PARTS_LEGEND = "legend"
PARTS_MISSING = "missing"
_OWN: weakref.WeakKeyDictionary[Baseline, frozenset[str]] = weakref.WeakKeyDictionary()  # see own_seats


@dataclass(frozen=True)
class Hex:
    """One constituency of the layout, placed: ``cx``, ``cy`` its centre in the SVG's units."""

    code: str
    name: str
    region: str
    cx: int
    cy: int

    @property
    def outline(self) -> str:
        """The hexagon as SVG path data, from its top vertex clockwise."""
        return f"M{self.cx} {self.cy - SIDE}l26 15v30l-26 15-26-15v-30z"


@dataclass(frozen=True)
class Layout:
    """The hexes in the layout's order, found by folded name, and the size of the whole map."""

    hexes: tuple[Hex, ...]
    by_name: Mapping[str, Hex]
    width: int
    height: int


@dataclass(frozen=True)
class HexMap:
    """A map as HTML (the SVG, its legend, the seats not on it) and as parts keyed like the page's elements.

    ``parts``: each hex's element by its ONS code (``data-hex``), and the legend and the list of seats not on
    the map by ``data-map-part``; two builds' maps differ exactly in the parts whose text differs.
    """

    html: str
    parts: Mapping[str, str]


def parse_layout(data: Any, source: str = LAYOUT_FILE) -> Layout:
    """A HexJSON ``odd-r`` layout (rows counted upwards: row 0 is the north) placed on the SVG's grid."""
    if not isinstance(data, dict) or data.get("layout") != "odd-r" or not isinstance(data.get("hexes"), dict):
        raise ValueError(f"{source}: not an odd-r HexJSON layout")
    raw: list[tuple[str, str, str, int, int]] = []
    for code, cell in data["hexes"].items():
        try:
            raw.append((str(code), str(cell["n"]), str(cell.get("region", "")), int(cell["q"]), int(cell["r"])))
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"{source}: hex {code!r} needs a name n and whole numbers q and r") from None
    if not raw:
        raise ValueError(f"{source}: no hexes")
    q_min = min(q for *_, q, _ in raw)
    q_max = max(q for *_, q, _ in raw)
    r_min = min(r for *_, r in raw)
    r_max = max(r for *_, r in raw)
    hexes = sorted(
        (
            Hex(
                code,
                name,
                region,
                MARGIN + HALF_WIDTH + (q - q_min) * WIDTH + (HALF_WIDTH if r & 1 else 0),  # odd rows shifted right
                MARGIN + SIDE + (r_max - r) * ROW,
            )
            for code, name, region, q, r in raw
        ),
        key=lambda cell: (cell.cy, cell.cx),  # reading order, north to south: the order Tab takes them in
    )
    by_name: dict[str, Hex] = {}
    for cell in hexes:
        if by_name.setdefault(fold_name(cell.name), cell) is not cell:
            raise ValueError(f"{source}: two hexes are named {cell.name!r}")
    width = 2 * MARGIN + (q_max - q_min + 1) * WIDTH + HALF_WIDTH
    height = 2 * MARGIN + (r_max - r_min) * ROW + 2 * SIDE
    return Layout(tuple(hexes), MappingProxyType(by_name), width, height)


def shipped_layout() -> Path:
    """The hex layout as shipped in the package (``countnight/data/hexmap``), with its licence beside it."""
    return Path(__file__).resolve().parent / "data" / "hexmap" / LAYOUT_FILE


@functools.cache
def load_layout() -> Layout:
    """The 2024 constituencies' layout shipped with countnight (read once per process)."""
    return parse_layout(json.loads(shipped_layout().read_text(encoding="utf-8")))


def hex_label(view: EntryView) -> str:
    """What a declared hex says: "Labour gain from Conservative", "Conservative hold", "Labour win"."""
    figures = view.result
    assert figures is not None  # only results are drawn
    winner = party_name(figures.winner.party)
    if figures.gain is None:
        return f"{winner} win"
    if figures.gain:
        return f"{winner} gain from {party_name(figures.previous_winner or '')}"
    return f"{winner} hold"


def _declared(cell: Hex, view: EntryView, look: str) -> str:
    """A declared seat's hex: a link to its result, in the winner's colour, ringed when it is a gain."""
    figures = view.result
    assert figures is not None
    code = figures.winner.party
    classes = f"h g{look}" if figures.gain else f"h{look}"
    ring = (
        f'<circle cx="{cell.cx}" cy="{cell.cy}" r="{RING}" stroke="{party_text_colour(code)}"/>' if figures.gain else ""
    )
    label = escape(xml_chars(f"{cell.name}: {hex_label(view)}"))
    return (
        f'<a href="{escape(share_path(view.id))}" class="{classes}" data-hex="{cell.code}" aria-label="{label}">'
        f'<path d="{cell.outline}" fill="{party_colour(code)}"/>{ring}</a>'
    )


@functools.cache
def _undeclared(cell: Hex, look: str) -> str:
    return f'<path class="u{look}" data-hex="{cell.code}" d="{cell.outline}"/>'


def _look(own: bool | None) -> str:
    """Extra classes of a hex on a zoomed map: " o" for the blog's own seats, " f" (faded) for the rest."""
    return "" if own is None else " o" if own else " f"


@functools.lru_cache(maxsize=8)
def _zoom(own: frozenset[str]) -> tuple[tuple[Hex, ...], str]:
    """The hexes around the blog's own seats (a margin of ``ZOOM_MARGIN`` hexes, and at least ``ZOOM_MIN`` hexes
    across and down, so a single seat still shows its neighbourhood), and the viewBox that frames them."""
    layout = load_layout()
    if not own:
        return layout.hexes, f"0 0 {layout.width} {layout.height}"
    around = [cell for cell in layout.hexes if cell.code in own]
    left, right = min(c.cx for c in around), max(c.cx for c in around)
    top, bottom = min(c.cy for c in around), max(c.cy for c in around)
    grow_x = max(ZOOM_MARGIN * WIDTH, (ZOOM_MIN * WIDTH - (right - left)) // 2)
    grow_y = max(ZOOM_MARGIN * ROW, (ZOOM_MIN * ROW - (bottom - top)) // 2)
    left, right = max(0, left - grow_x - HALF_WIDTH), min(layout.width, right + grow_x + HALF_WIDTH)
    top, bottom = max(0, top - grow_y - SIDE), min(layout.height, bottom + grow_y + SIDE)
    shown = tuple(c for c in layout.hexes if left < c.cx < right and top < c.cy < bottom)
    return shown, f"{left} {top} {right - left} {bottom - top}"


def own_seats(baseline: Baseline) -> frozenset[str]:
    """The codes of the hexes of the baseline's constituencies (those the layout knows), worked out once per
    baseline: the compact map is made again with every result, and a baseline may list thousands of seats."""
    found = _OWN.get(baseline)
    if found is None:
        layout = load_layout()
        names = (fold_name(row.constituency) for row in baseline)
        found = frozenset(cell.code for name in names if (cell := layout.by_name.get(name)) is not None)
        _OWN[baseline] = found
    return found


@functools.lru_cache(maxsize=8192)  # every result is looked up on every map: one cached call, not a fold each
def _cell(constituency: str) -> Hex | None:
    return load_layout().by_name.get(fold_name(constituency))


@dataclass
class _Drawn:
    """A map as last made, what the next is made from (see :func:`render_map`'s ``store``)."""

    key: tuple[object, ...]  # what every hex depends on besides its own result: the zoom and the highlight
    declared: dict[str, EntryView]  # ONS code → the result drawn there
    parts: dict[str, str]
    seats: Counter[str]  # the parties of the hexes drawn, for the legend


def _on_layout(results: Sequence[EntryView]) -> tuple[dict[str, EntryView], list[EntryView]]:
    """The declared results by the code of their hex, and those the layout does not know."""
    declared: dict[str, EntryView] = {}
    missing: list[EntryView] = []
    for view in results:
        if view.result is None:
            continue
        cell = _cell(view.entry.constituency or "")
        if cell is None:
            missing.append(view)
        else:
            declared.setdefault(cell.code, view)  # newest first: two spellings of one seat, the newest counts
    return declared, missing


def render_map(
    results: Sequence[EntryView],
    *,
    own: frozenset[str] | None = None,
    labelled_by: str = "",
    store: dict[str, Any] | None = None,
) -> HexMap | None:
    """The map of the declared ``results`` (the newest result per constituency, newest first).

    Without ``own`` it is the whole country. With the hexes of the blog's own seats (:func:`own_seats`) it is zoomed
    to them and their neighbours, they stand out and the rest is faded (the live page's compact map); when they are
    all the layout's it is the whole country. ``labelled_by``: the id of the heading that names the map.

    ``store`` (the build's fragment store) keeps the map as made, so the next is made from it: only the hexes whose
    result came, went or changed are made again, and the rest is a join of the strings kept.

    None when nothing of the night is on the layout: the seats followed (``own`` empty) or every result declared
    are all unknown to it (another country's election, a synthetic night).
    """
    declared, missing = _on_layout(results)
    if not declared and ((own is not None and not own) or missing):
        return None
    shown, view_box = _zoom(own or frozenset())
    if own is not None and len(own) == len(shown):  # nothing to stand out from (a blog that follows every seat)
        own = None
    key = (own, view_box)
    slot = "hexmap whole" if own is None else "hexmap zoomed"
    kept = store.get(slot) if store is not None else None
    if isinstance(kept, _Drawn) and kept.key == key:
        parts, seats, before = dict(kept.parts), Counter(kept.seats), kept.declared
        changed: Iterable[str] = [c for c in declared.keys() | before.keys() if declared.get(c) is not before.get(c)]
    else:
        parts, seats, before = {}, Counter(), {}
        changed = [cell.code for cell in shown]
    drawn = _drawn(own or frozenset())
    for code in changed:
        cell = drawn.get(code)
        if cell is None:  # outside the zoom
            continue
        was = before.get(code)
        if was is not None and was.result is not None:
            seats[was.result.winner.party] -= 1
        look = _look(None if own is None else code in own)
        view = declared.get(code)
        if view is None or view.result is None:
            parts[code] = _undeclared(cell, look)
        else:
            seats[view.result.winner.party] += 1
            parts[code] = _declared(cell, view, look)
    seats = +seats  # the parties left with a hex
    parts[PARTS_LEGEND] = _legend(seats, followed=own is not None)
    parts[PARTS_MISSING] = _missing(missing)
    if store is not None:
        store[slot] = _Drawn(key, declared, parts, seats)
    labelled = f' aria-labelledby="{escape(labelled_by)}"' if labelled_by else ""
    # A hex a line: the live channel sends a panel's changed lines, so a new result costs one hex, not the map
    hexes = "\n".join([parts[cell.code] for cell in shown])
    svg = f'<svg class="hexmap__svg" viewBox="{view_box}" role="group"{labelled}>\n{hexes}\n</svg>'
    return HexMap(f"{svg}\n{parts[PARTS_LEGEND]}\n{parts[PARTS_MISSING]}", MappingProxyType(parts))


@functools.lru_cache(maxsize=8)
def _drawn(own: frozenset[str]) -> Mapping[str, Hex]:
    """The hexes a map of ``own`` draws, by code."""
    return MappingProxyType({cell.code: cell for cell in _zoom(own)[0]})


def _key_hex(*, fill: str = "", ring: str = "", look: str = "") -> str:
    """A small hexagon for the legend: filled, ringed, or (no fill) empty like an undeclared seat."""
    shape = f'd="M{HALF_WIDTH} 2l24 14v28l-24 14-24-14v-28z"'
    shape = f'<path {shape} fill="{fill}"/>' if fill else f'<path class="u{look}" {shape}/>'
    if ring:
        shape += f'<circle cx="{HALF_WIDTH}" cy="{SIDE}" r="{RING}" stroke="{ring}"/>'
    return (
        f'<svg class="hexmap__key" viewBox="0 0 {WIDTH} {2 * SIDE}" aria-hidden="true" focusable="false">{shape}</svg>'
    )


def _legend(seats: Mapping[str, int], *, followed: bool = False) -> str:
    """The parties on the map (most seats first), what a ring means and what an empty hex means; on a zoomed
    map (``followed``), what the outline of the blog's own seats means.

    No counts: on a zoomed map they would count the faded neighbours too; the seats chart has them."""
    rank = {code: i for i, code in enumerate(MAIN_PARTIES)}
    ordered = sorted(seats.items(), key=lambda kv: (-kv[1], rank.get(kv[0], len(rank)), kv[0].casefold()))
    items = [
        f"<li>{_key_hex(fill=party_colour(code))}{escape(xml_chars(party_name(code)))}</li>" for code, _ in ordered
    ]
    items.append(f"<li>{_key_hex(ring='#000000')}Gain (ringed)</li>")
    items.append(f"<li>{_key_hex()}Not declared yet</li>")
    if followed:
        items.append(f"<li>{_key_hex(look=' o')}Seats we follow (outlined)</li>")
    # A key a line: the live channel sends a panel's changed lines, so a party's first seat costs its own key
    keys = "\n".join(items)
    return f'<ul class="hexmap__legend" data-map-part="{PARTS_LEGEND}">\n{keys}\n</ul>'


def _missing(views: Collection[EntryView]) -> str:
    """The declared seats the layout does not know, by name, each with its result: never an error."""
    if not views:
        return f'<div class="hexmap__missing" data-map-part="{PARTS_MISSING}"></div>'
    ordered = sorted(views, key=lambda v: (v.entry.constituency or "").casefold())
    items = "".join(memo(v, "hex missing", lambda v=v: _missing_item(v)) for v in ordered)
    return (
        f'<div class="hexmap__missing" data-map-part="{PARTS_MISSING}"><p>Not on the map ({len(ordered)}):</p>'
        f"<ul>{items}</ul></div>"
    )


def _missing_item(view: EntryView) -> str:
    name = escape(xml_chars(view.entry.constituency or ""))
    return f'<li><a href="{escape(share_path(view.id))}">{name}</a>: {escape(xml_chars(hex_label(view)))}</li>'
