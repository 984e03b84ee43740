"""``countnight replay`` and ``countnight baseline``: the 2024 night from the Library files into entries/."""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import AFTER_THE_NIGHT, CONFIG, BlogMaker, write_blog
from countnight import ge2024, replay
from countnight.baseline import load_baseline
from countnight.cli import main
from countnight.errors import InputError
from countnight.site import Site

# The reference copy beside the checkout when it is there (test_shipped_data proves the shipped one equal to it)
_REFERENCE = Path(__file__).resolve().parents[2] / "shared/data/ge2024"
DATA = Path(os.environ.get("COUNTNIGHT_DATA") or (_REFERENCE if _REFERENCE.is_dir() else ge2024.shipped_data()))
pytestmark = pytest.mark.skipif(
    not (DATA / ge2024.CANDIDATES_FILE).is_file(),
    reason=f"the GE2024 data files are not in {DATA} (set COUNTNIGHT_DATA to their folder)",
)
SEATS_2024 = {
    "Lab": 411, "Con": 121, "LD": 72, "SNP": 9, "SF": 7, "Ind": 6, "RUK": 5, "DUP": 5,
    "Green": 4, "PC": 4, "SDLP": 2, "APNI": 1, "UUP": 1, "TUV": 1, "Spk": 1,
}  # fmt: skip
WEST_MIDLANDS = 57


@pytest.fixture(scope="module")
def night_plan() -> list[replay.Declaration]:
    seats = ge2024.read_results(DATA)
    return replay.plan_night(seats, replay.read_seat_types(DATA / ge2024.CONSTITUENCIES_FILE), seed=2024)


def entry_names(root: Path) -> list[str]:
    return sorted(p.name for p in (root / "entries").iterdir())


# -- the declaration-order model --------------------------------------------------------------------


def test_the_night_runs_from_2315_to_0700_with_each_turnout_before_its_result(
    night_plan: list[replay.Declaration],
) -> None:
    times = [d.declared_at for d in night_plan]
    assert len(night_plan) == 650 and times == sorted(times)
    assert f"{times[0]:%d %H:%M}" == "04 23:15" and f"{times[-1]:%d %H:%M}" == "05 07:00"
    assert all(replay.EARLIEST_TURNOUT <= d.turnout_at < d.declared_at for d in night_plan)
    by_hour = Counter(t.hour for t in times)
    assert by_hour[3] == max(by_hour.values())  # the peak of the night
    assert sum(d.seat.region == "North East" for d in night_plan[:10]) >= 3  # the Sunderland-style sprint


def test_the_same_seed_gives_the_same_night_and_another_seed_another(night_plan: list[replay.Declaration]) -> None:
    seats = ge2024.read_results(DATA)
    again = replay.plan_night(list(reversed(seats)), replay.read_seat_types(DATA / ge2024.CONSTITUENCIES_FILE), 2024)
    other = replay.plan_night(seats, {}, seed=7)
    assert again == night_plan
    assert [d.seat.name for d in other] != [d.seat.name for d in night_plan]


# -- replays -------------------------------------------------------------------------------------------


def test_an_instant_replay_of_all_650_seats_builds_the_2024_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 2,700 fsyncs (the entries, then the site) test the disk, not the tally: several seconds on a busy machine.
    monkeypatch.setattr(os, "fsync", lambda fd: None)
    root = tmp_path / "uk"
    report = replay.replay_night(root, DATA, speed=0, seed=2024)
    assert len(report.written) == 1300 and report.skipped == 0
    built = Site(root).build(AFTER_THE_NIGHT)
    assert built.problems == [] and built.built
    results = json.loads((root / "site/results.json").read_text())
    assert results["seats"] == SEATS_2024
    assert (results["declared"], results["total"]) == (650, 650)
    gains = [s.result.split(" gain from ") for s in ge2024.read_constituencies(DATA / ge2024.CONSTITUENCIES_FILE)]
    assert results["gains"] == Counter(g[0] for g in gains if len(g) == 2)  # as the Library counts them
    assert results["losses"] == Counter(g[1] for g in gains if len(g) == 2)
    page = (root / "site/results.html").read_text()
    assert page.count("<tr") == 651  # the heading row and one per seat


