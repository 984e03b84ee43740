"""The results map and charts: the layout and its join with the Library's results, a national replay drawn hex by
hex as the Library says, a new result changing one hex, seats the layout does not know, and the charts' figures."""

from __future__ import annotations

import hashlib
import json
import os
import re
import xml.etree.ElementTree as ET
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from conftest import AFTER_THE_NIGHT, BASELINE, CONFIG, BlogMaker
from countnight import ge2024, replay
from countnight.baseline import Baseline, fold_name, load_baseline
from countnight.charts import HOUSE, MAJORITY, seats_chart, vote_shares
from countnight.elections import Scoreboard, compute_result
from countnight.hexmap import (
    PARTS_LEGEND,
    PARTS_MISSING,
    HexMap,
    load_layout,
    own_seats,
    parse_layout,
    render_map,
    shipped_layout,
)
from countnight.livedelta import changed_lines
from countnight.parties import party_code, party_colour, party_name, party_text_colour
from countnight.site import Site
from countnight.views import make_view

_REFERENCE = Path(__file__).resolve().parents[2] / "shared/data/ge2024"  # beside the checkout, when it is there
DATA = Path(os.environ.get("COUNTNIGHT_DATA") or (_REFERENCE if _REFERENCE.is_dir() else ge2024.shipped_data()))
LIBRARY = pytest.mark.skipif(
    not (DATA / ge2024.CANDIDATES_FILE).is_file(),
    reason=f"the GE2024 data files are not in {DATA} (set COUNTNIGHT_DATA to their folder)",
)
HEX = re.compile(r'<(a|path) [^>]*data-hex="(?P<code>[^"]+)"[^>]*>')


def result(time: str, seat: str, *candidates: tuple[str, str, int]) -> str:
    lines = ["---", "kind: result", f'time: "{time}"', f"constituency: {seat}", "candidates:"]
    lines += [f"  - {{name: {name}, party: {party}, votes: {votes}}}" for name, party, votes in candidates]
    return "\n".join([*lines, "---", ""])


CANNOCK = result("02:16", "Cannock Chase", ("Josh Newbury", "Lab", 15671), ("Amanda Milling", "Con", 12546))
STAFFORD = result("03:38", "Stafford", ("Leigh Ingham", "Lab", 18000), ("Theo Clarke", "Con", 13405))


def svg_of(html: str, frame: str) -> ET.Element:
    """The map's <svg> (inside the element with id ``frame``, or the first) parsed as XML."""
    start = html.index(f'id="{frame}"') if frame else 0
    svg = html[html.index("<svg", start) : html.index("</svg>", start) + len("</svg>")]
    return ET.fromstring(svg)


def hexes(svg: ET.Element) -> dict[str, ET.Element]:
    return {el.attrib["data-hex"]: el for el in svg if "data-hex" in el.attrib}


def hex_parts(html: str) -> dict[str, str]:
    """Each hex's element as text, by its code (the declared ones with their path and ring)."""
    parts = {}
    for match in re.finditer(r'<a [^>]*data-hex="([^"]+)".*?</a>|<path [^>]*data-hex="([^"]+)"[^>]*/>', html):
        parts[match.group(1) or match.group(2)] = match.group(0)
    return parts


# -- the layout -----------------------------------------------------------------------------------------


def test_the_shipped_layout_has_the_650_constituencies_on_distinct_hexes() -> None:
    layout = load_layout()
    assert len(layout.hexes) == 650 == len({h.code for h in layout.hexes})
    assert len({(h.cx, h.cy) for h in layout.hexes}) == 650
    assert all(0 < h.cx < layout.width and 0 < h.cy < layout.height for h in layout.hexes)
    north = max(layout.hexes, key=lambda h: -h.cy)
    assert north.name == "Orkney and Shetland"  # row 0 is the north: drawn at the top


