"""The build: discover → parse → validate → compute → render → write. ``countnight build`` runs it
once; watch mode runs the same ``Site.build`` again on every change, reusing what did not change.
"""

from __future__ import annotations

import bisect
import contextlib
import errno
import gc
import hashlib
import os
import stat
import time
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import jinja2

from .baseline import Baseline, load_baseline
from .config import CONFIG_NAME, Event, load_config
from .elections import Scoreboard, tally
from .entries import parse_entry
from .errors import InputError, Problem
from .fragments import Fragment, Fragments, view_and_fragment
from .frontmatter import MAX_BYTES
from .journal import JOURNAL, STATE_DIR, Journal, Record, encode_records, stamp
from .models import Context, Entry, ResultEntry, SummaryEntry
from .names import entry_id, is_entry_name
from .pages import Night, PageCache, render_changes
from .parallel import PARALLEL_MIN, prepare_many, usable_cpus
from .publish import PublishError, clean_temp_files, publish
from .reading import FilePath, read_regular, taken_down
from .render import Theme, load_theme
from .report import BuildReport
from .uptodate import Inputs, disk_outputs, signature, theme_signatures
from .views import EntryView

ENTRIES = "entries"


@dataclass
class _Parsed:
    signature: tuple[int, int, int]
    digest: str
    text: str
    entry: Entry | None
    error: InputError | None


@dataclass(frozen=True)
class _Outcome:
    """What one entry file gives the stream: its entry (or, when it fails validation, the version readers
    were last shown), its problems, and a withdrawal it says it is even though it fails."""

    entry: Entry | None
    problems: tuple[Problem, ...] = ()
    taken: str | None = None


@dataclass
class _JournalBatch:
    """A build's lines for the journal (records, encoded), and what the report says of them."""

    records: list[Record] = field(default_factory=list)
    payload: bytes = b""
    published: list[EntryView] = field(default_factory=list)
    revised: set[str] = field(default_factory=set)
    removed: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class _Setup:
    event: Event
    baseline: Baseline | None
    theme: Theme
    key: str  # changes when anything that affects every entry changes