def test_a_replay_sets_up_a_fresh_folder_and_writes_2024_clock_times(tmp_path: Path) -> None:
    root = tmp_path / "wm"
    notes: list[str] = []
    replay.replay_night(root, DATA, speed=0, seed=2024, region="west midlands", note=notes.append)
    assert notes == ["wrote countnight.toml", f"wrote baseline.csv ({WEST_MIDLANDS} constituencies)"]
    assert len(load_baseline(root / "baseline.csv", "baseline.csv")) == WEST_MIDLANDS
    names = entry_names(root)
    assert len(names) == 2 * WEST_MIDLANDS
    text = (root / "entries" / next(n for n in names if n.endswith("-result.md"))).read_text()
    assert f'time: "{names[0][:2]}:' in (root / "entries" / names[0]).read_text()
    assert "kind: result" in text and "rejected:" in text and "candidates:" in text
    assert not list((root / replay.TMP_DIR).iterdir())


def test_an_interrupted_replay_carries_on_without_duplicates(tmp_path: Path) -> None:
    class Stop(Exception):
        pass

    dropped: list[str] = []

    def interrupt_after_30(drop: replay.Drop) -> None:
        dropped.append(drop.name)
        if len(dropped) == 30:
            raise Stop

    root = tmp_path / "wm"
    with pytest.raises(Stop):
        replay.replay_night(root, DATA, speed=0, seed=2024, region="West Midlands", on_drop=interrupt_after_30)
    assert entry_names(root) == sorted(dropped)
    (root / replay.TMP_DIR / "0317-half-written-result.md").write_text("---\nkind: res")  # killed mid-write

    report = replay.replay_night(root, DATA, speed=0, seed=2024, region="West Midlands")
    assert report.skipped == 30 and len(report.written) == 2 * WEST_MIDLANDS - 30
    assert not list((root / replay.TMP_DIR).iterdir())
    whole = tmp_path / "whole"
    replay.replay_night(whole, DATA, speed=0, seed=2024, region="West Midlands")
    assert entry_names(root) == entry_names(whole)
    # Run again with another seed: every seat is there already, under whatever time, so nothing is added.
    assert replay.replay_night(root, DATA, speed=0, seed=99, region="West Midlands").written == []


def test_a_paced_replay_keeps_to_the_compressed_night_clock(tmp_path: Path) -> None:
    now = [1000.0]
    dropped: list[tuple[float, replay.Drop]] = []

    def sleep(seconds: float) -> None:
        assert seconds > 0
        now[0] += seconds

    root = tmp_path / "two"
    replay.replay_night(
        root,
        DATA,
        speed=60,
        seed=2024,
        constituencies=["Stafford", "Cannock Chase"],
        monotonic=lambda: now[0],
        sleep=sleep,
        on_drop=lambda d: dropped.append((now[0], d)),
    )
    assert len(dropped) == 4
    first_real, first = dropped[0]
    for real, drop in dropped:  # an hour of the night in a minute
        assert real - first_real == pytest.approx((drop.at - first.at) / timedelta(seconds=60))


def test_a_replay_into_an_existing_blog_skips_what_reporters_wrote(sample_night: Path) -> None:
    before = set(entry_names(sample_night))
    assert "0216-cannock-chase-result.md" in before
    report = replay.replay_night(sample_night, DATA, speed=0, seed=2024, constituencies=["Cannock Chase", "Stafford"])
    added = set(entry_names(sample_night)) - before
    assert {d.name for d in report.written} == added
    assert not any(n.endswith("-cannock-chase-result.md") for n in added)  # the reporter's result stands
    built = Site(sample_night).build(AFTER_THE_NIGHT)
    assert built.problems == []


