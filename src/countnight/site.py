"""The build: discover → parse → validate → compute → render → write. ``countnight build`` runs it
once; watch mode runs the same ``Site.build`` again on every change, reusing what did not change.
"""

from __future__ import annotations

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
from .frontmatter import MAX_BYTES
from .journal import Journal, Record, stamp
from .models import Context, Entry, ResultEntry, SummaryEntry
from .pages import Night, render_pages
from .publish import PublishError, clean_temp_files, publish
from .render import Theme, load_theme, render_entry
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
        self._fragments: dict[tuple[str, str], str] = {}
        self._setup_key = ""
        self._written: dict[str, bytes] | None = None
        self._cleaned = False

    def build(self, now: datetime | None = None) -> BuildReport:
        """Build the site once. Input problems are reported, never raised; the last good site stays."""
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
        journal = Journal.open(self.root)
        report.warnings.extend(journal.warnings)
        context = Context(setup.event.window, setup.baseline)
        entries = self._read_entries(context, journal, report)
        shown, removed = self._select(entries, journal, now, report)
        views = [make_view(e, setup.baseline, setup.event.timezone) for e in shown]
        try:
            night = self._night(setup, views, journal, removed, now)
            files = render_pages(setup.theme, night)
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
        self._record(journal, views, entries, removed, now, report)
        return self._done(report, started)

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
            baseline = load_baseline(path, event.baseline)
            digest.update(data)
        theme = load_theme(self.root)
        digest.update(theme.fingerprint.encode())
        key = digest.hexdigest()
        if key != self._setup_key:  # the night's rules changed: every entry is read anew
            self._parsed.clear()
            self._fragments.clear()
            self._setup_key = key
        return _Setup(event, baseline, theme, key)

    def _read_entries(self, context: Context, journal: Journal, report: BuildReport) -> dict[str, Entry]:
        folder = self.root / ENTRIES
        seen: set[str] = set()
        entries: dict[str, Entry] = {}
        try:
            items = sorted(os.scandir(folder), key=lambda d: d.name)
        except FileNotFoundError:
            report.warnings.append(f"{ENTRIES}/: not found; no entries yet")
            items = []
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
            fallback = self._last_good(journal, ident, context)
            if fallback is not None:
                entries[ident] = fallback
        for stale in set(self._parsed) - {f"{ENTRIES}/{i}.md" for i in seen}:
            del self._parsed[stale]
        return entries

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
            with open(item.path, "rb") as handle:  # a regular file: opening cannot block
                data = handle.read(MAX_BYTES + 1)
        except OSError as err:
            report.warnings.append(f"{display}: could not be read ({err.strerror}); will retry")
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
        record = journal.current.get(ident)
        if record is None:
            return None
        try:
            return parse_entry(record.text.encode(), record.path or f"{ENTRIES}/{ident}.md", context)
        except InputError:
            return None

    def _select(
        self, entries: dict[str, Entry], journal: Journal, now: datetime, report: BuildReport
    ) -> tuple[list[Entry], dict[str, str]]:
        shown: list[Entry] = []
        for entry in entries.values():
            if entry.live_at(now):
                shown.append(entry)
            elif entry.status == "published":
                report.scheduled.append(entry)
        shown.sort(key=lambda e: (e.time, e.id), reverse=True)
        report.scheduled.sort(key=lambda e: (e.time, e.id))
        report.next_due = report.scheduled[0].time if report.scheduled else None
        live_ids = {e.id for e in shown}
        removed: dict[str, str] = {}
        for ident in journal.ever_shown:
            if ident in live_ids:
                continue
            entry = entries.get(ident)
            removed[ident] = "deleted" if entry is None else entry.status if entry.status != "published" else "draft"
        report.live = len(shown)
        return shown, removed

    def _night(
        self, setup: _Setup, views: list[EntryView], journal: Journal, removed: dict[str, str], now: datetime
    ) -> Night:
        fragments: dict[str, str] = {}
        live_keys: set[tuple[str, str]] = set()
        for view in views:
            key = (view.id, view.entry.model_dump_json())
            live_keys.add(key)
            html = self._fragments.get(key)
            if html is None:
                html = render_entry(setup.theme, view)
                self._fragments[key] = html
            fragments[view.id] = html
        for stale in set(self._fragments) - live_keys:
            del self._fragments[stale]
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
        texts = {p.entry.id: p for p in self._parsed.values() if p.entry is not None}
        records: list[Record] = []
        for view in views:
            parsed = texts.get(view.id)
            if parsed is None or parsed.entry is not view.entry:
                continue  # shown from its last good version: already in the journal
            current = journal.current.get(view.id)
            if current is not None and current.hash == parsed.digest:
                continue
            records.append(Record("shown", view.id, stamp(now), parsed.digest, parsed.text, f"{ENTRIES}/{view.id}.md"))
            report.published.append(view)
        for ident, why in sorted(removed.items()):
            if ident in journal.current:
                records.append(Record(why, ident, stamp(now)))  # type: ignore[arg-type]
                report.removed.append((ident, why))
        journal.append(records)

    def _done(self, report: BuildReport, started: float) -> BuildReport:
        report.problems.sort()
        report.seconds = time.perf_counter() - started
        return report


def _template_problem(err: jinja2.TemplateError) -> Problem:
    if isinstance(err, jinja2.TemplateSyntaxError):
        return Problem(f"templates/{err.name or err.filename or '?'}", err.lineno, f"template: {err.message}")
    return Problem("templates", 0, f"template: {err}")
