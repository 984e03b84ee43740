"""Faults without the watcher: the output folder's disk fills up mid-build.

What must hold (SPEC: every file replaced atomically; a failed build keeps the last good site):
* the build reports a clear error ("the disk is full") and ``countnight build`` exits 1 with it;
* the previous site is intact: every file byte for byte as before, no temp file left, nothing new;
* the journal does not claim readers saw what was never published;
* when space returns, the next build publishes everything and records it.

Two ways to fill the disk: ENOSPC injected into ``os.write`` for files under the output folder, at
every write of a build in turn (always runs); and a real, small tmpfs (runs where ``mount`` is allowed,
as root in this sandbox). Results and the command to reproduce them: RELIABILITY.md.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import AFTER_THE_NIGHT, BlogMaker
from countnight import journal as journal_module
from countnight import publish as publish_module
from countnight.cli import main
from countnight.journal import Journal
from countnight.site import Site

ENTRIES = {
    "entries/0101-first.md": "---\ntime: 01:01\ntitle: First update\n---\nThe first boxes are in.\n",
    "entries/0202-second.md": "---\ntime: 02:02\ntitle: Second update\n---\nTurnout looks low.\n",
    "entries/0303-result.md": (
        "---\nkind: result\ntime: 03:03\nconstituency: Stafford\ncandidates:\n"
        "- {name: Ann Smith, party: Lab, votes: 20000}\n- {name: Bob Jones, party: Con, votes: 15000}\n---\n"
    ),
}
CHANGED = "---\ntime: 02:02\ntitle: Second update, corrected\n---\nTurnout looks high after all.\n"
NEW = "---\ntime: 04:04\ntitle: Fourth update\n---\nA late declaration.\n"


def snapshot(out: Path) -> dict[str, bytes]:
    """Every file under ``out`` (the manifest and any temp file included)."""
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def shown_versions(root: Path) -> list[tuple[str, str]]:
    return [(r.id, r.hash) for r in Journal.open(root).records if r.op == "shown"]


class DiskFull:
    """ENOSPC from ``os.write`` for files under ``folder`` from the ``fail_at``-th write on (1-based);
    the failing write first writes half of what it was given (``partial``), as a filling disk does."""

    def __init__(self, folder: Path, fail_at: int, *, partial: bool = True) -> None:
        self.folder = str(folder.resolve())
        self.fail_at = fail_at
        self.partial = partial
        self.writes = 0
        self.failed = 0
        self._write = os.write

    def __call__(self, fd: int, data: bytes | memoryview) -> int:
        try:
            where = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            where = ""
        if not where.startswith(self.folder + os.sep):
            return self._write(fd, data)
        self.writes += 1
        if self.writes < self.fail_at:
            return self._write(fd, data)
        if self.partial and self.writes == self.fail_at and len(data) > 1:
            return self._write(fd, memoryview(data)[: len(data) // 2])
        self.failed += 1
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.fixture
def night(blog: BlogMaker, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(os, "fsync", lambda fd: None)  # durability is not under test, and fsync is slow here
    return blog(ENTRIES)


def _change(root: Path) -> None:
    (root / "entries/0202-second.md").write_text(CHANGED)
    (root / "entries/0404-fourth.md").write_text(NEW)


@pytest.mark.parametrize("same_site", [True, False], ids=["watch-like", "cold-build"])
def test_full_disk_at_every_write_keeps_the_previous_site(
    night: Path, monkeypatch: pytest.MonkeyPatch, same_site: bool
) -> None:
    """Fail the 1st, 2nd, … write of the rebuild in turn until a rebuild gets through."""
    site = Site(night)
    assert site.build(AFTER_THE_NIGHT).built
    before, journal_before = snapshot(night / "site"), shown_versions(night)
    _change(night)
    cases = 0
    for fail_at in range(1, 500):
        fault = DiskFull(night / "site", fail_at)
        monkeypatch.setattr(os, "write", fault)
        report = (site if same_site else Site(night)).build(AFTER_THE_NIGHT)
        monkeypatch.setattr(os, "write", fault._write)
        if not fault.failed:
            assert report.built  # the fault came after the last write: the disk had room for this build
            break
        cases += 1
        assert not report.built
        assert any("the disk is full" in w and "previous files are intact" in w for w in report.warnings)
        assert snapshot(night / "site") == before, f"the site changed when write {fail_at} failed"
        assert shown_versions(night) == journal_before, "the journal recorded a version readers never saw"
    else:
        pytest.fail("every write failed")
    after = snapshot(night / "site")
    assert b"Second update, corrected" in after["index.html"] and b"Fourth update" in after["index.html"]
    assert not any(".countnight-tmp-" in name for name in after)
    assert len(shown_versions(night)) == len(journal_before) + 2  # the corrected and the new entry
    print(f"\nRELIABILITY faults-enospc-{'watch' if same_site else 'cold'}: {cases} failure points, 0 lost")
    assert cases >= 5


def test_cli_says_the_disk_is_full(night: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["build", "--root", str(night)]).exit_code == 0
    before = snapshot(night / "site")
    _change(night)
    monkeypatch.setattr(os, "write", DiskFull(night / "site", 1))
    result = runner.invoke(main, ["build", "--root", str(night)])
    monkeypatch.undo()
    assert result.exit_code == 1
    assert "the disk is full" in result.output and "previous" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert snapshot(night / "site") == before
    assert runner.invoke(main, ["build", "--root", str(night)]).exit_code == 0


def test_full_disk_for_the_journal_is_reported_not_raised(night: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The site was written but the record of it cannot be: say so, keep going, record it next time."""
    site = Site(night)
    assert site.build(AFTER_THE_NIGHT).built
    journal_before = shown_versions(night)
    _change(night)
    fault = DiskFull(night / ".countnight", 1)  # half a record goes in, then the disk is full
    monkeypatch.setattr(os, "write", fault)
    report = site.build(AFTER_THE_NIGHT)  # must not raise
    monkeypatch.setattr(os, "write", fault._write)
    assert fault.failed and Journal.open(night).warnings == [], "a torn record was left in the journal"
    assert any("journal" in w and "disk is full" in w for w in report.warnings), report.warnings
    assert b"Second update, corrected" in (night / "site/index.html").read_bytes()
    report = site.build(AFTER_THE_NIGHT)
    assert report.built and not any("disk is full" in w for w in report.warnings)
    versions = shown_versions(night)
    assert len(versions) == len(journal_before) + 2, "the versions readers saw were not recorded after recovery"


