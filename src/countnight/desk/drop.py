"""Writing a desk entry into ``entries/``, the desk's log of who did what, and whether an entry is live.

An entry is written the maildir way: the whole file goes to a dot-file beside its destination (which
the build ignores), is fsynced, then hard-linked to its name. ``link`` is atomic and never replaces a
file, so a watcher sees the entry whole or not at all, and a reporter filing at the same minute about
the same seat gets ``-2`` rather than overwriting a colleague.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from ..entries import parse_entry
from ..errors import InputError
from ..fileio import fsync_folder, write_all
from ..journal import JOURNAL, STATE_DIR
from ..listing import ENTRIES, load_context
from ..names import is_entry_name, is_picture_name
from ..views import make_view

LOG = "desk-log.jsonl"
MAX_TRIES = 100


def write_new(root: Path, stem: str, data: bytes, *, suffix: str = ".md") -> Path:
    """Add ``entries/STEM.md`` (or ``STEM-2.md``, ...) without ever replacing a file; returns its path.
    ``suffix``: another kind of file beside the entries (a photo, ``.jpg``)."""
    folder = root / ENTRIES
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".desk-{stem}.{os.getpid()}.{secrets.token_hex(6)}.tmp"  # two requests at once: two temps
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        write_all(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        for n in range(1, MAX_TRIES + 1):
            path = folder / (f"{stem}{suffix}" if n == 1 else f"{stem}-{n}{suffix}")
            if not (is_entry_name(path.name) if suffix == ".md" else is_picture_name(path.name)):
                raise ValueError(path.name)  # the stem comes from slug(): a programming error
            try:
                os.link(tmp, path)
            except FileExistsError:
                continue
            fsync_folder(folder)  # the new name survives a crash
            # A link makes no "closed after writing" event, so the watcher would hold the new name for its
            # grace period in case more writes follow. Opening it for writing and closing it, untouched,
            # says it is complete: it is published at once.
            os.close(os.open(path, os.O_WRONLY))
            return path
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    raise InputError.one(f"{ENTRIES}/{stem}{suffix}", 0, f"{MAX_TRIES} files already have this name; nothing written")


def log_action(root: Path, who: str, action: str, ident: str = "", detail: str = "", *, at: datetime) -> None:
    """Append one line to ``.countnight/desk-log.jsonl``: when, who, what, which entry. Fsynced."""
    line = json.dumps(
        {"at": at.isoformat(timespec="seconds"), "who": who, "action": action, "id": ident, "detail": detail},
        ensure_ascii=False,
    )
    path = root / STATE_DIR / LOG
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        write_all(fd, (line + "\n").encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def read_log(root: Path) -> list[dict[str, str]]:
    """Every line of the desk's log (a torn last line is left out)."""
    try:
        raw = (root / STATE_DIR / LOG).read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    found = []
    for line in raw.splitlines():
        with contextlib.suppress(ValueError):
            found.append(json.loads(line))
    return found


State = Literal["live", "waiting", "draft", "withdrawn", "gone", "older", "error"]


@dataclass(frozen=True)
class Status:
    """Where an entry stands: ``live`` once readers are shown exactly the file as it is now."""

    state: State
    words: str


@dataclass(frozen=True)
class Found:
    """One entry file as the build reads it, for the desk's page about it."""

    id: str
    kind: str
    status: str  # published, draft, withdrawn, error
    text: str  # the headline, or its first problem
    digest: str  # sha256 of the file's bytes


def read_one(root: Path, ident: str) -> Found | None:
    """The entry ``ident`` read and checked as the build would, without reading the rest of the night."""
    path = root / ENTRIES / f"{ident}.md"
    if path.name != f"{ident}.md" or not is_entry_name(path.name) or not path.is_file():  # no '/' in an id
        return None
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    event, context = load_context(root)
    try:
        entry = parse_entry(data, f"{ENTRIES}/{path.name}", context)
    except InputError as err:
        return Found(ident, "?", "error", str(err.problems[0]), digest)
    headline = make_view(entry, context.baseline, event.timezone).headline
    return Found(ident, entry.kind, entry.status, headline, digest)


class Shown:
    """What readers are shown now, id → the hash of its version, from the journal the watcher appends to.

    Read incrementally: each call reads only the lines appended since the last, so following an entry
    every second costs a stat, not the whole night's record.
    """

    def __init__(self, root: Path) -> None:
        self.path = root / STATE_DIR / JOURNAL
        self.offset = 0
        self.identity: tuple[int, int] | None = None
        self.current: dict[str, str] = {}
        self.lock = threading.Lock()

    def shown(self, ident: str) -> str | None:
        with self.lock:
            self._catch_up()
            return self.current.get(ident)

    def _catch_up(self) -> None:
        try:
            info = os.stat(self.path)
        except FileNotFoundError:
            self.offset, self.identity, self.current = 0, None, {}
            return
        if (info.st_dev, info.st_ino) != self.identity or info.st_size < self.offset:  # replaced or cut: again
            self.offset, self.identity, self.current = 0, (info.st_dev, info.st_ino), {}
        if info.st_size == self.offset:
            return
        with open(self.path, "rb") as handle:
            handle.seek(self.offset)
            chunk = handle.read(info.st_size - self.offset)
        whole = chunk[: chunk.rfind(b"\n") + 1]  # a line still being appended waits for the next call
        self.offset += len(whole)
        for line in whole.splitlines():
            with contextlib.suppress(ValueError, AttributeError):
                record = json.loads(line)
                if record.get("op") == "shown":
                    self.current[record["id"]] = record.get("hash", "")
                else:
                    self.current.pop(record["id"], None)


def entry_status(found: Found, record: Shown) -> Status:
    """Compare the file with the record of what readers were shown (the watcher appends it once published)."""
    if found.status == "draft":
        return Status("draft", "a draft: an editor approves it before it goes out")
    shown = record.shown(found.id)
    if found.status == "withdrawn":
        return Status("withdrawn", "withdrawn") if shown is None else Status("waiting", "being withdrawn…")
    if found.status == "error":
        return Status("error", "this file has a problem; readers see its last good version, if any")
    if shown == found.digest:
        return Status("live", "live")
    if shown is not None:
        return Status("older", "an earlier version is live; this one is on its way…")
    return Status("waiting", "sent; waiting for the watcher to publish it…")
