"""A whole site written into its staging folder (staging.py): each file by its name within its folder, its stat
taken from the open file, exactly what a stat of it by path says afterwards."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from countnight import staging
from countnight.staging import TreeWriter


def test_files_are_written_under_their_names_with_the_stat_a_later_stat_gives(tmp_path: Path) -> None:
    tree = tmp_path / ".countnight-tmp-1-site"
    tree.mkdir()
    writer = TreeWriter(str(tree))
    try:
        written = {
            name: writer.write(name, f"<p>{name}</p>".encode())
            for name in ("index.html", "update/a.html", "update/b.html", "assets/x/y.css")
        }
    finally:
        writer.close()
    for name, (path, (mtime, size, inode)) in written.items():
        assert path == f"{tree}/{name}"
        assert Path(path).read_bytes() == f"<p>{name}</p>".encode()
        info = os.stat(path)
        assert (info.st_mtime_ns, info.st_size, info.st_ino) == (mtime, size, inode)
        assert stat.S_IMODE(info.st_mode) == 0o644


def test_mode_0644_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o077)
    try:
        writer = TreeWriter(str(tmp_path))
        path, _ = writer.write("update/a.html", b"x")
        writer.close()
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644


def test_a_file_that_fails_as_it_is_written_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(fd: int, data: bytes) -> None:
        os.write(fd, data[:1])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(staging, "write_all", full)
    writer = TreeWriter(str(tmp_path))
    with pytest.raises(OSError, match="No space left"):
        writer.write("update/a.html", b"<p>half</p>")
    writer.close()
    assert list((tmp_path / "update").iterdir()) == []


def test_close_lets_go_of_every_folder_it_opened(tmp_path: Path) -> None:
    before = set(os.listdir("/proc/self/fd"))
    writer = TreeWriter(str(tmp_path))
    for name in ("a.html", "update/a.html", "page/1.html", "cards/c.png"):
        writer.write(name, b"x")
    assert len(set(os.listdir("/proc/self/fd")) - before) == 4  # the tree and its three folders
    writer.close()
    assert set(os.listdir("/proc/self/fd")) - before == set()