def test_a_window_that_misses_the_2024_night_gets_full_times(tmp_path: Path) -> None:
    root = write_blog(tmp_path / "later", {}, config=CONFIG.replace("2024-07", "2029-05"))
    replay.replay_night(root, DATA, speed=0, seed=2024, constituencies=["Stafford"])
    for name in entry_names(root):
        assert 'time: "2024-07-0' in (root / "entries" / name).read_text()


def test_a_baseline_without_the_replayed_seats_is_refused(blog: BlogMaker) -> None:
    root = blog({"baseline.csv": "constituency,electorate,turnout,winner,Con\nStafford,70608,72.7,Con,58\n"},
                config=CONFIG + 'baseline = "baseline.csv"\n')  # fmt: skip
    with pytest.raises(InputError, match=r"baseline\.csv: does not list Cannock Chase"):
        replay.replay_night(root, DATA, speed=0, seed=2024, constituencies=["Stafford", "Cannock Chase"])
    assert entry_names(root) == []


# -- bad data files ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "change", "expected"),
    [
        (ge2024.CANDIDATES_FILE, "votes", f"{ge2024.CANDIDATES_FILE}:3: Votes 'lots' is not a whole number"),
        (ge2024.CONSTITUENCIES_FILE, "fields", f"{ge2024.CONSTITUENCIES_FILE}:2: 3 fields, expected 32"),
        (ge2024.NOTIONAL_FILE, "missing", f"{ge2024.NOTIONAL_FILE}: cannot read the file"),
    ],
)
def test_bad_or_missing_data_files_are_named_with_the_line(
    tmp_path: Path, name: str, change: str, expected: str
) -> None:
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    path = data / name
    if change == "missing":
        path.unlink()
    else:
        lines = path.read_bytes().split(b"\r\n")
        if change == "votes":
            fields = lines[2].split(b",")
            fields[-4] = b"lots"  # the Votes column
            lines[2] = b",".join(fields)
        else:
            lines[1] = b"a,b,c"
        path.write_bytes(b"\r\n".join(lines))
    root = tmp_path / "blog"
    result = CliRunner().invoke(main, ["replay", "--root", str(root), "--data", str(data), "--instant"])
    assert result.exit_code == 1
    assert expected in result.output
    assert not (root / "countnight.toml").exists()  # nothing written before the data is known good


# -- the commands --------------------------------------------------------------------------------------


def test_the_baseline_command_writes_a_region_or_named_seats(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(
        main, ["baseline", "--root", str(tmp_path), "--data", str(DATA), "--region", "West Midlands"]
    )
    assert result.exit_code == 0, result.output
    assert len(load_baseline(tmp_path / "baseline.csv", "baseline.csv")) == WEST_MIDLANDS
    out = tmp_path / "two.csv"
    args = ["baseline", "--data", str(DATA), "-o", str(out), "--constituency", "Stafford", "--constituency", "Ynys Mon"]
    assert runner.invoke(main, args).exit_code == 0
    assert load_baseline(out, "two.csv").names() == ["Stafford", "Ynys Môn"]
    bad = runner.invoke(main, ["baseline", "--data", str(DATA), "-o", str(out), "--constituency", "Stafferd"])
    assert bad.exit_code == 2 and "did you mean 'Stafford'?" in bad.output


def test_the_replay_command_drops_entries_and_says_what_it_did(tmp_path: Path) -> None:
    root = tmp_path / "blog"
    args = ["replay", "--root", str(root), "--data", str(DATA), "--constituency", "Stafford", "--speed", "0"]
    first = CliRunner().invoke(main, args)
    assert first.exit_code == 0, first.output
    assert "dropped 2 entries into entries/ (0 were already there)" in first.output
    again = CliRunner().invoke(main, args)
    assert "dropped 0 entries into entries/ (2 were already there)" in again.output
    unknown = CliRunner().invoke(main, [*args[:5], "--region", "Mercia", "--instant"])
    assert unknown.exit_code == 2 and "no region 'Mercia'" in unknown.output
