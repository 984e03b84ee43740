"""A second result for a seat: still published and the newer one counts (SPEC), but ``check``, ``build`` and the
watcher's console say so, naming both files and how to correct the first instead."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import AFTER_THE_NIGHT, BASELINE, CONFIG, DURING_THE_NIGHT, BlogMaker
from console_watch import watching
from countnight.cli import main
from countnight.site import Site


def result(seat: str, clock: str, lab: int, con: int, extra: str = "") -> str:
    return (
        f'---\nkind: result\ntime: "{clock}"\nconstituency: {seat}\n{extra}candidates:\n'
        f"  - {{name: Leigh Ingham, party: Lab, votes: {lab}}}\n  - {{name: Theo Clarke, party: Con, votes: {con}}}\n"
        "---\n"
    )


def notice(later: str, line: int, seat: str, first: str, counted: str | None = None) -> str:
    which = "this one, the newest," if counted is None else f"the newest (entries/{counted}.md)"
    return (
        f"entries/{later}.md:{line}: constituency: a second result for {seat}: entries/{first}.md has one too. "
        f"Readers see both; {which} counts. To correct a result, edit the first "
        f'(countnight correct {first} --note "…") and delete this file; after a recount, withdraw the first '
        f"(countnight withdraw {first})"
    )


FIRST = result("Stafford", "02:23", 17745, 16150)
SECOND = result("Stafford", "02:40", 17754, 16150)  # a figure retyped in a file of its own


def test_check_and_build_name_both_files_and_the_newer_counts(blog: BlogMaker) -> None:
    root = blog(
        {"baseline.csv": BASELINE, "entries/0223-stafford.md": FIRST, "entries/0240-stafford-fix.md": SECOND},
        config=CONFIG + 'baseline = "baseline.csv"\n',
    )
    run = CliRunner().invoke(main, ["check", "--root", str(root)])
    assert run.exit_code == 0
    assert run.stdout.splitlines() == [notice("0240-stafford-fix", 4, "Stafford", "0223-stafford")]
    assert run.stderr.startswith("no problems, 1 warning: checked")
    report = Site(root).build(AFTER_THE_NIGHT)
    assert report.notices == [notice("0240-stafford-fix", 4, "Stafford", "0223-stafford")]
    assert report.live == 2 and not report.problems  # both published, as before
    data = json.loads((root / "site/results.json").read_text())
    assert data["declared"] == 1 and [r["id"] for r in data["results"]] == ["0240-stafford-fix"]
    assert data["results"][0]["winner"]["votes"] == 17754


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        pytest.param(  # no baseline: "&" and "and", case and spacing are one seat, as the baseline matches names
            {
                "0300-a.md": result("Crewe & Nantwich", "03:00", 10, 5),
                "0310-b.md": result("crewe  and nantwich", "03:10", 11, 5),
            },
            [notice("0310-b", 4, "crewe and nantwich", "0300-a")],
            id="spelt-two-ways",
        ),
        pytest.param(  # three: each later one names the first; the newest counts
            {
                "0300-a.md": result("Stafford", "03:00", 10, 5),
                "0310-b.md": result("Stafford", "03:10", 11, 5),
                "0320-c.md": result("Stafford", "03:20", 12, 5),
            },
            [
                notice("0310-b", 4, "Stafford", "0300-a", counted="0320-c"),
                notice("0320-c", 4, "Stafford", "0300-a"),
            ],
            id="three",
        ),
        pytest.param(  # newer by time, though its file name sorts first
            {"0900-z.md": result("Stafford", "03:00", 10, 5), "0100-a.md": result("Stafford", "04:00", 11, 5)},
            [notice("0100-a", 4, "Stafford", "0900-z")],
            id="time-not-name",
        ),
        pytest.param(
            {
                "0300-a.md": result("Stafford", "03:00", 10, 5),
                "0310-b.md": result("Stafford", "03:10", 11, 5, "status: draft\n"),
            },
            [],
            id="second-a-draft",
        ),
        pytest.param(
            {
                "0300-a.md": result("Stafford", "03:00", 10, 5, "status: withdrawn\n"),
                "0310-b.md": result("Stafford", "03:10", 11, 5),
            },
            [],
            id="first-withdrawn",
        ),
        pytest.param(  # scheduled: not live yet, but it will be
            {"0300-a.md": result("Stafford", "03:00", 10, 5), "0400-b.md": result("Stafford", "04:00", 11, 5)},
            [notice("0400-b", 4, "Stafford", "0300-a")],
            id="second-scheduled",
        ),
        pytest.param(
            {"0300-a.md": result("Stafford", "03:00", 10, 5), "0310-b.md": result("Cannock Chase", "03:10", 11, 5)},
            [],
            id="two-seats",
        ),
    ],
)
def test_which_seats_are_declared_twice(blog: BlogMaker, files: dict[str, str], expected: list[str]) -> None:
    root = blog({f"entries/{name}": text for name, text in files.items()})
    report = Site(root).build(DURING_THE_NIGHT)
    assert report.notices == expected
    counted = json.loads((root / "site/results.json").read_text())
    assert counted["declared"] == len({r["constituency"].casefold() for r in counted["results"]})


def test_the_console_says_it_once_and_stops_when_it_is_corrected(blog: BlogMaker) -> None:
    root = blog({"entries/0223-stafford.md": FIRST})
    with watching(root) as watch:
        (root / "entries/0240-stafford-fix.md").write_text(SECOND)
        watch.wait_for("published 0240-stafford-fix")
        watch.wait_for("warning " + notice("0240-stafford-fix", 4, "Stafford", "0223-stafford"))
        (root / "entries/0300-other.md").write_text('---\ntime: "03:00"\ntitle: Other\n---\nText.\n')
        watch.wait_for("published 0300-other")
        (root / "entries/0240-stafford-fix.md").unlink()  # corrected as the notice says: the second file deleted
        watch.wait_for("withdrawn 0240-stafford-fix")
        assert watch.watcher.last_built is not None and watch.watcher.last_built.notices == []
    assert watch.said.count("a second result for Stafford") == 1, watch.said


def test_a_correction_made_the_way_the_notice_says_leaves_one_card(blog: BlogMaker, tmp_path: Path) -> None:
    root = blog({"entries/0223-stafford.md": FIRST, "entries/0240-stafford-fix.md": SECOND})
    assert len(Site(root).build(AFTER_THE_NIGHT).notices) == 1
    run = CliRunner().invoke(main, ["correct", "0223-stafford", "--note", "Labour had 17,754.", "--root", str(root)])
    assert run.exit_code == 0, run.output
    path = root / "entries/0223-stafford.md"
    path.write_text(path.read_text().replace("17745", "17754"))
    (root / "entries/0240-stafford-fix.md").unlink()
    report = Site(root).build(AFTER_THE_NIGHT)
    assert report.notices == [] and report.live == 1