def test_the_layout_ships_whole_with_its_licence() -> None:
    note = (shipped_layout().parent / "LICENSE.md").read_text()
    assert "MIT License" in note and "Copyright (c) 2017- Open Innovations" in note
    recorded = re.search(r"sha256 `([0-9a-f]{64})`", note)
    assert recorded is not None
    assert hashlib.sha256(shipped_layout().read_bytes()).hexdigest() == recorded.group(1)
    reference = Path(__file__).resolve().parents[2] / "shared/data/hexmap" / shipped_layout().name
    if reference.is_file():  # the reference copy beside the checkout
        assert reference.read_bytes() == shipped_layout().read_bytes()


def test_a_layout_that_is_not_odd_r_hexjson_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"x\.hexjson: not an odd-r HexJSON layout"):
        parse_layout({"layout": "even-q", "hexes": {}}, "x.hexjson")
    with pytest.raises(ValueError, match="hex 'E1' needs a name n and whole numbers q and r"):
        parse_layout({"layout": "odd-r", "hexes": {"E1": {"n": "A", "q": "x", "r": 0}}}, "x.hexjson")


@LIBRARY
def test_every_library_seat_finds_its_hex_by_name_and_645_by_code_too() -> None:
    layout = load_layout()
    codes = {h.code for h in layout.hexes}
    seats = ge2024.read_constituencies(DATA / ge2024.CONSTITUENCIES_FILE)
    found = {s.ons_id: layout.by_name.get(fold_name(s.name)) for s in seats}
    assert all(found.values())
    assert len({h.code for h in found.values() if h}) == 650
    differ = {ons: h.code for ons, h in found.items() if h and h.code != ons}
    # The five Scottish seats whose codes differ between the Library's file and the layout (SOURCE.md).
    assert sorted(differ) == ["S14000107", "S14000108", "S14000109", "S14000110", "S14000111"]
    assert all(code not in codes for code in differ)
    glyndwr = next(s for s in seats if s.ons_id == "W07000102")
    assert glyndwr.name == "Montgomeryshire and Glyndŵr" and found["W07000102"].name == "Montgomeryshire and Glyndwr"


# -- the national replay --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def national(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The whole 2024 night replayed into a folder and built after it ended (the site's folder)."""
    if not (DATA / ge2024.CANDIDATES_FILE).is_file():
        pytest.skip(f"the GE2024 data files are not in {DATA}")
    root = tmp_path_factory.mktemp("national") / "uk"
    with pytest.MonkeyPatch.context() as patch:
        # 2,700 fsyncs (the entries, then the site) test the disk, not the map: seconds on a busy machine.
        patch.setattr(os, "fsync", lambda fd: None)
        replay.replay_night(root, DATA, speed=0, seed=2024)
        report = Site(root).build(AFTER_THE_NIGHT)
    assert report.built and report.problems == []
    return root / "site"


@LIBRARY
def test_after_a_national_replay_every_hex_is_the_librarys_winner_and_gains_are_ringed_as_it_says(
    national: Path,
) -> None:
    page = (national / "results.html").read_text()
    drawn = hexes(svg_of(page, "gains"))
    assert len(drawn) == 650
    layout = load_layout()
    seats = ge2024.read_constituencies(DATA / ge2024.CONSTITUENCIES_FILE)
    library = {layout.by_name[fold_name(s.name)].code: s for s in seats}
    assert library.keys() == drawn.keys()
    rings = 0
    for code, element in drawn.items():
        seat = library[code]
        winner = seat.first_party
        assert element.tag == "a", f"{seat.name} is not drawn as declared"
        path = element.find("path")
        assert path is not None and path.attrib["fill"] == party_colour(winner), seat.name
        gain = seat.result.split(" gain from ")
        ring = element.find("circle")
        name = layout.by_name[fold_name(seat.name)].name
        if len(gain) == 2:
            rings += 1
            assert ring is not None and ring.attrib["stroke"] == party_text_colour(winner), seat.name
            assert "g" in element.attrib["class"].split()
            said = f"{party_name(winner)} gain from {party_name(party_code(gain[1]))}"
        else:
            assert ring is None, f"{seat.name} is ringed but the Library says {seat.result}"
            assert "g" not in element.attrib["class"].split()
            said = f"{party_name(winner)} hold"
        assert element.attrib["aria-label"] == f"{name}: {said}"
        assert (national / element.attrib["href"]).is_file()  # its result's own page
    assert rings == sum(" gain from " in s.result for s in seats)
    assert "Not on the map" not in page