# -- a real full file system -----------------------------------------------------------------------


@contextlib.contextmanager
def tmpfs(where: Path, size: str) -> Iterator[Path]:
    where.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"mount -t tmpfs is not permitted here: {done.stderr.decode().strip()}")
    try:
        yield where
    finally:
        if subprocess.run(["umount", str(where)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(where)], capture_output=True)


def fill(folder: Path) -> Path:
    """Write a file until the disk is full; returns it (delete it to free the space)."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        for size in (65536, 4096, 1):  # down to the last byte
            with contextlib.suppress(OSError):
                while os.write(fd, b"\0" * size):
                    pass
    finally:
        os.close(fd)
    return filler


LAYOUTS: dict[str, Callable[[Path, Path], tuple[Path, Path]]] = {
    # --out on its own small disk (the blog folder, and so the journal, elsewhere)
    "out-on-full-disk": lambda blog, disk: (blog, disk / "site"),
    # the default layout: site/ inside the blog folder, everything on the one full disk
    "blog-on-full-disk": lambda blog, disk: (disk / "blog", disk / "blog" / "site"),
}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_real_full_tmpfs(night: Path, tmp_path: Path, layout: str) -> None:
    with tmpfs(tmp_path / "disk", "1m") as disk:
        if layout == "blog-on-full-disk":
            subprocess.run(["cp", "-a", str(night), str(disk / "blog")], check=True)
        root, out = LAYOUTS[layout](night, disk)
        site = Site(root, out)
        assert site.build(AFTER_THE_NIGHT).built
        before, journal_before = snapshot(out), shown_versions(root)
        _change(root)
        filler = fill(disk)
        cases = 0
        for _ in range(3):  # and again: a watcher retries while the disk stays full
            report = site.build(AFTER_THE_NIGHT)
            cases += 1
            assert not report.built
            assert any("the disk is full" in w for w in report.warnings), report.warnings
            assert snapshot(out) == before
            assert shown_versions(root) == journal_before
        filler.unlink()
        report = site.build(AFTER_THE_NIGHT)
        assert report.built, report.warnings
        after = snapshot(out)
        assert b"Second update, corrected" in after["index.html"] and b"Fourth update" in after["index.html"]
        assert not any(".countnight-tmp-" in name for name in after)
        assert len(shown_versions(root)) == len(journal_before) + 2
        print(
            f"\nRELIABILITY faults-tmpfs-{layout}: {cases} failed builds on a full 1 MiB tmpfs, then recovery, 0 lost"
        )


@pytest.mark.parametrize("count", [3, 40], ids=["fsync-each", "syncfs"])
@pytest.mark.parametrize("previous", [False, True], ids=["empty-folder", "over-a-site"])
def test_while_syncing_runs_before_anything_is_renamed_into_place(tmp_path: Path, count: int, previous: bool) -> None:
    """publish's ``while_syncing`` (the build makes its journal lines there) runs once everything is staged and
    before a single file is published, with one fsync per file (a few) or one syncfs (many) in flight; into an
    empty folder (the site staged in a hidden folder, moved in) and over a previous site (file by file)."""
    out = tmp_path / "site"
    files = {f"update/e{i:02d}.html": f"page {i}".encode() for i in range(count)} | {"index.html": b"index"}
    if previous:
        (out / "update").mkdir(parents=True)
        (out / "index.html").write_bytes(b"the previous site")
    seen: list[dict[str, bytes]] = []
    staged: list[dict[str, bytes]] = []

    def meanwhile(tree: str | None) -> None:
        seen.append({name: (out / name).read_bytes() for name in files if (out / name).exists()})
        if tree is not None:  # the whole site, staged as it will be
            staged.append({name: (Path(tree) / name).read_bytes() for name in files})

    report = publish_module.publish(out, files, while_syncing=meanwhile)
    assert seen == [{"index.html": b"the previous site"} if previous else {}]  # called once, nothing in place yet
    assert staged == ([] if previous else [files])
    assert sorted(report.written) == sorted(files)
    assert {k: v for k, v in snapshot(out).items() if k != publish_module.MANIFEST} == files


def _pid_page(number: int) -> bytes:
    return f"page {number} made by {os.getpid()}".encode()


def test_alongside_runs_here_while_forked_workers_stage_the_pages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """publish's ``alongside`` (the build makes its journal lines there) runs once, in the calling process, while
    a forked worker is staging pages, and before a single file is in place."""
    monkeypatch.setattr(publish_module, "usable_cpus", lambda: 2)
    out = tmp_path / "site"
    count = publish_module.PARALLEL_MIN + 100
    files: dict[str, publish_module.Content] = {
        f"update/e{i:04d}.html": functools.partial(_pid_page, i) for i in range(count)
    }
    seen: list[tuple[int, list[str], bool]] = []

    def alongside() -> None:
        deadline = time.monotonic() + 60
        staged: list[Path] = []
        while not staged and time.monotonic() < deadline:  # a page staged by a worker: this process makes none now
            staged = [p for p in out.glob(".countnight-tmp-*-site/update/*") if p.is_file()]
            time.sleep(0.001)
        seen.append((os.getpid(), [p.name for p in out.iterdir()], bool(staged)))

    publish_module.publish(out, files, alongside=alongside)
    assert len(seen) == 1
    pid, in_place, staged_meanwhile = seen[0]
    assert pid == os.getpid() and staged_meanwhile
    assert all(name.startswith(".countnight-tmp-") for name in in_place)  # nothing in place yet
    made_by = {page.read_text().rpartition(" ")[2] for page in (out / "update").iterdir()}
    assert str(os.getpid()) in made_by and len(made_by) == 2  # this process's pages and a worker's


def test_alongside_without_workers_runs_while_the_disk_syncs_before_while_syncing(tmp_path: Path) -> None:
    out = tmp_path / "site"
    files = {f"update/e{i:02d}.html": f"page {i}".encode() for i in range(40)} | {"index.html": b"index"}
    order: list[tuple[str, bool]] = []

    def note(what: str) -> Callable[..., None]:
        return lambda *_: order.append((what, (out / "index.html").exists()))

    publish_module.publish(out, files, alongside=note("alongside"), while_syncing=note("while syncing"))
    assert order == [("alongside", False), ("while syncing", False)]


@pytest.mark.parametrize("workers", [True, False], ids=["forked-workers", "one-process"])
def test_alongside_failing_stops_the_publish_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: bool
) -> None:
    monkeypatch.setattr(publish_module, "usable_cpus", lambda: 2)
    out = tmp_path / "site"
    out.mkdir()
    (out / "index.html").write_bytes(b"the previous site")
    count = publish_module.PARALLEL_MIN + 100 if workers else 40
    files: dict[str, publish_module.Content] = {
        f"update/e{i:04d}.html": functools.partial(_pid_page, i) for i in range(count)
    }

    def alongside() -> None:
        raise RuntimeError("the journal's lines could not be made")

    with pytest.raises(RuntimeError, match="journal's lines"):
        publish_module.publish(out, files, alongside=alongside)
    assert snapshot(out) == {"index.html": b"the previous site"}  # no page in place, no temp file left


def test_into_an_empty_folder_the_site_appears_index_last_and_no_staging_is_left(tmp_path: Path) -> None:
    """An empty output folder gets the whole site staged in one hidden folder and moved in a top-level name at
    a time, in the order pages are published (assets, pages, live.json, index.html)."""
    out = tmp_path / "site"
    names = ["index.html", "live.json", "assets/style.css", "page/1.html", "atom.xml"]
    files = {name: name.encode() for name in names} | {f"update/e{i:02d}.html": b"page" for i in range(40)}
    moved: list[str] = []
    real_rename = os.rename

    def rename(source: str, target: str) -> None:
        moved.append(os.path.relpath(target, out))
        real_rename(source, target)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "rename", rename)
        report = publish_module.publish(out, files)
    # Share and older pages before the feed that lists them (issue 19: the object store reads the folder).
    assert moved == ["assets", "page", "update", "atom.xml", "live.json", "index.html", ".countnight-manifest"]
    assert {k: v for k, v in snapshot(out).items() if k != publish_module.MANIFEST} == files
    assert sorted(report.written) == sorted(files) and report.digests.keys() == files.keys()
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == [".countnight-manifest"]


def test_files_published_into_an_empty_folder_are_compared_with_the_disk_next_time(tmp_path: Path) -> None:
    """Into an empty folder the writer does not hash what it writes (``ON_DISK``); the next publish by the same
    process compares those files with the disk instead of a digest, and remembers the digest from then on."""
    out = tmp_path / "site"
    files = {f"update/e{i:02d}.html": f"page {i}".encode() for i in range(30)} | {"index.html": b"index"}
    first = publish_module.publish(out, files)
    assert set(first.digests.values()) == {publish_module.ON_DISK}
    changed = {"update/e01.html": b"page 1, corrected", "update/e02.html": b"page 2", "index.html": b"new index"}
    second = publish_module.publish(out, changed, files.keys(), known=first.digests)
    assert sorted(second.written) == ["index.html", "update/e01.html"] and second.unchanged == len(files) - 2
    assert {name for name, value in second.digests.items() if value != publish_module.ON_DISK} == set(changed)
    assert second.digests["update/e02.html"] == publish_module.digest(b"page 2")
    assert (out / "update/e01.html").read_bytes() == b"page 1, corrected"
    (out / "update/e02.html").write_bytes(b"changed behind the writer's back")  # a digest is trusted from now on
    third = publish_module.publish(out, {"update/e02.html": b"page 2"}, files.keys(), known=second.digests)
    assert third.written == []


def test_a_full_disk_while_staging_into_an_empty_folder_leaves_it_empty(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fail the 1st, 2nd, … write in turn: the folder stays empty (no page, no staged file) until one gets through."""
    out = tmp_path / "site"
    files = {f"update/e{i:02d}.html": b"page" for i in range(40)} | {"index.html": b"index"}
    for fail_at in range(1, 100):
        fault = DiskFull(out, fail_at)
        monkeypatch.setattr(os, "write", fault)
        try:
            publish_module.publish(out, files)
        except publish_module.PublishError as err:
            assert "the disk is full" in str(err)
        finally:
            monkeypatch.setattr(os, "write", fault._write)
        if not fault.failed:
            break
        assert list(out.iterdir()) == [], f"write {fail_at} failed and left {sorted(out.rglob('*'))[:3]}"
    else:
        pytest.fail("every write failed")
    assert fail_at == len(files) + 2  # every file and the manifest failed once; then it all got through
    assert {k: v for k, v in snapshot(out).items() if k != publish_module.MANIFEST} == files


