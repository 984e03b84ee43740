"""Editors' changes to entry files: correct, withdraw, pin, key, restore.

An edit is a text splice, not a YAML round trip. The parser says where a top-level field's value
starts and ends (line and column), and only those characters change: comments, the order of fields,
the quoting of other values, blank lines, CRLF line ends, a BOM and the body stay byte for byte. A
new field goes on its own line just before the closing ``---``. Every result is parsed and validated
with the build's own ``parse_entry`` before it replaces the file, so a command never breaks a good
entry, and the file is replaced atomically (``.NAME.PID.tmp`` beside it, a dot-file the build ignores).
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import yaml

from .clock import parse_time
from .config import Event
from .entries import parse_entry
from .errors import InputError, Problem
from .fileio import fsync_folder, write_all
from .frontmatter import decode, read_entry, split
from .journal import Journal, Record
from .listing import ENTRIES, find_entry, load_context, normalise_id, unknown
from .models import Entry
from .swap import replace_if_unchanged

_Loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # as frontmatter: the same parser
BOM = "\ufeff"
_NULL_WORDS = {"", "~", "null", "Null", "NULL"}  # plain scalars the reader turns into "no value"
_WORD = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")  # safe unquoted in a new field: true, withdrawn
_PLAIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:+-]*(?<!:)$")  # safe unquoted where the reporter wrote plain
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r", "\0": "\\0"}


def _printable(char: str) -> bool:
    """Characters a YAML scalar may hold as they are (line separators and a BOM must be escaped)."""
    code = ord(char)
    return (
        0x20 <= code <= 0x7E
        or (0xA0 <= code <= 0xD7FF and code not in (0x2028, 0x2029))  # YAML folds these line separators
        or (0xE000 <= code <= 0xFFFD and code != 0xFEFF)
        or (code >= 0x10000)
    )


def _double(value: str) -> str:
    out = []
    for char in value:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif _printable(char):
            out.append(char)
        else:
            out.append(f"\\u{ord(char):04x}")
    return '"' + "".join(out) + '"'


def yaml_scalar(value: str, like: str | None = "new") -> str:
    """``value`` as a one-line YAML scalar that reads back as exactly ``value``.

    ``like`` is the quoting the field had (None plain, ``'`` or ``"``; "new" for a new field): a
    reporter who wrote ``updated: '02:10'`` gets ``updated: '02:41'``.
    """
    if value not in _NULL_WORDS:
        if like is None and _PLAIN.match(value):
            return value
        if like not in ("'", '"') and _WORD.match(value):
            return value
    if like == "'" and all(_printable(c) for c in value):
        return "'" + value.replace("'", "''") + "'"
    return _double(value)


@dataclass(frozen=True)
class _Field:
    """Where one top-level field stands in the file text (offsets into the text, lines 0-based)."""

    key_line: int
    colon: int  # just after the ':'
    start: int  # the value's first character
    end: int  # just after its last character
    last_line: int
    style: str | None  # the scalar's quoting; "collection" for a list or a set of fields
    empty: bool


class _Layout:
    """An entry file's text (no BOM, line ends as written) and where its top-level fields are."""

    def __init__(self, text: str, path: str) -> None:
        lone_cr = re.search("\r(?!\n)", text)
        if lone_cr:
            line = text.count("\n", 0, lone_cr.start()) + 1
            raise InputError.one(path, line, "old Mac line ends (CR only): save the file with LF or CRLF line ends")
        self.text = text
        self.path = path
        self.lines = text.split("\n")  # a CRLF file's lines keep their '\r'
        self.starts = [0]
        for line in self.lines:
            self.starts.append(self.starts[-1] + len(line) + 1)
        plain = "\n".join(line.removesuffix("\r") for line in self.lines)
        front, _, _, body_line = split(plain, path)
        self.close = body_line - 2  # the closing '---' line
        self.eol = "\r\n" if self.lines[0].endswith("\r") else "\n"
        self.fields: dict[str, _Field] = {}
        self.indent = 0
        self.flow = False
        self._scan(front)

    def _offset(self, mark: yaml.Mark) -> int:
        return self.starts[1 + mark.line] + mark.column

    def line_end(self, index: int) -> int:
        """Offset of the end of a line's content (before its '\\r\\n' or '\\n')."""
        return self.starts[index] + len(self.lines[index].removesuffix("\r"))

    def _scan(self, front: str) -> None:
        events = iter(yaml.parse(front, Loader=_Loader))
        depth = 0
        key: yaml.ScalarEvent | None = None
        for event in events:
            if isinstance(event, yaml.MappingStartEvent) and depth == 0:
                self.flow = bool(event.flow_style)
                self.indent = event.start_mark.column
                depth = 1
                continue
            if depth != 1 or isinstance(event, yaml.MappingEndEvent | yaml.DocumentEndEvent | yaml.StreamEndEvent):
                continue
            if key is None:
                key = event if isinstance(event, yaml.ScalarEvent) else None
                continue
            self._add(key, event, events)
            key = None

    def _add(self, key: yaml.ScalarEvent, value: yaml.Event, events: object) -> None:
        key_line = 1 + key.start_mark.line
        after_key = self._offset(key.end_mark)
        colon = re.compile(r"[ \t]*:").match(self.text, after_key)
        if isinstance(value, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            nesting = 1
            end_event = value
            item, inner = 0, None  # a list of sets of fields (candidates): which item, and the key just read
            while nesting:  # skip to the collection's end
                end_event = next(events)  # type: ignore[call-overload]
                if isinstance(value, yaml.SequenceStartEvent):
                    item, inner = self._item_field(str(key.value), nesting, item, inner, end_event)
                if isinstance(end_event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
                    nesting += 1
                elif isinstance(end_event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
                    nesting -= 1
            start, end, style = self._offset(value.start_mark), self._offset(end_event.end_mark), "collection"
        else:
            assert isinstance(value, yaml.ScalarEvent)
            start, end, style = self._offset(value.start_mark), self._offset(value.end_mark), value.style
        last = self._line_of(end)
        if end > start and end == self.starts[last] and last > key_line:
            # a block scalar ends at the start of the line after it, blank lines included: stop at its text
            last -= 1
            while last > key_line and not self.lines[last].strip():
                last -= 1
            end = self.line_end(last)
        empty = end == start
        if empty:
            last = key_line
        if colon is None:  # a '? key' complex key: not something a command should touch
            style = "collection"
        self.fields[str(key.value)] = _Field(
            key_line, colon.end() if colon else after_key, start, end, last, style, empty
        )

    def _item_field(
        self, name: str, nesting: int, item: int, inner: yaml.ScalarEvent | None, event: yaml.Event
    ) -> tuple[int, yaml.ScalarEvent | None]:
        """Note where ``name[N].field`` (1-based, as problems name it) has a one-line value: one event at a time."""
        if nesting == 1 and isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent | yaml.ScalarEvent):
            return item + 1, None  # the next item begins
        if nesting != 2 or not isinstance(event, yaml.ScalarEvent):
            return item, None if nesting == 2 else inner  # a nested collection as a value: not editable here
        if inner is None:
            return item, event
        start, end = self._offset(event.start_mark), self._offset(event.end_mark)
        if self._line_of(start) == self._line_of(end) and event.style in (None, "", "'", '"'):  # C parser: "" plain
            self.fields[f"{name}[{item}].{inner.value}"] = _Field(
                1 + inner.start_mark.line,
                self._offset(inner.end_mark),
                start,
                end,
                self._line_of(end),
                event.style,
                end == start,
            )
        return item, None

    def _line_of(self, offset: int) -> int:
        lo, hi = 0, len(self.lines) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.starts[mid] <= offset:
                lo = mid
            else:
                hi = mid - 1
        return lo

    def with_field(self, key: str, value: str | None) -> str:
        """The text with ``key`` set to ``value`` (a new line before the closing ``---`` if absent), or removed."""
        if self.flow:
            raise InputError.one(self.path, 2, "the fields are written as { ... } on one line: edit this file by hand")
        found = self.fields.get(key)
        text = self.text
        if found is not None and found.style == "collection":
            raise InputError.one(
                self.path, found.key_line + 1, f"{key}: is a list or a set of fields: edit this file by hand"
            )
        if "[" in key:  # a field of a list item (candidates[2].votes): only ever replaced in place
            if found is None or value is None:
                raise InputError.one(self.path, 0, f"{key}: not a single value in this file: edit this file by hand")
            like = None if not found.style else found.style
            return text[: found.start] + (" " if found.empty else "") + yaml_scalar(value, like) + text[found.end :]
        if value is None:
            if found is None:
                return text
            return text[: self.starts[found.key_line]] + text[self.starts[found.last_line + 1] :]
        if found is None:
            at = self.starts[self.close]
            return text[:at] + " " * self.indent + f"{key}: {yaml_scalar(value)}{self.eol}" + text[at:]
        if found.empty:  # 'author:' or 'author:   # who': the value goes after the colon, a comment stays
            line_end = self.line_end(found.key_line)
            rest = text[found.colon : line_end]
            rendered = " " + yaml_scalar(value) + (rest if rest.strip() else "")
            return text[: found.colon] + rendered + text[line_end:]
        like = found.style if found.style in (None, "'", '"') else "new"
        return text[: found.start] + yaml_scalar(value, like) + text[found.end :]


def set_fields(data: bytes, changes: Mapping[str, str | None], path: str) -> bytes:
    """An entry file's bytes with each top-level field set to a text value, or removed (None). Pure.

    Raises InputError (FILE:LINE) when the file's front matter does not parse, when a field is not a
    single value, or when the result would not read back as exactly the values asked for.
    """
    read_entry(data, path)  # refuse what does not parse, with the reader's own FILE:LINE messages
    text = data.decode("utf-8")
    bom = text.startswith(BOM)
    text = text.removeprefix(BOM)
    for key, value in changes.items():
        text = _Layout(text, path).with_field(key, value)
    result = ((BOM if bom else "") + text).encode("utf-8")
    front = read_entry(result, path).front
    for key, value in changes.items():
        if _value_at(front, key) != value or (value is None and key in front):
            raise InputError.one(path, 0, f"{key}: could not be set to {value!r} safely; edit this file by hand")
    return result


def _value_at(front: Mapping[str, object], key: str) -> object:
    """``front[key]``, where ``key`` may name a field of a list item: ``candidates[2].votes``."""
    match = re.fullmatch(r"(\w+)\[(\d+)\]\.(\w+)", key)
    if match is None:
        return front.get(key)
    items = front.get(match[1])
    index = int(match[2]) - 1
    if not isinstance(items, list) or not 0 <= index < len(items) or not isinstance(items[index], dict):
        return None
    return items[index].get(match[3])


# -- writing -----------------------------------------------------------------------------------


def write_entry_file(path: Path, data: bytes, *, expect: bytes | None = None, create: bool = False) -> None:
    """Replace (or, with ``create``, add without overwriting) an entry file atomically.

    The temp file (``.NAME-XXXXXXXX.tmp``, a dot-file the build ignores) is made new with O_EXCL, so a link
    left under a temp name is never written through, and its name stays short whatever the entry's (the
    entry's own name plus a suffix was too long for a long name). The swap renames over the entry's name:
    a link there is replaced, never followed. With ``expect``, the file must still hold those bytes when the
    new version goes in (swap.py: checked after an atomic exchange where the kernel has one, so a reporter's
    save that lands between the check and the swap is put back, never overwritten).
    """
    display = f"{ENTRIES}/{path.name}"
    refuse_link(path)
    mode = None if create else stat.S_IMODE(path.lstat().st_mode)
    fd, name = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=path.parent)
    tmp = Path(name)
    try:
        try:
            write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.chmod(tmp, mode if mode is not None else 0o666 & ~_umask())  # a shared folder's group-writable stay so
        if create:
            try:
                os.link(tmp, path)  # atomic, and refuses to replace a file (or a link) that appeared meanwhile
            except FileExistsError:
                raise InputError.one(display, 0, "exists: add --force to replace it") from None
            except OSError:  # a file system without hard links
                if os.path.lexists(path):
                    raise InputError.one(display, 0, "exists: add --force to replace it") from None
                os.replace(tmp, path)
        else:
            if expect is None:
                refuse_link(path)  # a link put in its place during the edit
                os.replace(tmp, path)
            elif not replace_if_unchanged(tmp, path, lambda name: _holds(name, expect)):
                raise InputError.one(display, 0, "changed on disk during the edit; nothing written, try again")
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    fsync_folder(path.parent)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def refuse_link(path: Path) -> None:
    """InputError when ``path`` is a symbolic link: an editor's command never writes through one (a link to a
    file outside entries/, or to another entry, would have had that file changed in its place)."""
    if path.is_symlink():
        display = f"{ENTRIES}/{path.name}"
        try:
            where = os.readlink(path)
        except OSError:
            where = "?"
        raise InputError.one(
            display,
            0,
            f"is a link (to {where}): editor commands do not write through links; "
            "replace the link with the file itself, or edit the file it points to by hand",
        )


def _holds(path: Path, expect: bytes) -> bool:
    """Whether ``path`` is a plain file (not a link) holding exactly ``expect``."""
    try:
        return not path.is_symlink() and _read_plain(path) == expect
    except OSError:
        return False


def _read_plain(path: Path) -> bytes:
    """The bytes of ``path``, not following a link (a link is refused before this is called)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    try:
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read()
    finally:
        os.close(fd)


# -- editors' commands -------------------------------------------------------------------------


@dataclass(frozen=True)
class Edited:
    """What an editor's command did to one entry file."""

    path: Path
    changed: bool  # False: it already said so; the file is untouched
    entry: Entry | None  # the entry as it now validates; None when it still has problems
    problems: tuple[Problem, ...] = ()  # what is still wrong (a broken entry can still be withdrawn)


def edit_entry(
    root: Path,
    ident: str,
    changes: Mapping[str, str | None],
    *,
    allow_invalid: bool = False,
    done: Callable[[Entry], bool] | None = None,
) -> Edited:
    """Set or remove top-level fields of one entry, validated, atomically.

    A good entry must stay good. A broken one is refused (fix it first) unless ``allow_invalid``: a
    withdrawal must work even when the file has a mistake elsewhere. ``done`` says the entry already
    has the change, so nothing is written.
    """
    _, context = load_context(root)
    path = find_entry(root, ident)
    refuse_link(path)  # never write through a link (to a file outside entries/, or to another entry)
    display = f"{ENTRIES}/{path.name}"
    data = _read_plain(path)
    read_entry(data, display)
    try:
        before: Entry | None = parse_entry(data, display, context)
    except InputError as err:
        if not allow_invalid:
            hint = Problem(display, 0, "not changed: fix the problems above first (countnight check)")
            raise InputError([*err.problems, hint]) from None
        before = None
    if before is not None and done is not None and done(before):
        return Edited(path, False, before)
    new = set_fields(data, changes, display)
    try:
        after: Entry | None = parse_entry(new, display, context)
        problems: tuple[Problem, ...] = ()
    except InputError as err:
        if before is not None:
            hint = Problem(display, 0, "not changed: the edit would make this entry invalid")
            raise InputError([*err.problems, hint]) from None
        after, problems = None, err.problems
    if new == data:
        return Edited(path, False, after, problems)
    write_entry_file(path, new, expect=data)
    return Edited(path, True, after, problems)


def correction_time(now: datetime, event: Event) -> str:
    """``02:41`` when that resolves back to ``now`` (to the minute) in the coverage window, else full ISO."""
    local = now.astimezone(event.timezone).replace(second=0, microsecond=0)
    clock = f"{local:%H:%M}"
    with contextlib.suppress(ValueError):
        if parse_time(clock, event.window) == local:
            return clock
    return local.isoformat(timespec="minutes")


def correct(
    root: Path, ident: str, note: str, now: datetime, *, at: str | None = None, changes: Mapping[str, str] | None = None
) -> Edited:
    """Mark an entry corrected: ``updated`` (``at``, else now) and the ``correction`` note readers see, with
    ``changes`` to one-line fields made at the same time (``candidates[2].votes``: the mistyped figure)."""
    note = note.strip()
    if not note:
        raise InputError.one("--note", 0, "the note is empty: say what was corrected, for readers")
    try:
        note.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError.one("--note", 0, "the note is not valid text (check the terminal's encoding)") from None
    event, _ = load_context(root)
    when = at.strip() if at else correction_time(now, event)
    return edit_entry(root, ident, {**(changes or {}), "updated": when, "correction": note})


def withdraw(root: Path, ident: str) -> Edited:
    """``status: withdrawn``: gone from readers' pages at the next build, kept in the record."""
    return edit_entry(root, ident, {"status": "withdrawn"}, allow_invalid=True, done=lambda e: e.status == "withdrawn")


def set_flag(root: Path, ident: str, name: str, on: bool) -> Edited:
    """``pinned`` or ``key`` set to true or false (false rather than removed: a comment on the line stays)."""
    if name not in ("pinned", "key", "breaking"):
        raise ValueError(f"not a flag: {name}")
    return edit_entry(root, ident, {name: "true" if on else "false"}, done=lambda e: getattr(e, name) is on)


def shown_versions(journal: Journal, ident: str) -> list[Record]:
    """The versions readers were shown, oldest first: version N of ``history`` is item N-1."""
    return [r for r in journal.versions(ident) if r.op == "shown"]


@dataclass(frozen=True)
class Restored:
    path: Path
    version: int
    record: Record
    changed: bool


def restore(root: Path, text: str, version: int | None = None, *, force: bool = False) -> Restored:
    """Write a version readers were shown (the newest by default) back into entries/, atomically.

    Refuses to replace an existing file unless ``force``, and refuses a version that no longer
    validates (the config or baseline changed since) rather than write a broken entry.
    """
    ident = normalise_id(text)
    journal = Journal.open(root)
    versions = shown_versions(journal, ident)
    if not versions:
        raise unknown(ident, sorted(journal.ever_shown), f"'{ident}' was never shown to readers: no version to restore")
    number = version if version is not None else len(versions)
    if not 1 <= number <= len(versions):
        raise InputError.one("--version", 0, f"{ident} has versions 1 to {len(versions)} (countnight history {ident})")
    record = versions[number - 1]
    data = record.text.encode("utf-8")
    display = f"{ENTRIES}/{ident}.md"
    decode(data, display)
    _, context = load_context(root)
    parse_entry(data, display, context)
    path = root / ENTRIES / f"{ident}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    refuse_link(path)  # a link (even to nothing) is never written through, with or without --force
    exists = os.path.lexists(path)
    if exists and not force:
        raise InputError.one(display, 0, f"exists: add --force to replace it with version {number}")
    if exists and _read_plain(path) == data:
        return Restored(path, number, record, False)
    write_entry_file(path, data, create=not exists)
    return Restored(path, number, record, True)