@LIBRARY
def test_after_a_national_replay_the_charts_say_the_librarys_figures(national: Path) -> None:
    page = (national / "results.html").read_text()
    results = json.loads((national / "results.json").read_text())
    seats_svg = re.search(r'<svg class="chart" [^>]*aria-label="Seats won: ([^"]*)"', page)
    assert seats_svg is not None
    assert seats_svg.group(1).startswith("Labour 411, Conservative 121, Liberal Democrat 72, ")
    assert f"{MAJORITY} of the {HOUSE} seats are a majority" in seats_svg.group(1)
    assert f">{MAJORITY} for a majority</text>" in page
    # The shares as the Library's votes give them, over every seat.
    votes: Counter[str] = Counter()
    for record in results["results"]:
        for candidate in record["candidates"]:
            votes[candidate["party"]] += candidate["votes"]
    total = sum(votes.values())
    shares = re.search(r'aria-label="Vote share: In the 650 declared seats: ([^"]*)"', page)
    assert shares is not None
    for code in ("Lab", "Con", "RUK", "LD", "Green"):
        assert f"{party_name(code)} {100 * votes[code] / total:.1f}%" in shares.group(1)


@LIBRARY
def test_the_change_in_share_is_the_2019_notional_change_to_a_few_tenths() -> None:
    """vote_shares estimates each seat's 2019 votes from the baseline's turnout and register; against the notional
    file's own vote counts, the national change comes out within 0.3 points for every party shown."""
    seats = ge2024.read_results(DATA)
    codes = sorted({v.party for s in seats for v in s.candidates})
    notional = ge2024.read_notional(DATA / ge2024.NOTIONAL_FILE, known_codes=codes)
    baseline = Baseline(ge2024.build_baseline(DATA))
    figures = [
        compute_result(
            seat.candidates,
            electorate=seat.electorate,
            rejected=seat.invalid_votes,
            winner=None,
            baseline=baseline.get(seat.name),
        )
        for seat in seats
    ]
    rows = {row.party: row for row in vote_shares(figures)}
    then: Counter[str] = Counter()
    for seat in notional.values():
        then.update(seat.votes)
    then_total = sum(n.total_votes for n in notional.values())
    now: Counter[str] = Counter()
    for seat in seats:
        for vote in seat.candidates:
            now[vote.party] += vote.votes
    now_total = sum(now.values())
    for code in ("Lab", "Con", "LD", "RUK", "Green", "SNP"):
        exact = 100 * now[code] / now_total - 100 * then[code] / then_total
        assert rows[code].change == pytest.approx(exact, abs=0.3), code
    assert rows["Lab"].share == pytest.approx(100 * now["Lab"] / now_total)


# -- the map, built -------------------------------------------------------------------------------------


