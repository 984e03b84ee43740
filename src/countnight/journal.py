"""The record: an append-only journal of every version readers were shown, and every withdrawal.

One JSON object per line in ``ROOT/.countnight/journal.jsonl``, appended and fsynced after the
site that shows it is written. A torn last line (a crash mid-append) is skipped and reported; the
lines before it are whole by construction.

A first build (no journal yet) writes both files whole while its site is made, under hidden names, and puts
them in place once the site is out (``write_first``): the same lines on disk at the same moment, without
writing ~8 MB twice and syncing it after the site at 10,000 entries (~40 ms of a cold build, in series).

The record is what keeps an entry on the page while its file is broken (its last good version), so it is
kept twice: every append goes to ``journal-copy.jsonl`` as well. Damage to one (cut short, a line garbled,
a shown version whose text no longer matches its hash, the file deleted) is mended from the other when the
build opens it, and said loudly; nothing either holds is lost. The copy is written without its own fsync:
it guards against a person or a program damaging the journal, not against a power cut, which the
journal's fsync covers (and ``merged`` takes the union of both, so a copy that lost its tail loses nothing).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

from .errors import InputError, describe_os_error
from .fileio import fsync_file, fsync_folder, read_file, write_all, write_synced
from .jsontext import string

STATE_DIR = ".countnight"
JOURNAL = "journal.jsonl"
COPY = "journal-copy.jsonl"  # the second copy: see the module docstring
_FIRST = ".first"  # suffix of the hidden names a first build's journal and copy wait under (see write_first)

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
    # "START END ZONE": the coverage window the version was validated in. A later config (or baseline) may no
    # longer accept its text; the version readers were shown is then read back under the rules it was shown
    # under, so a change of rules never takes it down. Empty in lines written before it was kept.
    window: str = ""

    def to_json(self) -> str:
        """One line: ``compact`` of {op, id, at} (and hash, path, text, window for "shown"), field by field, then
        ``sum``: the line's own check (see ``_summed``)."""
        return self.line()[:-1].decode()

    def line(self) -> bytes:
        """``to_json`` as the journal holds it: UTF-8, with its line feed (encoded once: the sum is of these bytes)."""
        head = f'{{"op":{string(self.op)},"id":{string(self.id)},"at":{string(self.at)}'
        if self.op != "shown":
            return _summed(head.encode())
        tail = f',"window":{string(self.window)}' if self.window else ""
        body = f'{head},"hash":{string(self.hash)},"path":{string(self.path)},"text":{string(self.text)}{tail}'
        return _summed(body.encode())


def _line_sum(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:16]


def _summed(body: bytes) -> bytes:
    """A line that checks itself: damage that leaves valid JSON (a flipped bit in a time, an op rewritten) is
    still found, so a damaged line is never taken for a record and ``merged`` never meets two versions of one."""
    return b'%s,"sum":"%s"}\n' % (body, _line_sum(body).encode())


_SUM_TAIL = len(',"sum":"0123456789abcdef"}')


_OPS = ("shown", "withdrawn", "deleted", "draft")
_SHOWN_KEYS = ({"op", "id", "at", "hash", "path", "text"}, {"op", "id", "at", "hash", "path", "text", "window"})


def _record(line: bytes) -> Record | str:
    """A line → its record, or why it is not one. A garbled line that still parses as JSON must not pass: a
    shown version whose text does not hash to its hash is damaged, not a version readers were shown."""
    line = line.rstrip(b"\r")
    try:
        data = json.loads(line)
    except ValueError:
        return "not a record"
    if not isinstance(data, dict) or data.get("op") not in _OPS or not all(isinstance(v, str) for v in data.values()):
        return "not a record"
    summed = "sum" in data
    if summed and (
        len(line) <= _SUM_TAIL
        or line[-_SUM_TAIL:] != f',"sum":"{data.pop("sum")}"}}'.encode()
        or _line_sum(line[:-_SUM_TAIL]) != line[-18:-2].decode("ascii", "replace")
    ):
        return "a line that fails its own check (damaged)"
    keys = set(data)
    if data["op"] == "shown":
        if keys not in _SHOWN_KEYS:
            return "not a record"
        if not summed and hashlib.sha256(data["text"].encode("utf-8", "surrogatepass")).hexdigest() != data["hash"]:
            return "a version whose text does not match its hash (damaged)"  # a line from before lines had sums
    elif keys != {"op", "id", "at"}:
        return "not a record"
    return Record(**data)