@contextlib.contextmanager
def _collector_paused(paused: bool) -> Iterator[None]:
    """A one-off build's objects (entries, views, fragments) live until it exits, and the cyclic collector
    walked them again and again as they piled up, to find next to nothing: four full passes, ~0.35 s of
    the build's own process at 10,000 entries. Its builds make few cycles, and reference counting frees
    everything else, so a one-off build runs without it (its peak memory is unchanged). The watcher,
    which runs all night, keeps it."""
    if not paused or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class Site:
    """A blog folder and its output, with what the last build learnt (parsed files, fragments)."""

    def __init__(self, root: Path, out: Path | None = None, *, long_lived: bool = False) -> None:
        self.root = root
        self.out = out if out is not None else root / "site"
        # A watcher stays up all night, so it keeps its memory down: it makes its pages in its own process (a
        # forked worker copies much of the build's memory) and keeps fragments compressed. A one-off build
        # makes and writes its pages on every core (publish.py) and keeps fragments as text.
        self.long_lived = long_lived
        self._parsed: dict[str, _Parsed] = {}
        # id → (the entry, its view, its <article>): reused while the parsed entry is the same object
        self._views: dict[str, tuple[Entry, EntryView, Fragment]] = {}  # the <article>: see keep()
        self._page_cache = PageCache()
        self._recent_fragments: dict[str, tuple[bytes, str]] = {}  # see fragments.Fragments
        self._pages_stale = False  # a build failed after rendering: the next one looks at every page
        self._baseline: tuple[tuple[str, str], Baseline] | None = None  # ((name, sha256), parsed)
        self._order_keys: dict[str, tuple[Entry, tuple[float, str]]] = {}  # id → (entry, its sort key)
        self._rendered: dict[str, tuple[Entry, EntryView, Fragment]] = {}  # id → what the workers made of it
        self._last_goods: dict[str, tuple[str, Entry | None]] = {}  # id → (journal hash, that version parsed)
        self._journal: tuple[tuple[int, int, int], Journal] | None = None  # (file signature, journal)
        self._setup_key = ""
        # (config, (baseline name, its signature) or None), stat-ed before they were read
        self._input_signatures: tuple[tuple[int, int, int], tuple[str, tuple[int, int, int]] | None] | None = None
        self._theme: tuple[tuple[tuple[str, int, int, int], ...], Theme] | None = None  # (file signatures, theme)
        self._written: dict[str, str] | None = None  # path → digest of what this process published
        self._cleaned = False
        # What the last build found, kept so the next can start from it and look only at what changed:
        self._outcomes: dict[str, _Outcome] = {}  # entry file → its outcome (files present, or held)
        self._entries: dict[str, Entry] = {}  # id → the entry the stream considers
        self._bad: set[str] = set()  # entry files with problems
        self._unread: set[str] = set()  # entry files skipped with a warning (looked at again each build)
        self._missing: dict[str, float] = {}  # entry file → time.monotonic() when it was first found gone
        self._taken_down: dict[str, str] = {}  # id → 'withdrawn'/'draft' said by a file that fails validation
        self._stream: list[EntryView] = []  # the shown entries, oldest first
        self._live: dict[str, EntryView] = {}  # id → its view in the stream
        self._scheduled: dict[str, Entry] = {}  # published, their time not yet come
        self._summaries: set[str] = set()  # ids of summaries in the stream
        self._keyed: set[str] = set()  # ids of key events in the stream
        self._pinned: set[str] = set()  # ids of pinned entries in the stream
        self._removed: dict[str, str] = {}  # id → why readers no longer see it
        self._stream_at: datetime | None = None  # the `now` of the last stream update; None: start afresh
        self._results: list[EntryView] | None = None
        self._results_dirty = False  # a result came into or left the stream since the results were worked out
        self._board: Scoreboard | None = None
        self._unrecorded: set[str] = set()  # shown ids the journal may not hold yet

    def build(
        self, now: datetime | None = None, *, grace: float = 0.0, changed: Collection[str] | None = None
    ) -> BuildReport:
        """Build the site once. Input problems are reported, never raised; the last good site stays.

        ``grace`` (watch mode): an entry file that a previous build saw and that is now gone stays on the
        page from its last good version until it has been gone this many seconds, so an editor's
        delete-and-rewrite save (vim renames the file away, then writes it anew) never takes it down.

        ``changed`` (watch mode): the entry files (``entries/NAME.md``) that file events say changed since
        the previous build. Only those are looked at again; None looks at every file (``countnight build``,
        the watcher's first build and its periodic rescan). Either way the same steps run, on what changed.
        """
        with _collector_paused(not self.long_lived):
            return self._build(now, grace, changed)

    def _build(self, now: datetime | None, grace: float, changed: Collection[str] | None) -> BuildReport:
        started = time.perf_counter()
        now = now or datetime.now(UTC)
        report = BuildReport()
        try:
            setup = self._setup()
        except InputError as err:
            report.problems.extend(err.problems)
            return self._done(report, started)
        except jinja2.TemplateError as err:
            report.problems.append(_template_problem(err))
            return self._done(report, started)
        journal = self._open_journal(report)
        if self._stream_at is None or now < self._stream_at:
            changed = None  # a first build, new rules, a journal someone else wrote, or the clock went back
        context = Context(setup.event.window, setup.baseline)
        touched = self._scan(context, journal, report, grace, setup, changed)
        try:
            views_changed = self._update_stream(setup, journal, touched, now, report, reset=changed is None)
            night = self._night(setup, now, views_changed)
            output = render_changes(setup.theme, night, work := self._page_cache.working_copy())
        except jinja2.TemplateError as err:
            report.problems.append(_template_problem(err))
            self._pages_stale = True
            return self._done(report, started)
        if not self._cleaned:
            clean_temp_files(self.out)
            self._cleaned = True
        made: list[_JournalBatch] = []  # the journal's next lines: publish makes them, once, while the disk syncs
        try:
            written = publish(
                self.out,
                output.fresh,
                output.paths,
                known=self._written,
                workers=not self.long_lived,
                while_syncing=lambda tree: made.append(self._while_syncing(journal, now, report, tree)),
            )
        except jinja2.TemplateError as err:  # a page made while it was written; nothing was renamed into place
            report.problems.append(_template_problem(err))
            self._pages_stale = True
            return self._done(report, started)
        except PublishError as err:
            self._written = None  # we no longer know what is on disk: the next build makes every page
            self._page_cache.clear()
            self._pages_stale = True
            report.warnings.append(str(err))
            return self._done(report, started)
        self._page_cache.commit(work)
        event = setup.event
        ends = event.coverage_end if event.coverage_end and not event.ended(now) else None
        report.valid_until = min((t for t in (report.next_due, ends) if t is not None), default=None)
        self._written = written.digests
        self._pages_stale = False
        report.written = written.written
        report.built = True
        try:
            self._record(journal, report, made[0])
        except OSError as err:  # the site is out but its record is not (a full disk): say so; the next build records it
            what = "the disk is full" if err.errno == errno.ENOSPC else err.strerror or str(err)
            report.warnings.append(f"{journal.path}: could not record what readers now see ({what}); will retry")
        self._journal = (signature(journal.path), journal)
        return self._done(report, started)

    def _open_journal(self, report: BuildReport) -> Journal:
        """The journal, read from disk only when someone else has written to it since our last look."""
        path = self.root / STATE_DIR / JOURNAL
        seen = signature(path)
        if self._journal is None or self._journal[0] != seen:
            journal = Journal.open(self.root)
            report.warnings.extend(journal.warnings)
            self._journal = (seen, journal)
            self._stream_at = None  # written by someone else: what was withdrawn is worked out afresh
        return self._journal[1]

    def check(self) -> list[Problem]:
        """Validate the config, baseline, theme and every entry without writing anything."""
        report = BuildReport()
        try:
            setup = self._setup()
        except InputError as err:
            return sorted(err.problems)
        except jinja2.TemplateError as err:
            return [_template_problem(err)]
        self._scan(Context(setup.event.window, setup.baseline), Journal(self.root), report)
        return sorted(report.problems)

    # -- steps ---------------------------------------------------------------------------------

    def _setup(self) -> _Setup:
        config_signature = signature(self.root / CONFIG_NAME)  # taken before reading: see uptodate.py
        event = load_config(self.root)
        digest = hashlib.sha256((self.root / CONFIG_NAME).read_bytes())
        baseline = None
        self._input_signatures = (config_signature, None)
        if event.baseline:
            path = self.root / event.baseline
            self._input_signatures = (config_signature, (event.baseline, signature(path)))  # also before reading
            try:
                data = path.read_bytes()
            except OSError as err:
                raise InputError.one(event.baseline, 0, f"baseline file: {err.strerror}") from None
            digest.update(data)
            key = (event.baseline, hashlib.sha256(data).hexdigest())
            if self._baseline is None or self._baseline[0] != key:  # read again only when its bytes change
                self._baseline = (key, load_baseline(path, event.baseline))
            baseline = self._baseline[1]
        theme = self._load_theme()
        digest.update(theme.fingerprint.encode())
        key = digest.hexdigest()
        if key != self._setup_key:  # the night's rules changed: every entry is read anew
            self._parsed.clear()
            self._views.clear()
            self._rendered.clear()
            self._page_cache.clear()
            self._last_goods.clear()
            self._outcomes.clear()
            self._entries.clear()
            self._bad.clear()
            self._taken_down.clear()
            self._stream_at = None
            self._setup_key = key
        return _Setup(event, baseline, theme, key)

    def _load_theme(self) -> Theme:
        """The theme, compiled again only when a template file changed.

        Compiling every template is most of the time a small build takes: in watch mode, a change to
        one entry must not pay for it. A broken template raises here on every build until fixed.
        """
        signatures = theme_signatures(self.root)  # a file gone since it was listed: the next build sees it
        if self._theme is None or list(self._theme[0]) != signatures:
            self._theme = (tuple(signatures), load_theme(self.root))
        return self._theme[1]

    def _scan(
        self,
        context: Context,
        journal: Journal,
        report: BuildReport,
        grace: float = 0.0,
        setup: _Setup | None = None,
        only: Collection[str] | None = None,
    ) -> set[str]:
        """Bring each entry file's outcome up to date; the ids whose entry changed.

        ``only``: look at just these files (and those held or unreadable last time); None: list the folder.
        """
        candidates: dict[str, os.DirEntry[str] | FilePath | None]
        if only is None:
            try:
                items = sorted(os.scandir(self.root / ENTRIES), key=lambda d: d.name)
            except FileNotFoundError:
                report.warnings.append(f"{ENTRIES}/: not found; no entries yet")
                items = []
            prepared = self._prepare_in_parallel(items, context, setup) if setup is not None else set()
            candidates = {f"{ENTRIES}/{i.name}": i for i in items if is_entry_name(i.name)}
            names = sorted(candidates.keys() | self._outcomes.keys() | self._missing.keys())
        else:
            wanted = {d for d in only if is_entry_name(d.rpartition("/")[2])} | self._missing.keys() | self._unread
            candidates = {d: FilePath.at(self.root / d) for d in wanted}
            names = sorted(wanted)
            prepared = set()
        self._unread = set()
        touched: set[str] = set()
        clock = time.monotonic()
        for display in names:
            ident = entry_id(display)
            item = candidates.get(display)
            if display in prepared:  # read just now by _prepare_in_parallel (its signature taken then)
                parsed: _Parsed | None = self._parsed[display]
            else:
                parsed = self._read_one(item, display, context, report) if item is not None else None
            if parsed is not None:
                self._missing.pop(display, None)
                outcome: _Outcome | None = self._outcome_of(parsed, ident, journal, context)
            else:
                if item is not None:
                    self._unread.add(display)  # skipped with a warning: look again next time
                outcome = self._held(display, ident, journal, context, report, grace, clock)
            before = self._outcomes.get(display)
            if outcome is None:
                self._outcomes.pop(display, None)
                self._bad.discard(display)
                self._parsed.pop(display, None)
            else:
                self._outcomes[display] = outcome
                if outcome.problems:
                    self._bad.add(display)
                else:
                    self._bad.discard(display)
            old_entry = before.entry if before is not None else None
            new_entry = outcome.entry if outcome is not None else None
            old_taken = before.taken if before is not None else None
            new_taken = outcome.taken if outcome is not None else None
            if old_entry is not new_entry or old_taken != new_taken:
                touched.add(ident)
                if new_entry is None:
                    self._entries.pop(ident, None)
                else:
                    self._entries[ident] = new_entry
                if new_taken is None:
                    self._taken_down.pop(ident, None)
                else:
                    self._taken_down[ident] = new_taken
        for display in sorted(self._bad):
            report.problems.extend(self._outcomes[display].problems)
        return touched

    def _outcome_of(self, parsed: _Parsed, ident: str, journal: Journal, context: Context) -> _Outcome:
        if parsed.entry is not None:
            return _Outcome(parsed.entry)
        assert parsed.error is not None
        problems = tuple(parsed.error.problems)
        taken = taken_down(parsed.text.encode(), f"{ENTRIES}/{ident}.md")
        if taken:  # a withdrawal never waits for a mistake elsewhere in the file to be fixed
            return _Outcome(None, problems, taken)
        return _Outcome(self._last_good(journal, ident, context), problems)

    def _held(
        self,
        display: str,
        ident: str,
        journal: Journal,
        context: Context,
        report: BuildReport,
        grace: float,
        clock: float,
    ) -> _Outcome | None:
        """A file gone since the last build: kept from its last good version through the grace period."""
        if display not in self._outcomes and display not in self._missing:
            return None  # never seen: nothing to hold
        since = self._missing.setdefault(display, clock)
        if clock - since >= grace:
            del self._missing[display]
            return None
        cached = self._parsed.get(display)  # gone, but maybe only between an editor's rename and rewrite
        held = cached.entry if cached is not None and cached.entry is not None else None
        held = held or self._last_good(journal, ident, context)
        report.held.append(ident)
        until = since + grace
        report.hold_until = until if report.hold_until is None else min(report.hold_until, until)
        return _Outcome(held)

    def _prepare_in_parallel(self, items: list[os.DirEntry[str]], context: Context, setup: _Setup) -> set[str]:
        """A cold build's many new files, read, validated and rendered on every core (see parallel.py); the
        entry files done so (``_read_one`` would only look them up again: their signatures were taken then, by
        this listing's stat or, in a first build, by the worker as it opened the file).

        Only plain regular files go to the workers; links, FIFOs and the oversized take the careful
        one-by-one path below, which also reports them.
        """
        done_here: set[str] = set()
        workers = usable_cpus()
        if workers < 2 or len(items) - len(self._parsed) < PARALLEL_MIN:
            return done_here  # not a cold build: the few changed files are cheaper one by one
        todo: list[tuple[str, str, tuple[int, int, int] | None]] = []
        first = not self._parsed  # nothing read before: no signature to compare, so none is taken here
        for item in items:
            if not is_entry_name(item.name) or item.is_symlink():
                continue
            if first:  # the worker takes the file's signature as it opens it (10,000 stats here were ~40 ms)
                if item.is_file(follow_symlinks=False):  # the listing's file type: no stat
                    todo.append((f"{ENTRIES}/{item.name}", item.path, None))
                continue
            try:
                info = item.stat(follow_symlinks=False)
            except OSError:
                continue
            if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_BYTES:
                continue
            display = f"{ENTRIES}/{item.name}"
            signature = (info.st_mtime_ns, info.st_size, info.st_ino)
            cached = self._parsed.get(display)
            if cached is None or cached.signature != signature:
                todo.append((display, item.path, signature))
        if len(todo) < PARALLEL_MIN:
            return done_here
        for done in prepare_many(setup.theme, context, setup.event.timezone, todo, workers, packed=self.long_lived):
            if done is None:  # unreadable now: the one-by-one path retries and reports it
                continue
            self._parsed[done.display] = _Parsed(done.signature, done.digest, done.text, done.entry, done.error)
            done_here.add(done.display)
            if done.entry is not None and done.view is not None and done.html is not None:
                self._rendered[done.entry.id] = (done.entry, done.view, done.html)
        return done_here

    def _read_one(
        self, item: os.DirEntry[str] | FilePath, display: str, context: Context, report: BuildReport
    ) -> _Parsed | None:
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
        signature = (info.st_mtime_ns, info.st_size, info.st_ino)
        cached = self._parsed.get(display)
        if cached is not None and cached.signature == signature:
            return cached
        if info.st_size > MAX_BYTES:
            error = InputError.one(display, 0, f"file is {info.st_size:,} bytes; an entry must be under 1 MiB")
            parsed = _Parsed(signature, "", "", None, error)
            self._parsed[display] = parsed
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
            cached.signature = signature
            return cached
        try:
            entry, error = parse_entry(data, display, context), None
        except InputError as err:
            entry, error = None, err
        text = data.decode("utf-8", errors="replace")
        parsed = _Parsed(signature, digest, text, entry, error)
        self._parsed[display] = parsed
        return parsed

    def _last_good(self, journal: Journal, ident: str, context: Context) -> Entry | None:
        """The version readers were last shown, from the journal (parsed once per version)."""
        record = journal.current.get(ident)
        if record is None:
            return None
        cached = self._last_goods.get(ident)
        if cached is not None and cached[0] == record.hash:
            return cached[1]
        try:
            entry: Entry | None = parse_entry(record.text.encode(), record.path or f"{ENTRIES}/{ident}.md", context)
        except InputError:
            entry = None
        self._last_goods[ident] = (record.hash, entry)
        return entry

    def _source(self, entry: Entry) -> str:
        """The digest of the text ``entry`` was read from: its file's, or the journal's for a last good version."""
        parsed = self._parsed.get(f"{ENTRIES}/{entry.id}.md")
        if parsed is not None and parsed.entry is entry:
            return parsed.digest
        last = self._last_goods.get(entry.id)
        return last[0] if last is not None and last[1] is entry else ""

    def _order(self, entry: Entry) -> tuple[float, str]:
        """Stream order (time, then id), kept per entry: aware datetimes compare through their zone each time."""
        cached = self._order_keys.get(entry.id)
        if cached is None or cached[0] is not entry:
            cached = (entry, (entry.time.timestamp(), entry.id))
            self._order_keys[entry.id] = cached
        return cached[1]

    def _update_stream(
        self, setup: _Setup, journal: Journal, touched: set[str], now: datetime, report: BuildReport, *, reset: bool
    ) -> set[str] | None:
        """Put the touched entries in (or out of) the stream; the ids whose view changed (None: all may have).

        The stream is kept oldest first, so a new entry is a binary-search insert, not a sort of the night.
        """
        changed: set[str] = set()
        if reset:
            self._stream, self._live, self._scheduled = [], {}, {}
            self._summaries, self._keyed, self._pinned = set(), set(), set()
            self._views = {i: v for i, v in self._views.items() if i in self._entries}
            for entry in self._entries.values():
                self._place(entry, setup, now, insert=False)
            self._stream.sort(key=self._view_order)
            self._removed = {}
            for ident in journal.ever_shown:
                self._set_removal(ident, journal)
        else:
            for ident in sorted(touched):
                view = self._live.pop(ident, None)
                if view is not None:
                    self._unstream(view)
                    changed.add(ident)
                self._scheduled.pop(ident, None)
                entry = self._entries.get(ident)
                if entry is not None and self._place(entry, setup, now):
                    changed.add(ident)
                if ident not in self._live:
                    self._views.pop(ident, None)
            for entry in sorted((e for e in self._scheduled.values() if e.live_at(now)), key=lambda e: e.id):
                del self._scheduled[entry.id]
                self._place(entry, setup, now)
                changed.add(entry.id)
                touched.add(entry.id)
            for ident in touched:
                self._set_removal(ident, journal)
        self._rendered = {}
        if len(self._order_keys) > len(self._entries) + 1000:  # forget entries long gone
            self._order_keys = {k: v for k, v in self._order_keys.items() if k in self._entries}
        report.scheduled = sorted(self._scheduled.values(), key=lambda e: (e.time, e.id))
        report.next_due = report.scheduled[0].time if report.scheduled else None
        report.live = len(self._stream)
        self._stream_at = now
        if reset or self._pages_stale:
            self._unrecorded |= set(self._live)
            return None
        self._unrecorded |= changed
        return changed

    def _place(self, entry: Entry, setup: _Setup, now: datetime, *, insert: bool = True) -> bool:
        """Into the stream if it is live now (True), or among the scheduled if its time has not come."""
        if not entry.live_at(now):
            if entry.status == "published":
                self._scheduled[entry.id] = entry
            return False
        cached = self._views.get(entry.id)
        if cached is None or cached[0] is not entry:
            ready = self._rendered.get(entry.id)
            if ready is not None and ready[0] is entry:  # made by a worker of a cold build
                cached = ready
            else:
                cached = (
                    entry,
                    *view_and_fragment(
                        entry,
                        setup.baseline,
                        setup.event.timezone,
                        setup.theme,
                        packed=self.long_lived,
                        source=self._source(entry),
                    ),
                )
            self._views[entry.id] = cached
        view = cached[1]
        self._live[entry.id] = view
        if isinstance(entry, SummaryEntry):
            self._summaries.add(entry.id)
        elif isinstance(entry, ResultEntry):
            self._results_dirty = True
        if entry.key:
            self._keyed.add(entry.id)
        if entry.pinned:
            self._pinned.add(entry.id)
        if insert:
            bisect.insort(self._stream, view, key=self._view_order)
        else:
            self._stream.append(view)
        return True

    def _unstream(self, view: EntryView) -> None:
        for flagged in (self._summaries, self._keyed, self._pinned):
            flagged.discard(view.id)
        if isinstance(view.entry, ResultEntry):
            self._results_dirty = True
        at = bisect.bisect_left(self._stream, self._view_order(view), key=self._view_order)
        if at < len(self._stream) and self._stream[at] is view:
            del self._stream[at]
        else:  # pragma: no cover - the order key of a view never changes; kept as a safety net
            self._stream = [v for v in self._stream if v is not view]

    def _view_order(self, view: EntryView) -> tuple[float, str]:
        return self._order(view.entry)

    def _set_removal(self, ident: str, journal: Journal) -> None:
        """Whether readers were shown this entry and it is gone now: withdrawn, deleted or back to draft."""
        if ident in self._live or ident not in journal.ever_shown:
            self._removed.pop(ident, None)
            return
        entry = self._entries.get(ident)
        if entry is None:
            self._removed[ident] = self._taken_down.get(ident, "deleted")
        else:
            self._removed[ident] = entry.status if entry.status != "published" else "draft"

    def _night(self, setup: _Setup, now: datetime, changed: set[str] | None) -> Night:
        views = self._stream[::-1]  # newest first
        results_changed = changed is None or self._results is None or self._results_dirty
        self._results_dirty = False
        if results_changed:
            results: dict[str, EntryView] = {}
            for view in views:  # newest first: the first result of a constituency is the one that counts
                if isinstance(view.entry, ResultEntry):
                    results.setdefault(view.entry.constituency.casefold(), view)
            self._results = list(results.values())
            self._board = tally(
                ((v.entry.constituency or "", v.result) for v in self._results if v.result is not None),
                setup.baseline,
            )
        summaries = [self._live[i] for i in self._summaries]
        summary = max(summaries, key=self._view_order) if summaries else None
        key_events, pinned = (
            sorted((self._live[i] for i in flagged if i not in self._summaries), key=self._view_order, reverse=True)
            for flagged in (self._keyed, self._pinned)
        )
        assert self._results is not None and self._board is not None
        return Night(
            event=setup.event,
            now=now,
            shown=[v for v in views if not isinstance(v.entry, SummaryEntry)] if summaries else views,
            fragments=Fragments(self._views, self._recent_fragments),
            summary=summary,
            scoreboard=self._board,
            results=self._results,
            baseline=setup.baseline,
            withdrawn=sorted(self._removed),
            changed=changed,
            key_events=key_events,
            pinned=pinned,
        )

    def _while_syncing(self, journal: Journal, now: datetime, report: BuildReport, tree: str | None) -> _JournalBatch:
        """What the build's process does while the disk syncs the staged site: the journal's next lines, and
        for a whole site staged in one folder (a cold build), the signatures of its files for the record of
        what was published (uptodate.record_build): moved into place, they keep them. Walking the output
        folder for them after the build took ~0.05 s at 10,000 entries, with the disk idle by then."""
        batch = self._journal_batch(journal, now)
        if tree is not None:
            report.outputs_digest = disk_outputs(Path(tree))
        return batch

    def _journal_batch(self, journal: Journal, now: datetime) -> _JournalBatch:
        """What the journal must add once the site is out: the versions readers now see and the entries taken
        down, and what the report says of them. Changes nothing (publish makes it while the disk syncs)."""
        batch = _JournalBatch()
        at = stamp(now)
        if len(self._unrecorded) * 8 > len(self._stream):  # a first build: all of them, in the stream's order
            newest_first = [v.id for v in reversed(self._stream) if v.id in self._unrecorded]
        else:  # a few: sorting them beats walking the night
            check = (i for i in self._unrecorded if i in self._live)
            newest_first = sorted(check, key=lambda i: self._order(self._live[i].entry), reverse=True)
        for ident in newest_first:
            view = self._live[ident]
            parsed = self._parsed.get(f"{ENTRIES}/{ident}.md")
            if parsed is None or parsed.entry is not view.entry:
                continue  # shown from its last good version: already in the journal
            current = journal.current.get(ident)
            if current is not None and current.hash == parsed.digest:
                continue
            batch.records.append(Record("shown", ident, at, parsed.digest, parsed.text, f"{ENTRIES}/{ident}.md"))
            batch.published.append(view)
            if current is not None:
                batch.revised.add(ident)
        for ident, why in sorted(self._removed.items()):
            if ident in journal.current:
                batch.records.append(Record(why, ident, at))  # type: ignore[arg-type]
                batch.removed.append((ident, why))
        batch.payload = encode_records(batch.records)
        return batch

    def _record(self, journal: Journal, report: BuildReport, batch: _JournalBatch) -> None:
        """Journal what readers can now see, after the files that show it are written."""
        report.published.extend(batch.published)
        report.revised |= batch.revised
        report.removed.extend(batch.removed)
        journal.append(batch.records, payload=batch.payload)
        self._unrecorded = set()  # only once the journal holds them

    def inputs_seen(self) -> Inputs | None:
        """What the last build was made from, as the signatures it saw (for uptodate.record); None when it
        cannot vouch for them: files held, skipped or rejected, or no build yet."""
        if self._input_signatures is None or self._theme is None or self._journal is None or self._stream_at is None:
            return None
        if self._missing or self._unread or self._bad:
            return None
        entries = []
        for display in sorted(self._outcomes):
            parsed = self._parsed.get(display)
            if parsed is None:
                return None
            entries.append((display.rpartition("/")[2], *parsed.signature))
        config, baseline = self._input_signatures
        return Inputs(config, baseline, list(self._theme[0]), self._journal[0], entries)

    def _done(self, report: BuildReport, started: float) -> BuildReport:
        report.problems.sort()
        report.seconds = time.perf_counter() - started
        return report


def _template_problem(err: jinja2.TemplateError) -> Problem:
    if isinstance(err, jinja2.TemplateSyntaxError):
        return Problem(f"templates/{err.name or err.filename or '?'}", err.lineno, f"template: {err.message}")
    return Problem("templates", 0, f"template: {err}")
