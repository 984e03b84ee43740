"""A build returns its changes and outlets take them (changes.py, folder.py, Site(outlets=...)).

Real folders and files; the second outlet here is a real one: it copies each build's changes into another
folder from a thread of its own, so it can fall behind the build and catch up, as an object store would.
"""

from __future__ import annotations

import os
import queue
import threading
from pathlib import Path

from conftest import AFTER_THE_NIGHT, BlogMaker
from countnight.changes import Changes, LiveDelta, write_order
from countnight.pages import PANELS
from countnight.publish import MANIFEST
from countnight.site import Site

UPDATE = "---\ntitle: {title}\ntime: '{time}'\n{extra}---\nText.\n"
DEADLINE = 30.0  # seconds: a loaded machine is slow, but never this slow


def update(title: str, time: str = "01:00", extra: str = "") -> str:
    return UPDATE.format(title=title, time=time, extra=extra)


def files_of(folder: Path) -> dict[str, bytes]:
    found = {}
    for path in folder.rglob("*"):
        if path.is_file() and path.name != MANIFEST:
            found[path.relative_to(folder).as_posix()] = path.read_bytes()
    return found


class MirrorOutlet:
    """Copies each build's changes into ``folder`` from its own thread, in write order, deletions last."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.received: list[Changes] = []
        self.gate = threading.Event()  # held shut, the outlet falls behind the build
        self.gate.set()
        self.caught_up = threading.Event()
        self._queue: queue.Queue[Changes] = queue.Queue()
        threading.Thread(target=self._drain, daemon=True).start()

    def send(self, changes: Changes) -> None:
        self.received.append(changes)
        self.caught_up.clear()
        self._queue.put(changes)

    def _drain(self) -> None:
        while True:
            changes = self._queue.get()
            self.gate.wait()
            if changes.complete:  # no previous build to compare with: hold exactly these paths
                for path in set(files_of(self.folder)) - changes.paths:
                    (self.folder / path).unlink()
            for path in changes.ordered():
                target = self.folder / path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(changes.bytes_of(path))
            for path in sorted(changes.deleted):
                (self.folder / path).unlink(missing_ok=True)
            if self._queue.empty():
                self.caught_up.set()


def test_a_build_returns_its_changes_and_the_live_delta(blog: BlogMaker) -> None:
    root = blog({"entries/0100-a.md": update("A"), "entries/0110-b.md": update("B", "01:10", "key: true\n")})
    site = Site(root)
    first = site.build(AFTER_THE_NIGHT).changes
    assert first is not None and first.complete and first.deleted == frozenset()
    assert first.live == LiveDelta(new=("0110-b", "0100-a"), panels=PANELS)
    assert {"index.html", "live.json", "update/0100-a.html", "update/0110-b.html"} <= first.paths
    assert set(first.files) <= first.paths
    on_disk = files_of(root / "site")
    assert set(on_disk) == first.paths
    assert {path: first.bytes_of(path) for path in first.files} == {path: on_disk[path] for path in first.files}

    (root / "entries/0100-a.md").write_text(update("A, corrected", extra="correction: It said B.\n"))
    corrected = site.build(AFTER_THE_NIGHT, changed=["entries/0100-a.md"]).changes
    assert corrected is not None and not corrected.complete
    assert corrected.live == LiveDelta(corrected=("0100-a",))  # no panel shows it
    assert "update/0100-a.html" in corrected.files and "update/0110-b.html" not in corrected.files

    os.unlink(root / "entries/0110-b.md")
    withdrawn = site.build(AFTER_THE_NIGHT, changed=["entries/0110-b.md"]).changes
    assert withdrawn is not None
    assert withdrawn.live == LiveDelta(withdrawn=("0110-b",), panels=("key_events",))
    # Its share page goes, and with it its share card (named by what it showed, so named by no other page).
    card = {path for path in withdrawn.deleted if path.startswith("cards/")}
    assert withdrawn.deleted == {"update/0110-b.html", *card} and len(card) == 1
    assert "update/0110-b.html" not in withdrawn.paths
    assert not (root / "site/update/0110-b.html").exists()


def test_changes_go_out_in_write_order() -> None:
    changes = Changes(files={"index.html": b"", "update/x.html": b"", "live.json": b"", "assets/style.css": b""})
    assert changes.ordered() == ["assets/style.css", "update/x.html", "live.json", "index.html"]
    assert changes.ordered() == sorted(changes.files, key=write_order)


def test_an_outlet_falls_behind_and_catches_up_without_holding_up_the_build(blog: BlogMaker, tmp_path: Path) -> None:
    root = blog({"entries/0100-a.md": update("A"), "entries/0110-b.md": update("B", "01:10")})
    mirror = MirrorOutlet(tmp_path / "mirror")
    site = Site(root, outlets=[mirror])
    mirror.gate.clear()  # the store is unreachable for a while
    assert site.build(AFTER_THE_NIGHT).built
    (root / "entries/0120-c.md").write_text(update("C", "01:20"))
    assert site.build(AFTER_THE_NIGHT, changed=["entries/0120-c.md"]).built
    os.unlink(root / "entries/0100-a.md")
    report = site.build(AFTER_THE_NIGHT, changed=["entries/0100-a.md"])
    assert report.built and not report.warnings  # three builds went out while the outlet waited
    assert [c.live.new for c in mirror.received] == [("0110-b", "0100-a"), ("0120-c",), ()]
    assert all(isinstance(data, bytes) for c in mirror.received for data in c.files.values())  # bytes only
    assert not mirror.caught_up.is_set()
    mirror.gate.set()
    assert mirror.caught_up.wait(DEADLINE)
    assert files_of(tmp_path / "mirror") == files_of(root / "site")


def test_an_outlet_that_fails_is_a_warning_and_the_others_still_get_the_changes(
    blog: BlogMaker, tmp_path: Path
) -> None:
    class Broken:
        def send(self, changes: Changes) -> None:
            raise ConnectionError("the bucket is gone")

    root = blog({"entries/0100-a.md": update("A")})
    mirror = MirrorOutlet(tmp_path / "mirror")
    report = Site(root, outlets=[Broken(), mirror]).build(AFTER_THE_NIGHT)
    assert report.built and report.warnings == ["Broken: could not take the changes (the bucket is gone)"]
    assert mirror.caught_up.wait(DEADLINE)
    assert files_of(tmp_path / "mirror") == files_of(root / "site")


def test_outlets_get_only_the_files_whose_bytes_changed(blog: BlogMaker, tmp_path: Path) -> None:
    root = blog({"entries/0100-a.md": update("A"), "entries/0110-b.md": update("B", "01:10")})
    mirror = MirrorOutlet(tmp_path / "mirror")
    site = Site(root, outlets=[mirror])
    site.build(AFTER_THE_NIGHT)
    again = site.build(AFTER_THE_NIGHT, changed=[])
    assert again.changes is not None and not again.changes.live and not again.changes.deleted
    assert len(mirror.received) == 1  # nothing changed: the outlets were not called
    (root / "entries/0100-a.md").write_text(update("A, corrected"))
    site.build(AFTER_THE_NIGHT, changed=["entries/0100-a.md"])
    sent = mirror.received[-1]
    assert "update/0100-a.html" in sent.files and "update/0110-b.html" not in sent.files
    assert "assets/style.css" not in sent.files  # made again each build, the same bytes: not sent
    assert mirror.caught_up.wait(DEADLINE)
    assert files_of(tmp_path / "mirror") == files_of(root / "site")