def test_a_new_result_changes_only_its_hex_on_both_maps(blog: BlogMaker) -> None:
    config = 'title = "T"\ntimezone = "Europe/London"\ncoverage_start = "2024-07-04T22:00:00+01:00"\nbaseline = "baseline.csv"\n'
    root = blog({"baseline.csv": BASELINE, "entries/0216-cannock-chase-result.md": CANNOCK}, config=config)
    site = Site(root, long_lived=True)
    now = datetime.fromisoformat("2024-07-05T05:00:00+01:00")
    assert site.build(now).built
    before = {name: hex_parts((root / "site" / name).read_text()) for name in ("index.html", "results.html")}
    (root / "entries/0338-stafford-result.md").write_text(STAFFORD)
    assert site.build(now, changed=["entries/0338-stafford-result.md"]).built
    after = {name: hex_parts((root / "site" / name).read_text()) for name in ("index.html", "results.html")}
    stafford = load_layout().by_name["stafford"].code
    for name in before:
        assert before[name].keys() == after[name].keys()
        assert [code for code in before[name] if before[name][code] != after[name][code]] == [stafford], name
        assert 'aria-label="Stafford: Labour gain from Conservative"' in after[name][stafford]
    # The compact map: zoomed to the two seats followed, which stand out; the rest is faded.
    index = (root / "site/index.html").read_text()
    cannock = load_layout().by_name["cannock chase"].code
    assert 'class="h g o"' in after["index.html"][cannock]
    assert len(after["index.html"]) < 200 and len(after["results.html"]) == 650
    assert ' class="u f"' in index
    assert "Seats we follow (outlined)</li>" in index
    assert "Seats we follow" not in (root / "site/results.html").read_text()
    # live.json carries the same panel the page has, so an open page can patch it hex by hex.
    live = json.loads((root / "site/live.json").read_text())
    assert hex_parts(live["panels"]["map"]["html"]) == after["index.html"]


def _cannock_then_stafford(blog: BlogMaker, stafford: str) -> tuple[HexMap, HexMap]:
    """The map with Cannock Chase declared, then with ``stafford`` (a result entry's text) declared too."""
    root = blog(
        {"baseline.csv": BASELINE, "entries/0216-cannock-chase-result.md": CANNOCK, "entries/0338-s.md": stafford}
    )
    site = Site(root)
    assert site.build(AFTER_THE_NIGHT).built
    views = list(site.stream.results or [])
    one = render_map([v for v in views if v.entry.constituency == "Cannock Chase"])
    two = render_map(views)
    assert one is not None and two is not None
    return one, two


def test_render_map_parts_differ_exactly_in_the_new_hex(blog: BlogMaker) -> None:
    one, two = _cannock_then_stafford(blog, STAFFORD)
    changed = {key for key in two.parts if one.parts[key] != two.parts[key]}
    assert changed == {load_layout().by_name["stafford"].code}
    assert "\n".join(one.parts[h.code] for h in load_layout().hexes) in one.html
    assert one.parts[PARTS_LEGEND] == two.parts[PARTS_LEGEND] and one.parts[PARTS_MISSING] == two.parts[PARTS_MISSING]


def test_a_partys_first_seat_adds_one_line_to_the_legend(blog: BlogMaker) -> None:
    """The legend has a key a line, so the live channel's lines change for a party's first seat is its key and
    its hex, not the whole legend again."""
    held = result("03:38", "Stafford", ("Theo Clarke", "Con", 18000), ("Leigh Ingham", "Lab", 13405))
    one, two = _cannock_then_stafford(blog, held)
    changed = changed_lines(one.html, two.html)
    added = [line for _, _, lines in changed for line in lines]
    assert [cut for _, cut, _ in changed] == [1, 0] and len(added) == 2  # Stafford's hex replaced; a key added
    assert added[1].startswith("<li>") and added[1].endswith("Conservative</li>")