@dataclass
class _Copy:
    """One file of the record as read: its valid records, what was wrong with it, whether it is there."""

    path: Path
    raw: bytes | None = None  # None: missing (or unreadable)
    records: list[Record] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def read(cls, path: Path, same: _Copy | None = None) -> _Copy:
        """``same``: the other copy, read already; when the bytes are the same (as they are unless damaged),
        its records are these (parsed once)."""
        found = cls(path)
        try:
            found.raw = read_file(path)  # a FIFO or a device in its place is refused, never read
        except FileNotFoundError:
            return found
        except OSError as err:
            # A folder in its place, .countnight a file, no permission: not damage a copy can stand in for (the
            # next append would fail as well), and nothing may be published without the record (it holds
            # each entry's last good version): the build stops and says which path is wrong.
            display = f"{STATE_DIR}/{path.name}"
            why = describe_os_error(err, path)
            raise InputError.one(display, 0, f"the record of what readers were shown cannot be read: {why}") from None
        if same is not None and same.raw == found.raw:
            found.records, found.warnings = same.records, same.warnings
            return found
        lines = found.raw.split(b"\n")
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            record = _record(line)
            if isinstance(record, str):
                last = number == len(lines) or (number == len(lines) - 1 and not lines[-1])
                torn = last and record == "not a record"
                why = "a torn last line (a crash mid-write); skipped" if torn else f"{record}; skipped"
                found.warnings.append(f"{path}:{number}: {why}")
                continue
            found.records.append(record)
        return found


def merged(first: Sequence[Record], second: Sequence[Record]) -> list[Record]:
    """Both copies' records, each once, in the order they were appended.

    Both are the same append-only sequence less whatever damage took from each, so a record only one holds
    goes where it stood; where both hold different records at one place, the first's go first.
    """
    if first == second:
        return list(first)
    import difflib  # only when the two differ: a restart's quick check imports this module

    keys_a = [r.line() for r in first]
    keys_b = [r.line() for r in second]
    out: list[Record] = []
    matcher = difflib.SequenceMatcher(None, keys_a, keys_b, autojunk=False)
    for tag, a1, a2, b1, b2 in matcher.get_opcodes():
        out.extend(first[a1:a2])
        if tag != "equal":
            out.extend(second[b1:b2])
    return out


