"""The incremental build agrees with a build from nothing, byte for byte, after any sequence of changes.

Watch mode hands ``Site.build`` the files that file events named, and the build then looks only at those
(and keeps its stream, pages and panels from the build before). These tests drive one long-lived site
through random sequences of what a night brings (new updates, results and re-declarations, corrections,
key events and pins, withdrawals, deletions, broken files, embargoed entries coming due, time passing)
and after every step compare its whole output with a fresh ``Site`` built from a copy of the same folder.
"""

from __future__ import annotations

import random
import re
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from conftest import DURING_THE_NIGHT, copy_sample
from countnight.publish import MANIFEST
from countnight.site import Site

STEPS = 40
SEEDS = [1, 2, 3, 4, 5]
SEATS = [
    "Cannock Chase",
    "Stafford",
    "Tamworth",
    "Lichfield",
    "Burton and Uttoxeter",
    "Stoke-on-Trent Central",
]


def _files(out: Path) -> dict[str, bytes]:
    files = {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    if MANIFEST in files:  # the writer's list of what it wrote: its lines in any order
        files[MANIFEST] = b"\n".join(sorted(files[MANIFEST].split(b"\n")))
    return files


def _hhmm(moment: datetime) -> str:
    return moment.strftime("%H:%M")


class Night:
    """A copy of the sample night and the changes made to it, each naming the files it touched."""

    def __init__(self, root: Path, rng: random.Random) -> None:
        self.root = root
        self.rng = rng
        self.now = DURING_THE_NIGHT
        self.made = 0

    @property
    def entries(self) -> list[Path]:
        return sorted((self.root / "entries").glob("*.md"))

    def _write(self, name: str, text: str) -> str:
        (self.root / "entries" / name).write_text(text)
        return f"entries/{name}"

    def _moment(self, ahead: bool = False) -> datetime:
        start = datetime.fromisoformat("2024-07-04T22:01:00+01:00")
        if ahead:
            return self.now + timedelta(minutes=self.rng.randint(1, 30))
        span = int((self.now - start).total_seconds() // 60)
        return start + timedelta(minutes=self.rng.randint(0, max(0, span)))

    def add_update(self, ahead: bool = False) -> list[str]:
        self.made += 1
        moment = self._moment(ahead)
        flags = "".join(f"{flag}: true\n" for flag in ("key", "pinned", "breaking") if self.rng.random() < 0.2)
        text = (
            f'---\nkind: update\ntime: "{moment.isoformat()}"\ntitle: Update {self.made}\nauthor: Reporter {self.made}\n'
            f"{flags}---\nThe count goes on, step {self.made}.\n\n- one\n- two\n"
        )
        return [self._write(f"t{self.made:03d}-update.md", text)]

    def add_result(self, ahead: bool = False) -> list[str]:
        self.made += 1
        moment = self._moment(ahead)
        seat = self.rng.choice(SEATS)
        votes = [self.rng.randint(1000, 20000) for _ in range(3)]
        if len(set(votes)) < 3:
            votes = [15000, 12000, 9000]
        text = (
            f'---\nkind: result\ntime: "{moment.isoformat()}"\nconstituency: {seat}\nelectorate: 76974\n'
            "candidates:\n"
            f"  - {{name: Ann Able, party: Lab, votes: {votes[0]}}}\n"
            f"  - {{name: Bob Baker, party: Con, votes: {votes[1]}}}\n"
            f"  - {{name: Cat Cole, party: RUK, votes: {votes[2]}}}\n"
            f"---\nA declaration, step {self.made}.\n"
        )
        return [self._write(f"t{self.made:03d}-result.md", text)]

    def add_summary(self) -> list[str]:
        self.made += 1
        text = f'---\nkind: summary\ntime: "{self._moment().isoformat()}"\n---\nWhere we are, step {self.made}.\n'
        return [self._write(f"t{self.made:03d}-summary.md", text)]

    def edit(self) -> list[str]:
        path = self.rng.choice(self.entries)
        text = path.read_text()
        what = self.rng.choice(["flag", "body", "time"])
        if what == "flag":
            flag = self.rng.choice(["key", "pinned", "breaking"])
            text = re.sub(rf"^{flag}: \w+\n", "", text, flags=re.M)
            text = text.replace("\n---\n", f"\n{flag}: true\n---\n", 1) if self.rng.random() < 0.5 else text
        elif what == "body":
            text += f"\nCorrected, step {self.made}.\n"
        else:
            moment = self._moment()
            text = re.sub(r"^time: .*$", f'time: "{moment.isoformat()}"', text, count=1, flags=re.M)
        path.write_text(text)
        return [f"entries/{path.name}"]

    def status(self) -> list[str]:
        path = self.rng.choice(self.entries)
        text = re.sub(r"^status: \w+\n", "", path.read_text(), flags=re.M)
        word = self.rng.choice(["withdrawn", "draft", "published"])
        path.write_text(text.replace("\n---\n", f"\nstatus: {word}\n---\n", 1))
        return [f"entries/{path.name}"]

    def delete(self) -> list[str]:
        path = self.rng.choice(self.entries)
        path.unlink()
        return [f"entries/{path.name}"]

    def break_one(self) -> list[str]:
        path = self.rng.choice(self.entries)
        path.write_text(path.read_text().replace("---\n", "---\nkind: [unclosed\n", 1))
        return [f"entries/{path.name}"]

    def tick(self) -> list[str]:
        self.now += timedelta(minutes=self.rng.randint(1, 20))
        return []

    def step(self) -> list[str]:
        actions = [
            (self.add_update, 5),
            (self.add_result, 3),
            (lambda: self.add_update(ahead=True), 1),
            (lambda: self.add_result(ahead=True), 1),
            (self.add_summary, 1),
            (self.edit, 3),
            (self.status, 2),
            (self.delete, 2),
            (self.break_one, 1),
            (self.tick, 2),
        ]
        action = self.rng.choices([a for a, _ in actions], [w for _, w in actions])[0]
        return action()


def _counted(site: Site) -> tuple[list[str], list[list[tuple[str, int]]], tuple[int, int | None]]:
    """The results that count, in the stream's order, and the scoreboard, its parties in order."""
    board = site.stream.board
    assert site.stream.results is not None and board is not None
    parties = [list(counts.items()) for counts in (board.seats, board.gains, board.losses)]
    return [v.id for v in site.stream.results], parties, (board.declared, board.total)


def _fresh_build(root: Path, copy: Path, now: datetime) -> tuple[dict[str, bytes], list[str], object]:
    """The site a build from nothing makes of ``root`` as it is now, what it tells the desk, what it counts."""
    if copy.exists():
        shutil.rmtree(copy)
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns("site"))
    site = Site(copy, cards_per_build=None)  # every share card drawn (see the test of the rest)
    report = site.build(now)
    assert report.built
    return _files(copy / "site"), report.notices, _counted(site)


@pytest.mark.parametrize("seed", SEEDS)
def test_incremental_builds_match_a_build_from_nothing(tmp_path: Path, seed: int) -> None:
    root = copy_sample(tmp_path / "night")
    night = Night(root, random.Random(seed))
    # As the watcher keeps it (fragments packed; the fresh build keeps text), drawing every share card at once: a
    # watcher draws a few a build (test_sharecards: what it publishes meanwhile, and that it ends up the same).
    site = Site(root, long_lived=True, cards_per_build=None)
    assert site.build(night.now).built
    for number in range(STEPS):
        touched = night.step()
        expected, notices, counted = _fresh_build(root, tmp_path / "fresh", night.now)  # the folder before ours
        report = site.build(night.now, changed=touched)
        assert report.built, report.problems
        assert report.notices == notices, f"seed {seed}, step {number} ({touched})"  # seats declared twice too
        assert _counted(site) == counted, f"seed {seed}, step {number} ({touched})"  # kept seat by seat
        got = _files(root / "site")
        assert got.keys() == expected.keys(), f"step {number}: {sorted(got.keys() ^ expected.keys())[:5]}"
        differ = [name for name in got if got[name] != expected[name]]
        assert not differ, f"seed {seed}, step {number} ({touched}): {differ[:5]} differ"


def test_a_full_scan_after_hints_changes_nothing(tmp_path: Path) -> None:
    """The watcher's rescan (no hints) after hinted builds finds nothing new to write."""
    root = copy_sample(tmp_path / "night")
    night = Night(root, random.Random(7))
    site = Site(root, long_lived=True, cards_per_build=None)  # every card at once: the hints are the point
    site.build(night.now)
    for _ in range(15):
        site.build(night.now, changed=night.step())
    before = _files(root / "site")
    report = site.build(night.now)
    assert report.built and not report.published and not report.removed
    assert _files(root / "site") == before


def test_files_no_event_named_are_found_by_the_next_full_scan(tmp_path: Path) -> None:
    """A hint covers only what it names: a file written without an event waits for the rescan."""
    root = copy_sample(tmp_path / "night")
    site = Site(root, long_lived=True, cards_per_build=None)  # every card at once: the hints are the point
    site.build(DURING_THE_NIGHT)
    (root / "entries" / "0300-unannounced.md").write_text(
        '---\nkind: update\ntime: "03:00"\ntitle: Unannounced\n---\nNo event said so.\n'
    )
    site.build(DURING_THE_NIGHT, changed=[])
    assert b"0300-unannounced" not in (root / "site" / "index.html").read_bytes()
    report = site.build(DURING_THE_NIGHT)
    assert [v.id for v in report.published] == ["0300-unannounced"]
    assert b"0300-unannounced" in (root / "site" / "index.html").read_bytes()
