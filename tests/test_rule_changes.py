"""The rules of the night change; what readers were shown stays shown. Times fall in the window, [start, end).

A config, baseline or template edit may make entries that validated before fail now: each such file is
reported, and its last good version stays live (never recorded as deleted), in the process that saw it
published and after a restart. A time outside the coverage window is refused whatever its form.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import AFTER_THE_NIGHT, BASELINE, CONFIG, write_blog
from countnight.cli import main
from countnight.clock import Window, parse_time
from countnight.journal import Journal
from countnight.site import Site
from test_build import RESULT  # a declared result at Cannock Chase

LONDON = ZoneInfo("Europe/London")
NIGHT = Window(
    LONDON, datetime.fromisoformat("2024-07-04T22:00:00+01:00"), datetime.fromisoformat("2024-07-05T12:00:00+01:00")
)
DAY = Window(LONDON, NIGHT.start, NIGHT.start + timedelta(hours=24))

ENTRIES = {
    "entries/2200-polls-close.md": '---\ntime: "22:00"\ntitle: Polls close\n---\nThe exit poll.\n',
    "entries/2330-first.md": '---\ntime: "23:30"\ntitle: First count\n---\nUnder way.\n',
    "entries/0216-cannock-chase-result.md": RESULT,
    "entries/1130-late.md": '---\ntime: "11:30"\ntitle: Late\n---\nLate news.\n',
    "baseline.csv": BASELINE,
}
WITH_BASELINE = CONFIG + 'baseline = "baseline.csv"\n'
IDS = {"2200-polls-close", "2330-first", "0216-cannock-chase-result", "1130-late"}


def _live(root: Path) -> set[str]:
    return {e["id"] for e in json.loads((root / "site" / "live.json").read_text())["entries"]}


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


# -- the window is half-open --------------------------------------------------------------------------


def test_a_window_of_exactly_a_day_holds_each_clock_time_once() -> None:
    assert parse_time("22:00", DAY) == DAY.start
    assert parse_time("21:59", DAY) == DAY.end - timedelta(minutes=1)
    with pytest.raises(ValueError, match="outside the coverage window"):
        parse_time("2024-07-05T22:00:00+01:00", DAY)  # its end is not in it


def test_the_end_of_the_window_is_outside_it() -> None:
    with pytest.raises(
        ValueError, match=r"12:00 is outside the coverage window \(22:00 BST 4 July to 12:00 BST 5 July\)"
    ):
        parse_time("12:00", NIGHT)
    assert parse_time("11:59:59", NIGHT) == NIGHT.end - timedelta(seconds=1)


# -- a full time outside the window is refused as a clock time is ----------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "2023-07-05T03:17:00+01:00",  # a year out
        "2026-12-07T01:50+00:00",  # what `new` writes when run outside the night
        "2024-07-05T12:00:00+01:00",  # the end itself
        "2024-07-04T21:59:59+01:00",  # a second before the start
        "2024-07-04T20:59:59Z",
        "2024-07-05 12:30",  # no offset: in the event's zone
        "2024-07-06",  # a date alone
        "9999-12-31T23:59:59-12:00",
        "0001-01-01T00:00:00+14:00",
        "0001-01-01",
    ],
)
def test_a_full_time_outside_the_window_is_refused_naming_it(typed: str, tmp_path: Path) -> None:
    root = write_blog(tmp_path / "blog", {"entries/0300-x.md": f'---\ntime: "{typed}"\ntitle: X\n---\nText.\n'})
    code, out, err = _run("check", "--root", str(root))
    assert code == 1
    assert "entries/0300-x.md:2: time: " in out
    assert "out of range" in out or "outside the coverage window (22:00 BST 4 July to 12:00 BST 5 July)" in out
    assert "Traceback" not in out + err
    report = Site(root).build(AFTER_THE_NIGHT)
    assert report.problems and _live(root) == set()


def test_a_correction_the_morning_after_is_still_accepted(tmp_path: Path) -> None:
    """``updated`` may come after the night (``correct`` writes the full time then), never before it opened."""
    entry = '---\ntime: "03:00"\nupdated: "{when}"\ncorrection: Fixed.\ntitle: X\n---\nText.\n'
    root = write_blog(tmp_path / "blog", {"entries/0300-x.md": entry.format(when="2024-07-06T09:00:00+01:00")})
    assert _run("check", "--root", str(root))[0] == 0
    (root / "entries/0300-x.md").write_text(entry.format(when="2023-07-05T09:00:00+01:00"))
    code, out, _ = _run("check", "--root", str(root))
    assert code == 1 and "updated: 2023-07-05T09:00:00+01:00 is outside the coverage window" in out


def test_new_outside_the_night_says_so_and_its_time_is_refused_until_changed(tmp_path: Path) -> None:
    root = write_blog(tmp_path / "blog", {})  # the 2024 night; the machine's clock is not in it
    code, out, err = _run("new", "update", "--title", "Rehearsal", "--root", str(root))
    assert code == 0
    assert "warning: it is " in err and "outside the coverage window (22:00 BST 4 July to 12:00 BST 5 July)" in err
    code, checked, _ = _run("check", "--root", str(root))
    assert code == 1 and f"{out.strip()}:3: time: " in checked and "outside the coverage window" in checked


@settings(max_examples=600, deadline=None, database=None)
@given(
    st.datetimes(
        min_value=datetime(2024, 7, 3), max_value=datetime(2024, 7, 7), timezones=st.sampled_from([UTC, LONDON])
    ),
    st.sampled_from([NIGHT, DAY]),
)
def test_any_time_is_taken_exactly_when_it_is_in_the_window(moment: datetime, window: Window) -> None:
    """Full or short, a time is accepted only inside [start, end), and then means the same moment."""
    moment = moment.replace(microsecond=0)
    inside = window.start <= moment < window.end
    try:
        full = parse_time(moment.isoformat(), window)
    except ValueError as err:
        assert not inside and "outside the coverage window" in str(err)
    else:
        assert inside and full == moment
    local = moment.astimezone(LONDON)
    if moment.fold == 0 and inside:
        assert parse_time(f"{local:%H:%M:%S}", window) == moment


# -- a change of rules never takes down a published entry -------------------------------------------------


def _edit(root: Path, change: str) -> None:
    config = root / "countnight.toml"
    if not config.exists():  # deleted by an earlier change: put back before this one edits it
        config.write_text(WITH_BASELINE)
    match change:
        case "coverage_end removed":  # the issue's case: a window of exactly 24 hours
            config.write_text(config.read_text().replace('coverage_end = "2024-07-05T12:00:00+01:00"\n', ""))
        case "coverage_start a day later":
            config.write_text(
                config.read_text()
                .replace("2024-07-04T22:00", "2024-07-05T22:00")
                .replace("2024-07-05T12:00", "2024-07-06T12:00")
            )
        case "coverage_end before the late entry":
            config.write_text(config.read_text().replace("2024-07-05T12:00", "2024-07-05T11:00"))
        case "coverage_start after the first entries":
            config.write_text(config.read_text().replace("2024-07-04T22:00", "2024-07-05T01:00"))
        case "timezone changed":
            config.write_text(config.read_text().replace("Europe/London", "America/New_York"))
        case "baseline row removed":
            (root / "baseline.csv").write_text("\n".join(BASELINE.splitlines()[::2]) + "\n")  # Cannock Chase gone
        case "baseline swapped":
            (root / "baseline.csv").write_text(BASELINE.replace("Cannock Chase", "Cannock"))
        case "template override":
            (root / "templates").mkdir(exist_ok=True)
            (root / "templates" / "entry.html").write_text('<article id="{{ e.id }}">{{ e.title }}</article>\n')
        case "template broken":
            (root / "templates").mkdir(exist_ok=True)
            (root / "templates" / "entry.html").write_text("{% if %}\n")
        case "config broken":
            config.write_text(config.read_text() + "coverage_start = 3\n")
        case "baseline broken":
            (root / "baseline.csv").write_text("constituency\n,,,\n")
        case "config deleted":
            config.unlink(missing_ok=True)
        case "baseline file deleted":
            (root / "baseline.csv").unlink(missing_ok=True)
        case "baseline key removed":
            config.write_text(config.read_text().replace('baseline = "baseline.csv"\n', ""))
        case "page size 1":
            config.write_text(config.read_text() + "page_size = 1\n")
        case "template fails at render":
            (root / "templates").mkdir(exist_ok=True)
            (root / "templates" / "entry.html").write_text("{{ e.entry.nothing.at_all }}\n")
        case "templates folder removed":
            shutil.rmtree(root / "templates", ignore_errors=True)
        case _:
            raise AssertionError(change)


CHANGES = [
    "coverage_end removed",
    "coverage_start a day later",
    "coverage_end before the late entry",
    "coverage_start after the first entries",
    "timezone changed",
    "baseline row removed",
    "baseline swapped",
    "template override",
    "template broken",
    "config broken",
    "baseline broken",
    "config deleted",
    "baseline file deleted",
    "baseline key removed",
    "page size 1",
    "template fails at render",
    "templates folder removed",
]


@pytest.mark.parametrize("change", CHANGES)
@pytest.mark.parametrize("process", ["the same process", "a restart"])
def test_a_change_of_rules_never_takes_a_published_entry_down(tmp_path: Path, change: str, process: str) -> None:
    root = write_blog(tmp_path / "blog", ENTRIES, config=WITH_BASELINE)
    site = Site(root)
    assert not site.build(AFTER_THE_NIGHT).problems and _live(root) == IDS
    _edit(root, change)
    report = (site if process == "the same process" else Site(root)).build(AFTER_THE_NIGHT)
    assert _live(root) == IDS, report.problems
    assert not report.removed
    for ident in IDS:
        assert (root / "site" / "update" / f"{ident}.html").is_file()
        assert [r.op for r in Journal.open(root).versions(ident)] != ["shown", "deleted"]
    code, out, _ = _run("history", "2200-polls-close", "--root", str(root))
    assert code == 0 and "deleted" not in out and "withdrawn" not in out


def test_the_issue_s_case_coverage_end_removed_leaves_22_00_valid(tmp_path: Path) -> None:
    root = write_blog(tmp_path / "blog", ENTRIES, config=WITH_BASELINE)
    Site(root).build(AFTER_THE_NIGHT)
    _edit(root, "coverage_end removed")
    report = Site(root).build(AFTER_THE_NIGHT)
    assert not report.problems and not report.removed and _live(root) == IDS


@settings(max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    changes=st.lists(st.sampled_from(CHANGES), min_size=1, max_size=4),
    restarts=st.lists(st.booleans(), min_size=4, max_size=4),
)
def test_any_sequence_of_rule_changes_keeps_every_entry(
    tmp_path_factory: pytest.TempPathFactory, changes: list[str], restarts: list[bool]
) -> None:
    root = write_blog(tmp_path_factory.mktemp("rules") / "blog", ENTRIES, config=WITH_BASELINE)
    site = Site(root)
    site.build(AFTER_THE_NIGHT)
    for change, restart in zip(changes, restarts, strict=False):
        _edit(root, change)
        if restart:
            site = Site(root)
        report = site.build(AFTER_THE_NIGHT)
        assert _live(root) == IDS, (change, report.problems, report.warnings)
        assert not report.removed
    assert not [r for r in Journal.open(root).records if r.op != "shown"]