def test_a_folder_filled_by_someone_else_while_staging_fails_the_publish_cleanly(tmp_path: Path) -> None:
    """Another writer puts ``update/`` into the empty folder while this publish stages: moving its own
    ``update/`` in fails, the publish says so, leaves no staged site behind, and the next one writes file by file."""
    out = tmp_path / "site"
    files = {f"update/e{i:02d}.html": b"page" for i in range(40)} | {"index.html": b"index"}
    real_sync = publish_module._sync_filesystem

    def meanwhile_someone_writes(folder: Path, hook: object = None) -> None:
        (out / "update").mkdir()
        (out / "update" / "theirs.html").write_bytes(b"another writer's page")
        real_sync(folder, hook)  # type: ignore[arg-type]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(publish_module, "_sync_filesystem", meanwhile_someone_writes)
        with pytest.raises(publish_module.PublishError, match="could not write the site"):
            publish_module.publish(out, files)
    assert not any(p.name.startswith(".countnight-tmp-") for p in out.rglob("*"))
    assert (out / "update" / "theirs.html").read_bytes() == b"another writer's page"
    assert not (out / "index.html").exists()
    publish_module.publish(out, files)  # no longer empty: staged and renamed file by file
    assert {k: v for k, v in snapshot(out).items() if k.endswith(".html")} == files | {
        "update/theirs.html": b"another writer's page"
    }


