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
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from ..errors import InputError
from ..fileio import write_all
from ..journal import STATE_DIR, Journal
from ..listing import ENTRIES
from ..names import is_entry_name

LOG = "desk-log.jsonl"
MAX_TRIES = 100


def write_new(root: Path, stem: str, data: bytes) -> Path:
    """Add ``entries/STEM.md`` (or ``STEM-2.md``, ...) without ever replacing a file; returns its path."""
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
            path = folder / (f"{stem}.md" if n == 1 else f"{stem}-{n}.md")
            if not is_entry_name(path.name):
                raise ValueError(path.name)  # the stem comes from slug(): a programming error
            try:
                os.link(tmp, path)
            except FileExistsError:
                continue
            _sync(folder)
            # A link makes no "closed after writing" event, so the watcher would hold the new name for its
            # grace period in case more writes follow. Opening it for writing and closing it, untouched,
            # says it is complete: it is published at once.
            os.close(os.open(path, os.O_WRONLY))
            return path
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    raise InputError.one(f"{ENTRIES}/{stem}.md", 0, f"{MAX_TRIES} entries already have this name; nothing written")


def _sync(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


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


State = Literal["live", "waiting", "draft", "withdrawn", "gone", "older"]


@dataclass(frozen=True)
class Status:
    """Where an entry stands: ``live`` once readers are shown exactly the file as it is now."""

    state: State
    words: str


def entry_status(root: Path, ident: str, draft: bool, withdrawn: bool) -> Status:
    """Compare the file with the record of what readers were shown (the watcher appends it once published)."""
    path = root / ENTRIES / f"{ident}.md"
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return Status("gone", "the file is no longer in entries/")
    if draft:
        return Status("draft", "a draft: an editor approves it before it goes out")
    shown = Journal.open(root).current.get(ident)
    if withdrawn:
        return Status("withdrawn", "withdrawn") if shown is None else Status("waiting", "being withdrawn…")
    if shown is not None and shown.hash == digest:
        return Status("live", "live")
    if shown is not None:
        return Status("older", "an earlier version is live; this one is on its way…")
    return Status("waiting", "sent; waiting for the watcher to publish it…")
