"""What was read: each entry file's parse and outcome, the entries the stream considers, and the files
held, skipped or rejected. The build brings it up to date from the files that changed (or, with no list of
them, from the whole folder) and hands the stream the ids whose entry changed.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from .clock import show_time
from .entries import entry_warnings, parse_entry
from .errors import InputError, Problem, describe_os_error
from .figures import MadePicture
from .fragments import Fragment
from .frontmatter import MAX_BYTES, read_entry
from .journal import Journal, Record
from .models import Context, Entry, ResultEntry
from .names import entries_in_folder, entry_id, folder_not_read, is_entry_name, is_picture_name, not_an_entry
from .parallel import PARALLEL_MIN, prepare_many, usable_cpus
from .pictures import PictureWork, Waiting, picture_notes
from .reading import FilePath, open_folder, read_regular, taken_down
from .report import BuildReport
from .rules import Setup
from .seats import SeatNotices
from .shown import Outcome, as_shown
from .uptodate import Signature, of_stat, picture_signature, racy
from .views import EntryView

ENTRIES = "entries"


@dataclass
class Parsed:
    signature: Signature
    digest: str
    text: str
    entry: Entry | None
    error: InputError | None
    # False: the file changed so shortly before its signature was taken that it may change again and keep
    # it (uptodate.racy); its bytes are read and compared at each look until it has been still long enough
    settled: bool = True
    warnings: tuple[Problem, ...] | None = None  # entries.entry_warnings, worked out when first asked for


class ReadState:
    """What the last build found in ``entries/``, kept so the next can start from it and look only at what
    changed."""

    def __init__(self, root: Path, *, long_lived: bool = False) -> None:
        self.root = root
        self.long_lived = long_lived  # a watcher keeps fragments compressed (see fragments.keep)
        self.parsed: dict[str, Parsed] = {}  # entry file → what was read from it, while its signature holds
        self.last_goods: dict[str, tuple[str, Entry | None]] = {}  # id → (journal hash, that version parsed)
        self.shown_as_was: dict[str, tuple[str, Entry | None]] = {}  # the same, read under the rules it was shown
        self.rendered: dict[str, tuple[Entry, EntryView, Fragment]] = {}  # id → what a cold build's workers made
        self.outcomes: dict[str, Outcome] = {}  # entry file → its outcome (files present, or held)
        self.entries: dict[str, Entry] = {}  # id → the entry the stream considers
        self.bad: set[str] = set()  # entry files with problems
        self.unread: set[str] = set()  # entry files skipped with a warning (looked at again each build)
        self.missing: dict[str, float] = {}  # entry file → time.monotonic() when it was first found gone
        self.taken_down: dict[str, str] = {}  # id → 'withdrawn'/'draft' said by a file that fails validation
        self.seen_ns = 0  # time.time_ns() before this build took any signature (see uptodate.racy)
        self.warned: dict[str, tuple[Problem, ...]] = {}  # entry file → what its valid entry is warned of
        self.seat_notices = SeatNotices()  # the results the stream considers, by seat, and seats declared twice
        self.ignored: dict[str, str] = {}  # a file or folder in entries/ that looks meant as an entry → what to do
        # Pictures: made by worker processes. A one-off build waits for them; a watcher (watch.py) sets
        # ``blocking`` off and is told when each is made.
        self.pictures = PictureWork(root, blocking=True)
        self.figures: dict[str, tuple[MadePicture, ...]] = {}  # id → its pictures as made for the entry shown
        self.waiting: set[str] = set()  # entry files whose pictures are being made: shown once they are
        self.refigured: set[str] = set()  # ids whose pictures were made anew by the last scan (same text)
        self.picture_files: dict[str, Signature | None] = {}  # picture file in entries/ → its signature (None: unread)
        # Called when a cold build has chosen to read on every core, before its workers are forked (site.py forks
        # the process that draws share cards ahead there, while this one is small), and once they have all read
        # (site.py hands that process its cards there: it draws them while this one goes through the files alone)
        self.before_workers: Callable[[], object] | None = None
        self.after_workers: Callable[[], object] | None = None

    def clear(self) -> None:
        """Forget everything read: the night's rules changed, so every entry is read anew."""
        kept_maps = (self.parsed, self.rendered, self.last_goods, self.shown_as_was, self.outcomes, self.entries)
        for kept in (*kept_maps, self.taken_down, self.warned):
            kept.clear()
        self.bad.clear()
        self.seat_notices.clear()

    def unsettled(self) -> list[tuple[str, str]]:
        """(entry file, sha256 as read) of each file whose signature proves nothing yet (see Parsed.settled)."""
        return [(display, p.digest) for display, p in sorted(self.parsed.items()) if not p.settled]

    def signatures(self) -> list[tuple[str, int, int, int, int]] | None:
        """(file name, *Signature) of every entry file the build used, as it read them; None when it cannot
        vouch for them: files held, skipped or rejected."""
        if self.missing or self.unread or self.bad or self.waiting:
            return None
        entries = []
        for display in sorted(self.outcomes):
            parsed = self.parsed.get(display)
            if parsed is None:
                return None
            entries.append((display.rpartition("/")[2], *parsed.signature))
        for name, seen in self.picture_files.items():  # every picture in entries/, named by an entry or not
            if seen is None or racy(seen, self.seen_ns):
                return None
            entries.append((name, *seen))
        return sorted(entries)

    def scan(
        self,
        context: Context,
        journal: Journal,
        report: BuildReport,
        grace: float = 0.0,
        setup: Setup | None = None,
        only: Collection[str] | None = None,
        now: datetime | None = None,
    ) -> set[str]:
        """Bring each entry file's outcome up to date; the ids whose entry changed.

        ``only``: look at just these files (and those held or unreadable last time); None: list the folder.
        ``now``: the build's time (None: no journal to keep versions from, as in ``check``).
        """
        candidates: dict[str, os.DirEntry[str] | FilePath | None]
        if only is None:
            try:
                items = sorted(os.scandir(self.root / ENTRIES), key=lambda d: d.name)
            except FileNotFoundError:
                report.warnings.append(f"{ENTRIES}/: not found; no entries yet")
                items = []
            except OSError as err:  # a file in its place, no permission: publishing nothing would take all down
                why = describe_os_error(err, self.root / ENTRIES)
                raise InputError.one(f"{ENTRIES}/", 0, f"cannot be listed: {why}; the last good site stays") from None
            prepared = self.prepare_in_parallel(items, context, setup) if setup is not None else set()
            candidates = {}
            self.ignored = {}
            self.picture_files = {}
            for item in items:
                if is_entry_name(item.name):
                    candidates[f"{ENTRIES}/{item.name}"] = item
                elif is_picture_name(item.name):
                    self.picture_files[item.name] = picture_signature(item.path)
                else:
                    with contextlib.suppress(OSError):  # the listing's own file type: no stat for a picture
                        self.look_at_non_entry(item.name, item.is_dir(follow_symlinks=False))
            names = sorted(candidates.keys() | self.outcomes.keys() | self.missing.keys())
        else:
            wanted = {d for d in only if is_entry_name(d.rpartition("/")[2])} | self.missing.keys() | self.unread
            wanted |= self.pictures.forget(d.rpartition("/")[2] for d in only if is_picture_name(d.rpartition("/")[2]))
            for display in only:
                name = display.rpartition("/")[2]
                if is_picture_name(name):  # a picture: the entries that name it are looked at again
                    self.picture_files[name] = picture_signature(str(self.root / ENTRIES / name))
                    if not os.path.lexists(self.root / ENTRIES / name):
                        del self.picture_files[name]
                    continue
                if not is_entry_name(name):
                    self.ignored.pop(f"{ENTRIES}/{name}", None)
                    path = self.root / ENTRIES / name
                    with contextlib.suppress(OSError):
                        if path.exists():
                            self.look_at_non_entry(name, path.is_dir() and not path.is_symlink())
            candidates = {d: FilePath.at(self.root / d) for d in wanted}
            names = sorted(wanted)
            prepared = set()
        self.unread = set()
        self.refigured = set()
        if self.pictures.blocking:
            self.make_pictures_first(names, candidates, prepared, context)
        touched: set[str] = set()
        clock = time.monotonic()
        for display in names:
            ident = entry_id(display)
            item = candidates.get(display)
            if display in prepared:  # read just now by _prepare_in_parallel (its signature taken then)
                parsed: Parsed | None = self.parsed[display]
            else:
                parsed = self.read_one(item, display, context, report) if item is not None else None
            if parsed is not None:
                self.missing.pop(display, None)
                outcome: Outcome | None = self.outcome_of(parsed, ident, journal, context, now)
                if outcome.redated:
                    report.warnings.append(
                        f"{display}: under the rules now in force its time is {outcome.redated}, not yet come; "
                        "readers keep the version they were shown until then"
                    )
            else:
                if item is not None:
                    self.unread.add(display)  # skipped with a warning: look again next time
                outcome = self.held(display, ident, journal, context, report, grace, clock)
            if parsed is not None and parsed.entry is not None:
                if parsed.warnings is None:
                    parsed.warnings = entry_warnings(parsed.entry, parsed.text, display)
                said = parsed.warnings
                if outcome is not None and outcome.entry is parsed.entry and outcome.made:  # how its pictures were read
                    said += picture_notes(parsed.entry, outcome.made, display, parsed.text)
                if said:
                    self.warned[display] = said
                else:
                    self.warned.pop(display, None)
            elif item is not None or outcome is None:  # held files keep theirs through the grace period
                self.warned.pop(display, None)
            before = self.outcomes.get(display)
            if outcome is None:
                self.outcomes.pop(display, None)
                self.bad.discard(display)
                self.parsed.pop(display, None)
            else:
                self.outcomes[display] = outcome
                if outcome.problems:
                    self.bad.add(display)
                else:
                    self.bad.discard(display)
            old_entry = before.entry if before is not None else None
            new_entry = outcome.entry if outcome is not None else None
            old_taken = before.taken if before is not None else None
            new_taken = outcome.taken if outcome is not None else None
            old_made = before.made if before is not None else ()
            new_made = outcome.made if outcome is not None else ()
            if old_entry is not new_entry or old_taken != new_taken or old_made != new_made:
                touched.add(ident)
                if isinstance(old_entry, ResultEntry) or isinstance(new_entry, ResultEntry):
                    self.seat_notices.change(ident, new_entry)  # a result came, went or changed: its seat's notices
                if new_entry is None:
                    self.entries.pop(ident, None)
                else:
                    self.entries[ident] = new_entry
                if old_made and new_made and old_made != new_made:
                    self.refigured.add(ident)  # a picture replaced under its name: open pages must be told
                if new_made:
                    self.figures[ident] = new_made
                elif new_entry is None or not new_entry.image:
                    self.figures.pop(ident, None)
                if new_taken is None:
                    self.taken_down.pop(ident, None)
                else:
                    self.taken_down[ident] = new_taken
        for display in sorted(self.bad):
            report.problems.extend(self.outcomes[display].problems)
        report.notices.extend(str(notice) for display in sorted(self.warned) for notice in self.warned[display])
        report.notices.extend(str(Problem(display, 0, why)) for display, why in sorted(self.ignored.items()))
        report.notices.extend(self.seat_notices.said(self.constituency_line))
        return touched

    def look_at_non_entry(self, name: str, folder: bool) -> None:
        """Note a file in entries/ that is not an entry but looks meant as one (``X.MD``, ``x.md.txt``), or a folder
        in it holding such files: said once (the console says a notice when it first appears), never published."""
        if folder:
            path = self.root / ENTRIES / name
            count = 0 if name.startswith((".", "_")) else entries_in_folder(str(path))
            if count:
                self.ignored[f"{ENTRIES}/{name}/"] = folder_not_read(count)
        elif (why := not_an_entry(name)) is not None:
            self.ignored[f"{ENTRIES}/{name}"] = why

    def constituency_line(self, entry: Entry) -> int:
        """The line of ``constituency`` in the file ``entry`` was read from (0 for a last good version)."""
        parsed = self.parsed.get(f"{ENTRIES}/{entry.id}.md")
        if parsed is None or parsed.entry is not entry:
            return 0
        try:
            return read_entry(parsed.text.encode(), f"{ENTRIES}/{entry.id}.md").line_of(("constituency",))
        except InputError:  # pragma: no cover - the entry was read from this very text
            return 0

    def make_pictures_first(
        self,
        names: list[str],
        candidates: dict[str, os.DirEntry[str] | FilePath | None],
        prepared: set[str],
        context: Context,
    ) -> None:
        """A one-off build (or ``check``): every picture the entries name is made, on every worker at once,
        before the entries are looked at, so the site it writes shows each entry with its pictures."""
        scratch = BuildReport()  # what reading says is said again by the scan itself
        for display in names:
            item = candidates.get(display)
            parsed = self.parsed.get(display) if display in prepared else None
            if parsed is None and item is not None:
                parsed = self.read_one(item, display, context, scratch)
            if parsed is not None and parsed.entry is not None and parsed.entry.image:
                self.pictures.figures_for(parsed.entry, display, parsed.text)
        self.pictures.wait()
        self.pictures.close()  # its workers are not kept waiting between one-off builds (started again if asked)

    def outcome_of(
        self, parsed: Parsed, ident: str, journal: Journal, context: Context, now: datetime | None = None
    ) -> Outcome:
        display = f"{ENTRIES}/{ident}.md"
        self.waiting.discard(display)
        if parsed.entry is not None and parsed.entry.image:
            made = self.pictures.figures_for(parsed.entry, display, parsed.text)
            if isinstance(made, list):  # a picture is missing or refused: the entry's problem, as a field's
                taken = taken_down(parsed.text.encode(), display)
                if taken:
                    return Outcome(None, tuple(made), taken)
                return Outcome(self.last_good(journal, ident, context), tuple(made), made=self.shown_with(ident))
            if isinstance(made, Waiting):  # shown once its pictures are made: readers keep what they see till then
                self.waiting.add(display)
                return Outcome(self.last_good(journal, ident, context), made=self.shown_with(ident))
            self.pictures.remember(ident, made)
            return replace(self._outcome_of(parsed, ident, journal, context, now), made=made)
        return self._outcome_of(parsed, ident, journal, context, now)

    def shown_with(self, ident: str) -> tuple[MadePicture, ...]:
        """The pictures readers see with the entry (this process's, else those kept in .countnight/)."""
        return self.figures.get(ident) or self.pictures.shown(ident)

    def _outcome_of(
        self, parsed: Parsed, ident: str, journal: Journal, context: Context, now: datetime | None = None
    ) -> Outcome:
        if parsed.entry is not None:
            entry = parsed.entry
            if now is not None and entry.status == "published" and not entry.live_at(now):
                # The very text readers were shown, re-dated by a change of config (the window moved) to a time
                # not yet come: it would leave the page. Readers keep the version they saw until that time.
                record = journal.current.get(ident)
                if record is not None and record.hash == parsed.digest:
                    shown = self.as_shown(record, ident, context)
                    if shown is not None and shown.live_at(now):
                        return Outcome(shown, redated=show_time(entry.time, context.window.zone))
            return Outcome(entry)
        assert parsed.error is not None
        problems = tuple(parsed.error.problems)
        taken = taken_down(parsed.text.encode(), f"{ENTRIES}/{ident}.md")
        if taken:  # a withdrawal never waits for a mistake elsewhere in the file to be fixed
            return Outcome(None, problems, taken)
        return Outcome(self.last_good(journal, ident, context), problems)

    def held(
        self,
        display: str,
        ident: str,
        journal: Journal,
        context: Context,
        report: BuildReport,
        grace: float,
        clock: float,
    ) -> Outcome | None:
        """A file gone since the last build: kept from its last good version through the grace period."""
        if display not in self.outcomes and display not in self.missing:
            return None  # never seen: nothing to hold
        since = self.missing.setdefault(display, clock)
        if clock - since >= grace:
            del self.missing[display]
            return None
        cached = self.parsed.get(display)  # gone, but maybe only between an editor's rename and rewrite
        held = cached.entry if cached is not None and cached.entry is not None else None
        held = held or self.last_good(journal, ident, context)
        report.held.append(ident)
        until = since + grace
        report.hold_until = until if report.hold_until is None else min(report.hold_until, until)
        return Outcome(held)

    def prepare_in_parallel(self, items: list[os.DirEntry[str]], context: Context, setup: Setup) -> set[str]:
        """A cold build's many new files, read, validated and rendered on every core (see parallel.py); the
        entry files done so (``_read_one`` would only look them up again: their signatures were taken then, by
        this listing's stat or, in a first build, by the worker as it opened the file).

        Only plain regular files go to the workers; links, FIFOs and the oversized take the careful
        one-by-one path below, which also reports them.
        """
        done_here: set[str] = set()
        workers = usable_cpus()
        if workers < 2 or len(items) - len(self.parsed) < PARALLEL_MIN:
            return done_here  # not a cold build: the few changed files are cheaper one by one
        todo: list[tuple[str, str, Signature | None]] = []
        first = not self.parsed  # nothing read before: no signature to compare, so none is taken here
        folder = open_folder(self.root / ENTRIES)  # each file read by its name in it (reading.read_regular_stat)
        for item in items:
            if not is_entry_name(item.name) or item.is_symlink():
                continue
            if first:  # the worker takes the file's signature as it opens it (10,000 stats here were ~40 ms)
                if item.is_file(follow_symlinks=False):  # the listing's file type: no stat
                    todo.append((f"{ENTRIES}/{item.name}", item.path if folder is None else item.name, None))
                continue
            try:
                info = item.stat(follow_symlinks=False)
            except OSError:
                continue
            if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_BYTES:
                continue
            display = f"{ENTRIES}/{item.name}"
            signature = of_stat(info)
            cached = self.parsed.get(display)
            if cached is None or cached.signature != signature or not cached.settled:
                todo.append((display, item.path if folder is None else item.name, signature))
        try:
            if len(todo) < PARALLEL_MIN:
                return done_here
            if self.before_workers is not None:
                self.before_workers()
            zone, packed = setup.event.timezone, self.long_lived
            for done in prepare_many(setup.theme, context, zone, todo, workers, packed=packed, folder=folder):
                if done is None:  # unreadable now: the one-by-one path retries and reports it
                    continue
                settled = not racy(done.signature, self.seen_ns)
                parsed = Parsed(done.signature, done.digest, done.text, done.entry, done.error, settled)
                self.parsed[done.display] = parsed
                done_here.add(done.display)
                if done.entry is not None and done.view is not None and done.html is not None:
                    self.rendered[done.entry.id] = (done.entry, done.view, done.html)
        finally:
            if folder is not None:
                os.close(folder)
        if self.after_workers is not None:
            self.after_workers()
        return done_here

    def read_one(
        self, item: os.DirEntry[str] | FilePath, display: str, context: Context, report: BuildReport
    ) -> Parsed | None:
        try:
            info = item.stat(follow_symlinks=True)
        except OSError as err:
            report.warnings.append(f"{display}: skipped ({err.strerror})")
            return None
        if not stat.S_ISREG(info.st_mode):
            report.warnings.append(f"{display}: skipped (not a regular file)")
            return None
        if item.is_symlink():
            target = Path(os.path.realpath(item.path))
            if not target.is_relative_to(Path(os.path.realpath(self.root / ENTRIES))):
                report.warnings.append(f"{display}: skipped (a link to a file outside {ENTRIES}/)")
                return None
        signature = of_stat(info)
        cached = self.parsed.get(display)
        if cached is not None and cached.signature == signature and cached.settled:
            return cached
        settled = not racy(signature, self.seen_ns)
        if info.st_size > MAX_BYTES:
            error = InputError.one(display, 0, f"file is {info.st_size:,} bytes; an entry must be under 1 MiB")
            parsed = Parsed(signature, "", "", None, error, settled)
            self.parsed[display] = parsed
            return parsed
        try:
            data = read_regular(item.path)
        except OSError as err:
            report.warnings.append(f"{display}: could not be read ({err.strerror}); will retry")
            return None
        if data is None:  # swapped for a FIFO or device between the stat and the open
            report.warnings.append(f"{display}: skipped (not a regular file)")
            return None
        digest = hashlib.sha256(data).hexdigest()
        if cached is not None and cached.digest == digest:
            cached.signature, cached.settled = signature, settled
            return cached
        try:
            entry, error = parse_entry(data, display, context), None
        except InputError as err:
            entry, error = None, err
        text = data.decode("utf-8", errors="replace")
        parsed = Parsed(signature, digest, text, entry, error, settled)
        self.parsed[display] = parsed
        return parsed

    def last_good(self, journal: Journal, ident: str, context: Context) -> Entry | None:
        """The version readers were last shown, from the journal (parsed once per version)."""
        record = journal.current.get(ident)
        if record is None:
            return None
        cached = self.last_goods.get(ident)
        if cached is not None and cached[0] == record.hash:
            return cached[1]
        try:
            shown = replace(context, shown=True)  # rules added since it went out do not take it down
            entry: Entry | None = parse_entry(record.text.encode(), record.path or f"{ENTRIES}/{ident}.md", shown)
        except InputError:
            entry = as_shown(record, record.path or f"{ENTRIES}/{ident}.md", context)
        self.last_goods[ident] = (record.hash, entry)
        return entry

    def as_shown(self, record: Record, ident: str, context: Context) -> Entry | None:
        """``as_shown`` of the version readers see, kept (parsed once per version)."""
        cached = self.shown_as_was.get(ident)
        if cached is not None and cached[0] == record.hash:
            return cached[1]
        entry = as_shown(record, record.path or f"{ENTRIES}/{ident}.md", context)
        self.shown_as_was[ident] = (record.hash, entry)
        return entry

    def source(self, entry: Entry) -> str:
        """The digest of the text ``entry`` was read from: its file's, or the journal's for a last good version."""
        parsed = self.parsed.get(f"{ENTRIES}/{entry.id}.md")
        if parsed is not None and parsed.entry is entry:
            return parsed.digest
        last = self.last_goods.get(entry.id)
        return last[0] if last is not None and last[1] is entry else ""