def test_a_map_made_from_the_last_one_is_the_map_made_from_nothing(sample_night: Path) -> None:
    """Results come, go, are corrected and move between the map and the list: at every step the map made from
    the kept one (only the changed hexes made) is the map made afresh, whole and zoomed."""
    narnia = result("03:00", "Mid Narnia", ("Lucy Pevensie", "Lab", 9000), ("Edmund", "Con", 100))
    (sample_night / "entries/0300-narnia.md").write_text(narnia)
    site = Site(sample_night)
    assert site.build(AFTER_THE_NIGHT).built
    views = list(site.stream.results or [])
    baseline = load_baseline(sample_night / "baseline.csv", "baseline.csv")
    corrected = [make_view(v.entry, baseline, v.entry.time.tzinfo) for v in views]  # type: ignore[arg-type]
    steps = [views[:3], views[:4], views[1:4], [corrected[1], *views[2:9]], views, [], corrected, corrected[:1], views]
    own = own_seats(baseline)
    store: dict[str, object] = {}
    for number, step in enumerate(steps):
        for zoom in (None, own):
            kept = render_map(step, own=zoom, labelled_by="m", store=store)
            afresh = render_map(step, own=zoom, labelled_by="m")
            assert kept is not None and afresh is not None
            assert kept.html == afresh.html and dict(kept.parts) == dict(afresh.parts), (number, zoom)


def test_a_seat_the_layout_does_not_know_is_listed_under_the_map_not_an_error(blog: BlogMaker) -> None:
    narnia = result("03:00", "Mid Narnia & <Lantern> Waste", ("Lucy Pevensie", "Lab", 9000), ("Edmund", "Con", 100))
    root = blog({"baseline.csv": BASELINE, "entries/0216-c.md": CANNOCK, "entries/0300-narnia.md": narnia})
    report = Site(root).build(AFTER_THE_NIGHT)
    assert report.built and report.problems == []
    for name in ("results.html", "index.html"):
        page = (root / "site" / name).read_text()
        assert "<p>Not on the map (1):</p>" in page, name
        assert (
            '<li><a href="update/0300-narnia.html">Mid Narnia &amp; &lt;Lantern&gt; Waste</a>: Labour win</li>' in page
        )
        assert len(hexes(svg_of(page, "gains" if name == "results.html" else "map-h"))) > 0
    assert len(hexes(svg_of((root / "site/results.html").read_text(), "gains"))) == 650


def test_without_a_baseline_the_live_page_shows_the_whole_country() -> None:
    whole = render_map([])
    assert whole is not None and len(hex_parts(whole.html)) == 650
    assert ' class="u"' in whole.html and 'class="u f"' not in whole.html


def test_a_night_with_nothing_on_the_layout_has_no_map_and_builds(blog: BlogMaker) -> None:
    """Another country's election, or a synthetic night: no empty map of the UK, and no error."""
    baseline = "constituency,electorate,turnout,winner,Lab,Con\nSeat 0001,70000,60,Con,40,60\n"
    config = CONFIG + 'baseline = "baseline.csv"\n'
    seat = result("03:00", "Seat 0001", ("A", "Lab", 900), ("B", "Con", 100))
    root = blog({"baseline.csv": baseline, "entries/0300-seat.md": seat}, config=config)
    report = Site(root).build(AFTER_THE_NIGHT)
    assert report.built and report.problems == []
    for name in ("index.html", "results.html"):
        assert "data-hex" not in (root / "site" / name).read_text()
    assert json.loads((root / "site/live.json").read_text())["panels"]["map"]["html"] == ""
    assert render_map([], own=frozenset()) is None
    assert "Vote share" in (root / "site/results.html").read_text()  # the charts need no map


def test_the_seats_chart_draws_the_majority_line_at_326_of_650() -> None:
    board = Scoreboard({"Lab": 411, "Con": 121}, {}, {}, 532, 650)
    svg = seats_chart(board)
    line = re.search(r'<line class="chart__majority" x1="([\d.]+)"', svg)
    bars = re.findall(r'<rect x="(\d+)" y="\d+" width="([\d.]+)"', svg)
    assert line is not None and len(bars) == 2
    start, lab = float(bars[0][0]), float(bars[0][1])
    assert (float(line.group(1)) - start) / lab == pytest.approx(326 / 411, abs=0.002)
    assert 'fill="#E4003B"' in svg and seats_chart(Scoreboard({}, {}, {}, 0, 650)) == ""