@dataclass
class Journal:
    """What the journal says: every record, and per id the version shown now (if any)."""

    path: Path
    records: list[Record] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    current: dict[str, Record] = field(default_factory=dict)  # id → the version readers see now
    ever_shown: dict[str, Record] = field(default_factory=dict)  # id → the last version ever shown

    # Records this journal holds that its file (or its copy) lost: write them back with ``mend``.
    damaged: bool = False
    copy_stale: bool = False  # the copy lacks records the journal holds (or is missing): ``mend`` rewrites it

    @classmethod
    def open(cls, root: Path) -> Journal:
        """The record as both copies hold it; what either lost is in ``warnings`` (and ``mend`` writes it back).
        InputError (naming the path) when a copy is there but cannot be read at all (see ``_Copy.read``)."""
        journal = cls(root / STATE_DIR / JOURNAL)
        main = _Copy.read(journal.path)
        copy = _Copy.read(journal.copy_path, same=main)
        journal.warnings.extend(main.warnings)
        records = merged(main.records, copy.records)
        lost = len(records) - len(main.records)
        if lost:
            journal.damaged = True
            what = "is missing" if main.raw is None else "lost records"
            journal.warnings.append(
                f"{journal.path} {what}: {lost} record(s) recovered from its copy {COPY}; "
                "every version readers were shown is kept"
            )
        short = len(records) - len(copy.records)
        if short and copy.raw is not None and main.raw is not None:
            journal.warnings.append(f"{journal.copy_path} lacked {short} record(s); written again from {JOURNAL}")
        journal.copy_stale = bool(short)
        for record in records:
            journal._apply(record)
        return journal

    @property
    def copy_path(self) -> Path:
        return self.path.with_name(COPY)

    def absorb(self, older: Journal) -> int:
        """Take back records that ``older`` (this process's view of the journal before it was read again) held
        and the disk no longer does: the journal and its copy both damaged or deleted while a watcher ran. The
        number taken back; ``mend`` writes them."""
        if self.records[: len(older.records)] == older.records:
            return 0  # only appended to since: nothing lost
        records = merged(older.records, self.records)
        lost = len(records) - len(self.records)
        if lost:
            self.records, self.current, self.ever_shown = [], {}, {}
            for record in records:
                self._apply(record)
            self.damaged = True
        return lost

    def mend(self) -> None:
        """Write the record back whole, to the journal (when it lost records) and to its copy; each replaced
        in one rename, so a crash leaves the old file or the new one, never a mix."""
        payload = encode_records(self.records)
        targets = ([self.path] if self.damaged else []) + ([self.copy_path] if self.copy_stale or self.damaged else [])
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for target in targets:
            tmp = target.with_name(f".{target.name}.tmp")
            write_synced(tmp, payload)
            os.replace(tmp, target)
        self.damaged = self.copy_stale = False

    def _apply(self, record: Record) -> None:
        self.records.append(record)
        if record.op == "shown":
            self.current[record.id] = record
            self.ever_shown[record.id] = record
        else:
            self.current.pop(record.id, None)

    def _first_paths(self) -> tuple[Path, Path]:
        return self.path.with_name(f".{JOURNAL}{_FIRST}"), self.copy_path.with_name(f".{COPY}{_FIRST}")

    def write_first(self, payload: bytes) -> First | None:
        """A first build's journal (and its copy) written whole ahead, under hidden names, for ``append`` to put
        in place once the site is out; None when this is not a first journal (one is there, or records are held
        here) or it could not be written (``append`` then writes it as always). Nothing is shown to a later
        reader of the journal until ``append``: before it the journal does not exist."""
        if not payload or self.records or os.path.lexists(self.path) or os.path.lexists(self.copy_path):
            return None
        journal, copy = self._first_paths()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            _write_new(journal, payload)
        except OSError:
            return None
        try:
            _write_new(copy, payload)
        except OSError:
            return First(payload, journal, None)
        return First(payload, journal, copy)

    def append(self, records: Iterable[Record], *, payload: bytes | None = None, first: First | None = None) -> None:
        """Append and fsync; the in-memory view follows. ``payload``: the records already encoded. ``first``:
        those lines, written ahead by ``write_first`` (it is put in place; if it cannot be, they are appended)."""
        batch = list(records)
        if not batch:
            return
        payload = encode_records(batch) if payload is None else payload
        if first is not None and first.payload is payload and self._put_first(first):
            for record in batch:
                self._apply(record)
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
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
        _append_copy(self.copy_path, payload)
        for record in batch:
            self._apply(record)
        for path in self._first_paths():  # a first journal left waiting by a build that ended before it was in place
            with contextlib.suppress(OSError):
                path.unlink()

    def _put_first(self, first: First) -> bool:
        """``write_first``'s files put in place: synced (a cold build's syncfs has mostly done it), then linked
        under their names, never over a file that is there since (a link refuses it); whether the journal is."""
        try:
            try:
                fsync_file(first.journal)
                os.link(first.journal, self.path)
            except OSError:
                return False
            fsync_folder(self.path.parent)
            if first.copy is not None:
                try:
                    os.link(first.copy, self.copy_path)
                except OSError:  # the copy is found short when the journal is next opened, and written again
                    _append_copy(self.copy_path, first.payload)
            return True
        finally:
            first.discard()

    def versions(self, ident: str) -> list[Record]:
        return [r for r in self.records if r.id == ident]


@dataclass(frozen=True)
class First:
    """A first journal written ahead (``Journal.write_first``): its lines, and the hidden files that hold them."""

    payload: bytes
    journal: Path
    copy: Path | None  # None: the copy could not be written ahead (``append`` writes it)

    def discard(self) -> None:
        """Its hidden files removed (once put in place, their names are the journal's; else never shown)."""
        for path in (self.journal, self.copy):
            if path is not None:
                with contextlib.suppress(OSError):
                    path.unlink()


def _write_new(path: Path, data: bytes) -> None:
    """``data`` as a new file at ``path``; whatever had that name is removed first, never written through (a
    link left by a crash may share the journal's own file)."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o644)
    try:
        write_all(fd, data)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            path.unlink()
        raise
    os.close(fd)


def encode_records(records: Iterable[Record]) -> bytes:
    """Records as the journal's lines."""
    return b"".join([r.line() for r in records])


def _append_copy(path: Path, payload: bytes) -> None:
    """The same lines to the copy; best effort (the journal itself is written and synced): a copy that could
    not take them is found short and rewritten when the journal is next opened."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            if os.fstat(fd).st_size and not _ends_with_newline(path) and not payload.startswith(b"\n"):
                payload = b"\n" + payload
            write_all(fd, payload)
        finally:
            os.close(fd)


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) == b"\n"


def stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")
