"""Cold builds on every core: what the forked workers make and write equals the one-process build.

A cold build of a big night reads and renders entries in forked workers (parallel.prepare_many) and then
makes and stages its thousands of pages in forked workers too (publish._stage_all). Both must give the
same bytes as doing it all in one process, and a full disk in a worker must leave the previous site whole.
"""

from __future__ import annotations

import collections
import copy
import dataclasses
import errno
import os
import pickle
import shutil
from collections.abc import Callable
from datetime import UTC
from pathlib import Path

import pytest

from conftest import AFTER_THE_NIGHT, REPO, BlogMaker
from countnight import parallel, publish, readstate, sharecards, staging
from countnight import site as site_module
from countnight.changes import Changes
from countnight.entries import parse_entry
from countnight.models import Context
from countnight.reading import read_regular
from countnight.site import Site
from countnight.views import make_view

ENTRIES = 450  # above parallel.PARALLEL_MIN, so both stages fork


def _night(blog: BlogMaker) -> Path:
    files: dict[str, str | bytes] = {}
    for n in range(ENTRIES):
        minute = n % 600
        hhmm = f"{(22 + minute // 60) % 24:02d}:{minute % 60:02d}"
        files[f"entries/e{n:04d}.md"] = (
            f"---\ntime: {hhmm}\ntitle: Update {n}\nauthor: Reporter {n % 7}\n"
            f"{'key: true' if n % 50 == 0 else ''}\n---\nParagraph {n}, with *emphasis*.\n\n- one\n- two\n"
        )
    return blog(files)


