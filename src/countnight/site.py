"""The build: discover → parse → validate → compute → render → write. ``countnight build`` runs it
once; watch mode runs the same ``Site.build`` again on every change, reusing what did not change.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import jinja2

from .baseline import Baseline, load_baseline
from .config import CONFIG_NAME, Event, load_config
from .elections import Scoreboard, tally
from .entries import entry_id, is_entry_name, parse_entry
from .errors import InputError, Problem
from .frontmatter import MAX_BYTES, read_entry
from .journal import JOURNAL, STATE_DIR, Journal, Record, stamp
from .models import Context, Entry, ResultEntry, SummaryEntry
from .pages import Night, PageCache, render_pages
from .parallel import PARALLEL_MIN, prepare_many, usable_cpus
from .publish import PublishError, clean_temp_files, publish
from .render import Theme, default_theme, load_theme, render_entry, theme_files
from .views import EntryView, make_view

ENTRIES = "entries"


@dataclass
class BuildReport:
    """What one build did, for the console and for tests."""

    problems: list[Problem] = field(default_factory=list)  # every input problem, as FILE:LINE: message
    warnings: list[str] = field(default_factory=list)
    published: list[EntryView] = field(default_factory=list)  # new or changed versions now shown
    removed: list[tuple[str, str]] = field(default_factory=list)  # (id, "withdrawn" | "deleted" | "draft")
    scheduled: list[Entry] = field(default_factory=list)  # published, but their time has not come
    live: int = 0
    written: list[str] = field(default_factory=list)
    seconds: float = 0.0
    built: bool = False  # False: config, baseline, theme or disk trouble kept the previous site
    next_due: datetime | None = None  # when the next scheduled entry goes live
    revised: set[str] = field(default_factory=set)  # ids in `published` that replaced a version readers saw
    held: list[str] = field(default_factory=list)  # ids whose file is gone, kept through the grace period
    hold_until: float | None = None  # time.monotonic() when the first held id's grace period ends

    @property
    def rejected(self) -> list[str]:
        return sorted({p.path for p in self.problems})


@dataclass
class _Parsed:
    signature: tuple[int, int, int]
    digest: str
    text: str
    entry: Entry | None
    error: InputError | None


@dataclass(frozen=True)
class _Setup:
    event: Event
    baseline: Baseline | None
    theme: Theme
    key: str  # changes when anything that affects every entry changes


class Site:
    """A blog folder and its output, with what the last build learnt (parsed files, fragments)."""

    def __init__(self, root: Path, out: Path | None = None) -> None:
        self.root = root
        self.out = out if out is not None else root / "site"
        self._parsed: dict[str, _Parsed] = {}
        # id → (the entry, its view, its <article>): reused while the parsed entry is the same object
        self._views: dict[str, tuple[Entry, EntryView, str]] = {}
        self._page_cache: PageCache = {}
        self._baseline: tuple[tuple[str, str], Baseline] | None = None  # ((name, sha256), parsed)
        self._order_keys: dict[str, tuple[Entry, tuple[float, str]]] = {}  # id → (entry, its sort key)
        self._journaled: dict[str, Entry] = {}  # id → the entry object whose version the journal holds
        self._rendered: dict[str, tuple[Entry, str]] = {}  # id → (entry, <article>) rendered by the workers
        self._last_goods: dict[str, tuple[str, Entry | None]] = {}  # id → (journal hash, that version parsed)
        self._journal: tuple[tuple[int, int, int], Journal] | None = None  # (file signature, journal)
        self._setup_key = ""
        self._theme: tuple[tuple[tuple[str, int, int, int], ...], Theme] | None = None  # (file signatures, theme)
        self._written: dict[str, bytes] | None = None
        self._cleaned = False
        self._present: set[str] = set()  # entry files seen by the last build (or held by it)
        self._missing: dict[str, float] = {}  # entry file → time.monotonic() when it was first found gone
        self._taken_down: dict[str, str] = {}  # id → 'withdrawn'/'draft' said by a file that fails validation

    def build(self, now: datetime | None = None, *, grace: float = 0.0) -> BuildReport:
        """Build the site once. Input problems are reported, never raised; the last good site stays.

        ``grace`` (watch mode): an entry file that a previous build saw and that is now gone stays on the
        page from its last good version until it has been gone this many seconds, so an editor's
        delete-and-rewrite save (vim renames the file away, then writes it anew) never takes it down.
        """
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
        context = Context(setup.event.window, setup.baseline)
        entries = self._read_entries(context, journal, report, grace, setup)
        shown, removed = self._select(entries, journal, now, report)
        try:
            views, fragments = self._views_of(setup, shown)
            night = self._night(setup, views, fragments, removed, now)
            files = render_pages(setup.theme, night, cache=self._page_cache)
        except jinja2.TemplateError as err:
            report.problems.append(_template_problem(err))
            return self._done(report, started)
        if not self._cleaned:
            clean_temp_files(self.out)
            self._cleaned = True
        try:
            written = publish(self.out, files, known=self._written)
        except PublishError as err:
            self._written = None  # we no longer know what is on disk
            report.warnings.append(str(err))
            return self._done(report, started)
        self._written = files
        report.written = written.written
        report.built = True
        try:
            self._record(journal, views, entries, removed, now, report)
        except OSError as err:  # the site is out but its record is not (a full disk): say so; the next build records it
            what = "the disk is full" if err.errno == errno.ENOSPC else err.strerror or str(err)
            report.warnings.append(f"{journal.path}: could not record what readers now see ({what}); will retry")
        self._journal = (_signature(journal.path), journal)
        return self._done(report, started)

    def _open_journal(self, report: BuildReport) -> Journal:
        """The journal, read from disk only when someone else has written to it since our last look."""
        path = self.root / STATE_DIR / JOURNAL
        signature = _signature(path)
        if self._journal is None or self._journal[0] != signature:
            journal = Journal.open(self.root)
            report.warnings.extend(journal.warnings)
            self._journal = (signature, journal)
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
        self._read_entries(Context(setup.event.window, setup.baseline), Journal(self.root), report)
        return sorted(report.problems)

    # -- steps ---------------------------------------------------------------------------------

    def _setup(self) -> _Setup:
        event = load_config(self.root)
        digest = hashlib.sha256((self.root / CONFIG_NAME).read_bytes())
        baseline = None
        if event.baseline:
            path = self.root / event.baseline
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
            self._setup_key = key
        return _Setup(event, baseline, theme, key)

    def _load_theme(self) -> Theme:
        """The theme, compiled again only when a template file changed.

        Compiling every template is most of the time a small build takes: in watch mode, a change to
        one entry must not pay for it. A broken template raises here on every build until fixed.
        """
        signature: list[tuple[str, int, int, int]] = []
        for folder in (self.root / "templates", default_theme()):
            for path in theme_files(folder):
                try:
                    info = path.stat()
                except OSError:  # gone since it was listed: the next build sees the change
                    continue
                signature.append((str(path), info.st_mtime_ns, info.st_size, info.st_ino))
        if self._theme is None or self._theme[0] != tuple(signature):
            self._theme = (tuple(signature), load_theme(self.root))
        return self._theme[1]

    def _read_entries(
        self,
        context: Context,
        journal: Journal,
        report: BuildReport,
        grace: float = 0.0,
        setup: _Setup | None = None,
    ) -> dict[str, Entry]:
        folder = self.root / ENTRIES
        self._taken_down = {}
        seen: set[str] = set()
        entries: dict[str, Entry] = {}
        try:
            items = sorted(os.scandir(folder), key=lambda d: d.name)
        except FileNotFoundError:
            report.warnings.append(f"{ENTRIES}/: not found; no entries yet")
            items = []
        if setup is not None:
            self._prepare_in_parallel(items, context, setup)
        for item in items:
            if not is_entry_name(item.name):
                continue
            display = f"{ENTRIES}/{item.name}"
            parsed = self._read_one(item, display, context, report)
            if parsed is None:
                continue
            ident = entry_id(item.name)
            seen.add(ident)
            if parsed.entry is not None:
                entries[ident] = parsed.entry
                continue
            assert parsed.error is not None
            report.problems.extend(parsed.error.problems)
            taken = taken_down(parsed.text.encode(), display)
            if taken:  # a withdrawal never waits for a mistake elsewhere in the file to be fixed
                self._taken_down[ident] = taken
                continue
            fallback = self._last_good(journal, ident, context)
            if fallback is not None:
                entries[ident] = fallback
        present = {f"{ENTRIES}/{i}.md" for i in seen}
        for display in present:
            self._missing.pop(display, None)
        clock = time.monotonic()
        for display in sorted((self._present | set(self._missing)) - present):
            since = self._missing.setdefault(display, clock)
            if clock - since >= grace:
                del self._missing[display]
                continue
            ident = entry_id(display)  # gone, but maybe only between an editor's rename and rewrite
            cached = self._parsed.get(display)
            held = cached.entry if cached is not None and cached.entry is not None else None
            held = held or self._last_good(journal, ident, context)
            if held is not None:
                entries[ident] = held
            present.add(display)
            report.held.append(ident)
            until = since + grace
            report.hold_until = until if report.hold_until is None else min(report.hold_until, until)
        for stale in set(self._parsed) - present:
            del self._parsed[stale]
        self._present = present
        return entries

    def _prepare_in_parallel(self, items: list[os.DirEntry[str]], context: Context, setup: _Setup) -> None:
        """A cold build's many new files, read, validated and rendered on every core (see parallel.py).

        Only plain regular files go to the workers; links, FIFOs and the oversized take the careful
        one-by-one path below, which also reports them.
        """
        workers = usable_cpus()
        if workers < 2 or len(items) - len(self._parsed) < PARALLEL_MIN:
            return  # not a cold build: the few changed files are cheaper one by one
        todo: list[tuple[str, str, tuple[int, int, int]]] = []
        for item in items:
            if not is_entry_name(item.name) or item.is_symlink():
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
            return
        for done in prepare_many(self.root, context, setup.event.timezone, todo, workers):
            if done is None:  # unreadable now: the one-by-one path retries and reports it
                continue
            self._parsed[done.display] = _Parsed(done.signature, done.digest, done.text, done.entry, done.error)
            if done.entry is not None and done.html is not None:
                self._rendered[done.entry.id] = (done.entry, done.html)

    def _read_one(self, item: os.DirEntry[str], display: str, context: Context, report: BuildReport) -> _Parsed | None:
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

    def _order(self, entry: Entry) -> tuple[float, str]:
        """Stream order (time, then id), kept per entry: aware datetimes compare through their zone each time."""
        cached = self._order_keys.get(entry.id)
        if cached is None or cached[0] is not entry:
            cached = (entry, (entry.time.timestamp(), entry.id))
            self._order_keys[entry.id] = cached
        return cached[1]

    def _select(
        self, entries: dict[str, Entry], journal: Journal, now: datetime, report: BuildReport
    ) -> tuple[list[Entry], dict[str, str]]:
        shown: list[Entry] = []
        for entry in entries.values():
            if entry.live_at(now):
                shown.append(entry)
            elif entry.status == "published":
                report.scheduled.append(entry)
        shown.sort(key=self._order, reverse=True)
        if len(self._order_keys) > len(entries) + 1000:  # forget entries long gone
            self._order_keys = {k: v for k, v in self._order_keys.items() if k in entries}
        report.scheduled.sort(key=lambda e: (e.time, e.id))
        report.next_due = report.scheduled[0].time if report.scheduled else None
        live_ids = {e.id for e in shown}
        removed: dict[str, str] = {}
        for ident in journal.ever_shown:
            if ident in live_ids:
                continue
            entry = entries.get(ident)
            if entry is None:
                removed[ident] = self._taken_down.get(ident, "deleted")
            else:
                removed[ident] = entry.status if entry.status != "published" else "draft"
        report.live = len(shown)
        return shown, removed

    def _views_of(self, setup: _Setup, shown: list[Entry]) -> tuple[list[EntryView], dict[str, str]]:
        """Views and fragments of the shown entries; only entries that changed are computed and rendered."""
        views: list[EntryView] = []
        fragments: dict[str, str] = {}
        cache: dict[str, tuple[Entry, EntryView, str]] = {}
        rendered, self._rendered = self._rendered, {}
        for entry in shown:
            cached = self._views.get(entry.id)
            if cached is None or cached[0] is not entry:
                view = make_view(entry, setup.baseline, setup.event.timezone)
                ready = rendered.get(entry.id)
                html = ready[1] if ready is not None and ready[0] is entry else render_entry(setup.theme, view)
                cached = (entry, view, html)
            cache[entry.id] = cached
            views.append(cached[1])
            fragments[entry.id] = cached[2]
        self._views = cache
        return views, fragments

    def _night(
        self, setup: _Setup, views: list[EntryView], fragments: dict[str, str], removed: dict[str, str], now: datetime
    ) -> Night:
        results: dict[str, EntryView] = {}
        for view in views:  # newest first: the first result of a constituency is the one that counts
            if isinstance(view.entry, ResultEntry):
                results.setdefault(view.entry.constituency.casefold(), view)
        summary = next((v for v in views if isinstance(v.entry, SummaryEntry)), None)
        board: Scoreboard = tally(
            ((v.entry.constituency or "", v.result) for v in results.values() if v.result is not None),
            setup.baseline,
        )
        return Night(
            event=setup.event,
            now=now,
            shown=[v for v in views if not isinstance(v.entry, SummaryEntry)],
            fragments=fragments,
            summary=summary,
            scoreboard=board,
            results=list(results.values()),
            baseline=setup.baseline,
            withdrawn=sorted(removed),
        )

    def _record(
        self,
        journal: Journal,
        views: list[EntryView],
        entries: dict[str, Entry],
        removed: dict[str, str],
        now: datetime,
        report: BuildReport,
    ) -> None:
        """Journal what readers can now see, after the files that show it are written."""
        records: list[Record] = []
        journaled: dict[str, Entry] = {}
        for view in views:
            entry = view.entry
            journaled[view.id] = entry
            if self._journaled.get(view.id) is entry:
                continue  # this very version was journalled (or found there) by an earlier build
            parsed = self._parsed.get(f"{ENTRIES}/{view.id}.md")
            if parsed is None or parsed.entry is not entry:
                continue  # shown from its last good version: already in the journal
            current = journal.current.get(view.id)
            if current is not None and current.hash == parsed.digest:
                continue
            records.append(Record("shown", view.id, stamp(now), parsed.digest, parsed.text, f"{ENTRIES}/{view.id}.md"))
            report.published.append(view)
            if current is not None:
                report.revised.add(view.id)
        for ident, why in sorted(removed.items()):
            if ident in journal.current:
                records.append(Record(why, ident, stamp(now)))  # type: ignore[arg-type]
                report.removed.append((ident, why))
        journal.append(records)
        self._journaled = journaled  # only once the journal holds them

    def _done(self, report: BuildReport, started: float) -> BuildReport:
        report.problems.sort()
        report.seconds = time.perf_counter() - started
        return report


def _signature(path: Path) -> tuple[int, int, int]:
    try:
        info = path.stat()
    except OSError:
        return (0, 0, 0)
    return (info.st_size, info.st_mtime_ns, info.st_ino)


def read_regular(path: str) -> bytes | None:
    """Read at most MAX_BYTES + 1 bytes of a regular file; None if it is not one.

    O_NONBLOCK: the file was a regular file when stat-ed, but a FIFO put in its place since then must not
    hang the build (opening a FIFO for reading blocks until a writer comes; non-blocking, it returns at once).
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        chunks: list[bytes] = []
        left = MAX_BYTES + 1
        while left > 0:
            chunk = os.read(fd, left)
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def taken_down(data: bytes, path: str) -> str | None:
    """'withdrawn' or 'draft' when a file that fails validation still says so in readable front matter."""
    try:
        status = read_entry(data, path).front.get("status")
    except InputError:
        return None
    word = status.strip().lower() if isinstance(status, str) else ""
    return word if word in ("withdrawn", "draft") else None


def _template_problem(err: jinja2.TemplateError) -> Problem:
    if isinstance(err, jinja2.TemplateSyntaxError):
        return Problem(f"templates/{err.name or err.filename or '?'}", err.lineno, f"template: {err.message}")
    return Problem("templates", 0, f"template: {err}")