def test_a_staged_site_left_by_a_killed_build_is_cleaned_up(tmp_path: Path) -> None:
    out = tmp_path / "site"
    left = out / ".countnight-tmp-4242-site" / "update"
    left.mkdir(parents=True)
    (left / "e01.html").write_bytes(b"half a site")
    assert publish_module.clean_temp_files(out) == 1
    assert list(out.iterdir()) == []
    publish_module.publish(out, {"index.html": b"index"})  # an empty folder again: staged and moved in
    assert snapshot(out) == {"index.html": b"index", publish_module.MANIFEST: b"index.html\n"}


def test_a_failed_sync_publishes_nothing_and_leaves_no_temp_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "site"
    out.mkdir()
    (out / "index.html").write_bytes(b"the previous site")

    def failing(folder: Path) -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(publish_module, "_flush", failing)
    files = {f"update/e{i:02d}.html": b"page" for i in range(40)} | {"index.html": b"index"}
    called: list[bool] = []
    with pytest.raises(publish_module.PublishError):
        publish_module.publish(out, files, while_syncing=lambda tree: called.append(True))
    assert called == [True]
    assert snapshot(out) == {"index.html": b"the previous site"}


# -- a first build's journal, written ahead while the site is made (Journal.write_first) ----------------------


def _waiting(root: Path) -> list[str]:
    return sorted(p.name for p in (root / ".countnight").iterdir() if p.name.endswith(".first"))