def _files(out: Path) -> dict[str, bytes]:
    files = {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    if publish.MANIFEST in files:  # the writer's list of what it wrote: its lines in any order
        files[publish.MANIFEST] = b"\n".join(sorted(files[publish.MANIFEST].split(b"\n")))
    return files


def _forget_builds(root: Path) -> None:
    """A first build of its own (the journal's copy would mend the journal); the blog's id stays: it is the
    blog's, kept there once, not the build's."""
    for path in (root / ".countnight").iterdir():
        if path.name != "blog-id":
            shutil.rmtree(path) if path.is_dir() else path.unlink()


def test_forked_workers_write_the_same_site_as_one_process(blog: BlogMaker, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _night(blog)
    forks: list[int] = []
    real = parallel.map_forked

    def counting(work, count, workers, **kwargs):  # type: ignore[no-untyped-def]
        forks.append(count)
        alongside.append(kwargs.get("alongside"))
        return real(work, count, workers, **kwargs)

    alongside: list[object] = []
    monkeypatch.setattr(publish, "map_forked", counting)
    monkeypatch.setattr(publish, "usable_cpus", lambda: 2)
    report = Site(root, root / "parallel").build(AFTER_THE_NIGHT)
    assert report.built and len(report.published) == ENTRIES
    assert forks and forks[0] > ENTRIES, "the pages were not made by forked workers"
    assert alongside[0] is not None, "the journal's lines were not made while the workers made the pages"

    monkeypatch.setattr(publish, "PARALLEL_MIN", 10**9)
    monkeypatch.setattr(parallel, "PARALLEL_MIN", 10**9)
    _forget_builds(root)
    assert Site(root, root / "serial").build(AFTER_THE_NIGHT).built

    parallel_site, serial_site = _files(root / "parallel"), _files(root / "serial")
    assert len(parallel_site) > ENTRIES
    assert parallel_site == serial_site


def test_a_first_build_s_workers_take_the_signatures_and_leave_odd_files_to_the_build(
    blog: BlogMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first build stats nothing itself: each worker takes a file's signature as it opens it. Those are the
    signatures the record keeps (they must be what a stat gives), and the files a worker must not take (over
    the size limit, a FIFO, a folder, a link) are still reported or skipped by the build, as one by one."""
    root = _night(blog)
    entries = root / "entries"
    (entries / "big.md").write_bytes(b"---\ntime: 01:00\ntitle: Big\n---\n" + b"x" * (2 << 20))
    os.mkfifo(entries / "pipe.md")
    (entries / "folder.md").mkdir()
    (entries / "link.md").symlink_to(entries / "e0001.md")
    monkeypatch.setattr(parallel, "usable_cpus", lambda: 2)
    monkeypatch.setattr(readstate, "usable_cpus", lambda: 2)
    site = Site(root, root / "parallel")
    report = site.build(AFTER_THE_NIGHT)
    for display, parsed in site.read.parsed.items():
        info = os.stat(root / display)  # as the record compares it (a link: its target)
        assert parsed.signature == (info.st_mtime_ns, info.st_size, info.st_ino, info.st_ctime_ns), display
        if parsed.entry is not None:  # and the view a worker made knows the text it was read from
            assert site.stream.views[parsed.entry.id][1].source == parsed.digest, display

    monkeypatch.setattr(readstate, "usable_cpus", lambda: 1)
    _forget_builds(root)
    alone = Site(root, root / "serial").build(AFTER_THE_NIGHT)
    assert [str(p) for p in report.problems] == [str(p) for p in alone.problems]
    assert any(p.path == "entries/big.md" and "1 MiB" in p.message for p in report.problems)
    assert sorted(report.warnings) == sorted(alone.warnings)
    assert any("pipe.md" in warning for warning in report.warnings)
    assert report.live == alone.live == ENTRIES + 1  # the link to e0001 is an entry of its own


def test_a_full_disk_in_a_worker_leaves_the_previous_site_and_no_temp_files(
    blog: BlogMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _night(blog)
    monkeypatch.setattr(publish, "usable_cpus", lambda: 2)
    out = root / "site"
    (out / "update").mkdir(parents=True)
    (out / "index.html").write_bytes(b"the previous site")
    real_stage = publish._stage

    def filling(target: str | Path, data: bytes, *, sync: bool, folders: set[str] | None = None) -> str:
        if Path(target).name.startswith("e04"):  # one worker's span of share pages hits a full disk
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_stage(target, data, sync=sync, folders=folders)

    monkeypatch.setattr(publish, "_stage", filling)
    report = Site(root).build(AFTER_THE_NIGHT)
    assert not report.built
    assert any("the disk is full" in warning for warning in report.warnings)
    assert (out / "index.html").read_bytes() == b"the previous site"
    left = [p.name for p in out.rglob("*") if p.is_file()]
    assert left == ["index.html"], left[:5]

    monkeypatch.setattr(publish, "_stage", real_stage)
    assert Site(root).build(AFTER_THE_NIGHT).built  # space again: everything is written
    assert b"Update 449" in (out / "index.html").read_bytes()


def test_a_full_disk_in_a_worker_of_a_first_build_into_an_empty_folder_leaves_it_empty(
    blog: BlogMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole site staged in one hidden folder (staging.py): one worker's span of share pages hits a full disk;
    nothing is published and nothing of the staging folder is left."""
    root = _night(blog)
    monkeypatch.setattr(publish, "usable_cpus", lambda: 2)
    out = root / "site"
    real_write = staging.TreeWriter.write

    def filling(writer: staging.TreeWriter, name: str, data: bytes) -> tuple[str, staging.Stat]:
        if name.startswith("update/e04"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(writer, name, data)

    monkeypatch.setattr(staging.TreeWriter, "write", filling)
    report = Site(root).build(AFTER_THE_NIGHT)
    assert not report.built
    assert any("the disk is full" in warning for warning in report.warnings)
    assert not out.exists() or list(out.rglob("*")) == []

    monkeypatch.setattr(staging.TreeWriter, "write", real_write)
    assert Site(root).build(AFTER_THE_NIGHT).built  # space again: everything is written
    assert b"Update 449" in (out / "index.html").read_bytes()


def test_the_workers_read_each_file_by_its_name_in_entries_or_by_its_path_where_it_cannot_be_opened(
    blog: BlogMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """reading.open_folder: entries/ opened once, each file read by its name in it (one name looked up a file, not
    every folder of the path); where the folder cannot be opened, by path, and the site is the same."""
    root = _night(blog)
    monkeypatch.setattr(parallel, "usable_cpus", lambda: 2)
    monkeypatch.setattr(readstate, "usable_cpus", lambda: 2)
    read: list[int | None] = []
    real_read = parallel.read_regular_stat

    def reading(path: str, *, dir_fd: int | None = None) -> object:
        read.append(dir_fd)
        return real_read(path, dir_fd=dir_fd)

    monkeypatch.setattr(parallel, "read_regular_stat", reading)
    assert Site(root, root / "by-name").build(AFTER_THE_NIGHT).built
    assert read and all(fd is not None for fd in read)  # (this process's spans: the workers' are theirs)
    monkeypatch.setattr(readstate, "open_folder", lambda path: None)
    read.clear()
    _forget_builds(root)
    assert Site(root, root / "by-path").build(AFTER_THE_NIGHT).built
    assert read and all(fd is None for fd in read)
    assert _files(root / "by-name") == _files(root / "by-path")


def test_a_template_that_fails_while_rendering_is_reported_not_raised(
    blog: BlogMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A theme whose entry template breaks on some entries only (it compiles; a value is missing at render
    time): the build reports it as it does without workers, and publishes nothing."""
    root = _night(blog)
    (root / "templates").mkdir()
    (root / "templates" / "entry.html").write_text(
        '<article id="{{ e.id }}">{% if e.id.endswith("7") %}{{ e.no_such_field }}{% endif %}</article>\n'
    )
    monkeypatch.setattr(parallel, "usable_cpus", lambda: 2)
    report = Site(root).build(AFTER_THE_NIGHT)
    assert not report.built
    assert any("no_such_field" in problem.message for problem in report.problems), report.problems
    assert not (root / "site" / "index.html").exists()


def test_every_kind_of_entry_comes_back_from_a_worker_as_it_went(tmp_path: Path) -> None:
    """A worker's entries come back pickled (models.py: each model as its class, values and fields given):
    every entry of the sample night, all five kinds, equal after the trip, still frozen, the same JSON."""
    site = Site(REPO, tmp_path / "site")
    setup = site._setup()
    context = Context(setup.event.window, setup.baseline)
    paths = sorted((REPO / "entries").glob("*.md"))
    entries = [parse_entry(read_regular(str(path)) or b"", f"entries/{path.name}", context) for path in paths]
    assert {entry.kind for entry in entries} == {"update", "result", "turnout", "quote", "summary"}
    back = pickle.loads(pickle.dumps(entries, pickle.HIGHEST_PROTOCOL))
    for entry, again in zip(entries, back, strict=True):
        assert again == entry and type(again) is type(entry)
        assert again.__pydantic_fields_set__ == entry.__pydantic_fields_set__
        assert again.model_dump_json() == entry.model_dump_json()
        assert copy.deepcopy(again) == entry
        with pytest.raises(ValueError, match="frozen"):
            again.title = "changed"  # type: ignore[misc]


def test_result_figures_come_back_from_a_worker_as_they_went(tmp_path: Path) -> None:
    """A worker's views come back pickled, each result's figures through ResultFigures.__reduce__: equal, still
    frozen, their mappings read-only, and the winner still the first candidate itself (the default theme's
    result card marks the winner's row by ``c is sameas r.winner``)."""
    site = Site(REPO, tmp_path / "site")
    setup = site._setup()
    context = Context(setup.event.window, setup.baseline)
    views = [
        make_view(parse_entry(read_regular(str(path)) or b"", f"entries/{path.name}", context), setup.baseline, UTC)
        for path in sorted((REPO / "entries").glob("*.md"))
    ]
    figures = [view.result for view in views if view.result is not None]
    assert len(figures) >= 5
    back = pickle.loads(pickle.dumps(views, pickle.HIGHEST_PROTOCOL))
    for view, again in zip(views, back, strict=True):
        assert again == view
        if again.result is None:
            continue
        assert again.result.winner is again.result.candidates[0]
        assert again.result.share_change == view.result.share_change  # type: ignore[union-attr]
        with pytest.raises(TypeError):
            again.result.share_change["Lab"] = 1.0  # type: ignore[index]
        with pytest.raises(dataclasses.FrozenInstanceError):
            again.result.majority = 1  # type: ignore[misc]


def _drawn_by(log: Path) -> Callable[..., bytes]:
    """sharecards.draw_card, noting which process drew each card (forked processes inherit the patch)."""
    real = sharecards.draw_card

    def draw(card: sharecards.Card) -> bytes:
        with log.open("a") as notes:
            notes.write(f"{os.getpid()} {card.digest}\n")
        return real(card)

    return draw


def _draws(log: Path) -> list[tuple[int, str]]:
    if not log.exists():
        return []
    return [(int(pid), digest) for pid, digest in (line.split() for line in log.read_text().splitlines())]


@pytest.mark.parametrize("painter", ["draws", "fails", "none"])
def test_a_cold_builds_cards_drawn_ahead_in_a_process_of_their_own_change_nothing_it_writes(
    blog: BlogMaker, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, painter: str
) -> None:
    """A one-off cold build draws its newest entries' cards in a process of its own while it orders the stream
    (site._draw_cards_ahead); the site is byte for byte the one a build drawing them itself makes, with as many
    cards, whether that process draws them, fails, or cannot be started."""
    root = _night(blog)
    monkeypatch.setattr(parallel, "usable_cpus", lambda: 2)
    monkeypatch.setattr(site_module, "usable_cpus", lambda: 2)
    log = tmp_path / "draws"
    monkeypatch.setattr(sharecards, "draw_card", _drawn_by(log))
    if painter == "fails":

        def failing(store: sharecards.CardStore, cards: object) -> None:
            raise RuntimeError("no cards drawn ahead")

        monkeypatch.setattr(sharecards.CardStore, "draw_ahead", failing)
    elif painter == "none":
        monkeypatch.setattr(site_module, "fork_aside", lambda work: None)
    report = Site(root, root / "ahead").build(AFTER_THE_NIGHT)
    assert report.built and len(report.published) == ENTRIES
    draws = _draws(log)
    by = collections.Counter(pid for pid, _ in draws)
    if painter == "draws":
        (ahead, drawn), *others = by.most_common()
        assert ahead != os.getpid() and drawn == site_module.CARDS_PER_BUILD + 1  # the newest entries', the blog's
        assert sum(n for _, n in others) == 1  # the night's, whose tally the process drawing ahead does not know
    cards_named = len(list((root / "ahead" / "cards").iterdir()))
    assert len({digest for _, digest in draws}) == cards_named  # none drawn twice, none drawn for nothing

    monkeypatch.setattr(site_module, "fork_aside", lambda work: None)  # the same night, each card drawn in place
    _forget_builds(root)
    assert Site(root, root / "in-place").build(AFTER_THE_NIGHT).built
    assert _files(root / "ahead") == _files(root / "in-place")
    assert cards_named == site_module.CARDS_PER_BUILD + 2  # the newest entries', the night's, the blog's


def test_the_cards_are_handed_out_as_soon_as_the_workers_have_read_every_file(
    blog: BlogMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before the build goes through the files one by one (their outcomes, warnings): that serial stretch leaves a
    core free, and handed only once the stream was in order, the cards were still being drawn as the pages were
    made on both cores."""
    root = _night(blog)
    monkeypatch.setattr(parallel, "usable_cpus", lambda: 2)
    monkeypatch.setattr(site_module, "usable_cpus", lambda: 2)
    said: list[str] = []
    hand, outcome_of = parallel.Aside.hand, readstate.ReadState.outcome_of

    def handing(aside: parallel.Aside[object], value: object) -> None:
        said.append("cards" if value else "nothing")
        hand(aside, value)

    def looking(state: readstate.ReadState, *args: object, **kwargs: object) -> object:
        said.append("outcome")
        return outcome_of(state, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(parallel.Aside, "hand", handing)
    monkeypatch.setattr(readstate.ReadState, "outcome_of", looking)
    report = Site(root, root / "site").build(AFTER_THE_NIGHT)
    assert report.built and len(report.published) == ENTRIES
    assert said[0] == "cards" and said.count("cards") == 1 and said.count("outcome") == ENTRIES


class _Needing:
    """An outlet that needs only live.json as bytes, as the live channel does: the pages the workers made reach
    it as functions that read them back from the folder."""

    needs = frozenset({"live.json"})

    def __init__(self) -> None:
        self.got: list[Changes] = []

    def send(self, changes: Changes) -> None:
        self.got.append(changes)


def test_an_outlet_that_needs_only_live_json_reads_the_workers_pages_back_from_the_folder(
    blog: BlogMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _night(blog)
    monkeypatch.setattr(parallel, "usable_cpus", lambda: 2)
    outlet = _Needing()
    assert Site(root, root / "site", outlets=[outlet]).build(AFTER_THE_NIGHT).built
    (changes,) = outlet.got
    assert isinstance(changes.files["live.json"], bytes)
    read_back = [path for path, content in changes.files.items() if callable(content)]
    assert len(read_back) > ENTRIES  # every share page, and the older pages
    on_disk = _files(root / "site")
    del on_disk[publish.MANIFEST]  # the folder's own list of what it wrote, no file of the site
    assert {path: changes.bytes_of(path) for path in changes.files} == on_disk


def test_only_a_one_off_build_draws_cards_ahead_not_check_nor_a_watcher(
    blog: BlogMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _night(blog)
    monkeypatch.setattr(parallel, "usable_cpus", lambda: 2)
    monkeypatch.setattr(site_module, "usable_cpus", lambda: 2)
    forked: list[object] = []
    real = site_module.fork_aside

    def counting(work: Callable[[object], object]) -> object:
        forked.append(work)
        return real(work)

    monkeypatch.setattr(site_module, "fork_aside", counting)
    assert not Site(root, root / "checked").check()
    assert Site(root, root / "watched", long_lived=True).build(AFTER_THE_NIGHT).built
    assert forked == []
    assert Site(root, root / "built").build(AFTER_THE_NIGHT).built
    assert len(forked) == 1
