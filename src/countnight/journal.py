"""The record: an append-only journal of every version readers were shown, and every withdrawal.

One JSON object per line in ``ROOT/.countnight/journal.jsonl``, appended and fsynced after the
site that shows it is written. A torn last line (a crash mid-append) is skipped and reported; the
lines before it are whole by construction.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

from .fileio import write_all
from .jsontext import string

STATE_DIR = ".countnight"
JOURNAL = "journal.jsonl"

Op = Literal["shown", "withdrawn", "deleted", "draft"]


@dataclass(frozen=True)
class Record:
    """One line of the journal."""

    op: Op
    id: str
    at: str  # ISO 8601, when it went live or was taken down
    hash: str = ""
    text: str = ""
    path: str = ""

    def to_json(self) -> str:
        """One line: ``compact`` of {op, id, at} (and hash, path, text for "shown"), written field by field."""
        head = f'{{"op":{string(self.op)},"id":{string(self.id)},"at":{string(self.at)}'
        if self.op != "shown":
            return head + "}"
        return f'{head},"hash":{string(self.hash)},"path":{string(self.path)},"text":{string(self.text)}}}'


@dataclass
class Journal:
    """What the journal says: every record, and per id the version shown now (if any)."""

    path: Path
    records: list[Record] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    current: dict[str, Record] = field(default_factory=dict)  # id → the version readers see now
    ever_shown: dict[str, Record] = field(default_factory=dict)  # id → the last version ever shown

    @classmethod
    def open(cls, root: Path) -> Journal:
        journal = cls(root / STATE_DIR / JOURNAL)
        try:
            raw = journal.path.read_bytes()
        except FileNotFoundError:
            return journal
        lines = raw.split(b"\n")
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                record = Record(**data)
            except (ValueError, TypeError):
                last = number == len(lines) or (number == len(lines) - 1 and not lines[-1])
                why = "a torn last line (a crash mid-write); skipped" if last else "not a record; skipped"
                journal.warnings.append(f"{journal.path}:{number}: {why}")
                continue
            journal._apply(record)
        return journal

    def _apply(self, record: Record) -> None:
        self.records.append(record)
        if record.op == "shown":
            self.current[record.id] = record
            self.ever_shown[record.id] = record
        else:
            self.current.pop(record.id, None)

    def append(self, records: Iterable[Record], *, payload: bytes | None = None) -> None:
        """Append and fsync; the in-memory view follows. ``payload``: the records already encoded."""
        batch = list(records)
        if not batch:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        payload = encode_records(batch) if payload is None else payload
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            start = os.fstat(fd).st_size
            if start and not _ends_with_newline(self.path):
                payload = b"\n" + payload  # after a torn line, start clean
            try:
                write_all(fd, payload)
                os.fsync(fd)
            except OSError:
                # Leave no torn record (a short write used to do so silently, and the build then believed
                # those versions recorded); the caller reports the error and the next build records them.
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, start)
                raise
        finally:
            os.close(fd)
        for record in batch:
            self._apply(record)

    def versions(self, ident: str) -> list[Record]:
        return [r for r in self.records if r.id == ident]


def encode_records(records: Iterable[Record]) -> bytes:
    """Records as the journal's lines."""
    return "".join(r.to_json() + "\n" for r in records).encode()


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) == b"\n"


def stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")