def test_a_first_journal_that_cannot_be_written_ahead_is_appended(night: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tried: list[Path] = []

    def full(path: Path, data: bytes) -> None:
        tried.append(path)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(journal_module, "_write_new", full)
    report = Site(night).build(AFTER_THE_NIGHT)
    assert tried, "the first build did not try to write its journal ahead"
    assert report.built and not report.warnings, report.warnings
    assert len(shown_versions(night)) == 3 and not Journal.open(night).warnings
    assert _waiting(night) == []


def test_a_first_build_whose_site_does_not_go_out_leaves_no_journal(
    night: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its journal was written ahead (the lines were made while the disk synced), then the site could not be
    put in place: readers saw nothing, so no journal says they did, and nothing waits to be put in place."""
    written: list[Path] = []
    real, real_move = journal_module._write_new, publish_module._move_tree

    def noted(path: Path, data: bytes) -> None:
        written.append(path)
        real(path, data)

    def fails(tree: str, base: str, names: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), base)

    monkeypatch.setattr(journal_module, "_write_new", noted)
    monkeypatch.setattr(publish_module, "_move_tree", fails)
    report = Site(night).build(AFTER_THE_NIGHT)
    assert len(written) == 2 and not report.built
    assert any("disk is full" in w for w in report.warnings), report.warnings
    assert not (night / ".countnight/journal.jsonl").exists() and _waiting(night) == []

    monkeypatch.setattr(journal_module, "_write_new", real)
    monkeypatch.setattr(publish_module, "_move_tree", real_move)
    report = Site(night).build(AFTER_THE_NIGHT)
    assert report.built and len(shown_versions(night)) == 3 and _waiting(night) == []
