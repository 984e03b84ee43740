"""The build: discover → parse → validate → compute → render → write. ``countnight build`` runs it
once; watch mode runs the same ``Site.build`` again on every change, reusing what did not change.
"""

from __future__ import annotations

import dataclasses
import errno
import functools
import heapq
import time
from collections.abc import Collection, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Literal

import jinja2

from .changes import Changes, LiveDelta, Outlet
from .errors import InputError, Problem
from .feeds import share_path
from .fileio import read_file
from .folder import FolderOutlet
from .heap import collector_paused
from .journal import JOURNAL, STATE_DIR, First, Journal, Record, encode_records, stamp
from .models import Context
from .names import entry_id, is_id, longest_id
from .night import Night
from .pages import Output, PageCache, cards_to_draw, render_changes
from .parallel import Aside, fork_aside, usable_cpus
from .publish import PublishError
from .readstate import ENTRIES, ReadState
from .report import BuildReport, CheckReport
from .rules import Rules, Setup
from .sharecards import CACHE, Card, CardStore, blog_card, entry_card
from .shown import window_text
from .stream import Stream
from .themefault import template_problem
from .uptodate import Inputs, Signature, outputs_digest, signature
from .views import EntryView

# Share cards a build may draw that it never drew before (sharecards.CardBudget): a one-off build draws the newest 64
# entries' (the sample night's all; a cold build at 10,000 ~0.3 s of its cores); a watcher none in a build for
# files that changed (a reporter's save is published without waiting for a picture) and 8 in the builds it
# makes while any wait, in its own process, between reporters' saves.
CARDS_PER_BUILD = 64
CARDS_PER_WATCH_BUILD = 8
_AHEAD_SPARE = 16  # entries looked at past a cold build's card budget, for those of the newest it will not show


@dataclass
class _JournalBatch:
    """A build's lines for the journal (records, encoded), and what the report says of them."""

    records: list[Record] = field(default_factory=list)
    payload: bytes = b""
    published: list[EntryView] = field(default_factory=list)
    revised: set[str] = field(default_factory=set)
    removed: list[tuple[str, str]] = field(default_factory=list)
    live: LiveDelta = field(default_factory=LiveDelta)  # what open pages must be told of them (_live_delta)
    first: First | None = None  # a first journal, written ahead (Journal.write_first)


class Site:
    """A blog folder and its output, with what the last build learnt (parsed files, fragments)."""

    def __init__(
        self,
        root: Path,
        out: Path | None = None,
        *,
        long_lived: bool = False,
        outlets: Sequence[Outlet] = (),
        cards_per_build: int | Literal["default"] | None = "default",
    ) -> None:
        """``outlets``: where each build's changes go besides the output folder (an object store, a push
        channel); see changes.Outlet. The folder is always the first, and the one the journal waits on.
        ``cards_per_build``: how many share cards never drawn before a build may draw (None: all of them; by
        default CARDS_PER_WATCH_BUILD for a watcher, else CARDS_PER_BUILD)."""
        self.root = root
        self.out = out if out is not None else root / "site"
        # A watcher stays up all night, so it keeps its memory down: it makes its pages in its own process (a
        # forked worker copies much of the build's memory) and keeps fragments compressed. A one-off build
        # makes and writes its pages on every core (publish.py) and keeps fragments as text.
        self.long_lived = long_lived
        self.longest_id = longest_id(self.out)  # an id longer cannot be published there: that entry's error
        # The build's state, in named parts, each kept between builds so the next looks only at what changed:
        self.rules = Rules(root)  # the config, baseline and theme, as last read
        self.read = ReadState(root, long_lived=long_lived)  # what was read from entries/
        self.stream = Stream(self.read, long_lived=long_lived)  # what readers are shown
        self._page_cache = PageCache()  # what each page was made from
        self.cards = CardStore(root / STATE_DIR / CACHE)  # share cards drawn, by digest: none is drawn twice
        if cards_per_build == "default":
            cards_per_build = CARDS_PER_WATCH_BUILD if long_lived else CARDS_PER_BUILD
        self.cards_per_build = cards_per_build
        self._pages_stale = False  # a build failed after rendering: the next one looks at every page
        self._setup_key = ""
        self._window = ""  # the coverage window of this build, as the journal keeps it (shown.window_text)
        self._journal: tuple[Signature, Journal] | None = None  # (file signature, journal)
        # Where the changes go: the folder (what this process wrote there is its state), then the others.
        self.folder = FolderOutlet(self.out, workers=not long_lived)
        self.outlets = tuple(outlets)
        self._paths: AbstractSet[str] | None = None  # every path the last build published; None: not known
        self._painter: Aside[list[Card]] | None = None  # a one-off build's share cards, drawn ahead
        self._night: Night | None = None  # what the last build published (the share cards it waits for)

    def build(
        self,
        now: datetime | None = None,
        *,
        grace: float = 0.0,
        changed: Collection[str] | None = None,
        draw: int | Literal["default"] | None = "default",
        name_kept: int = 0,
    ) -> BuildReport:
        """Build the site once. Input problems are reported, never raised; the last good site stays.

        ``grace`` (watch mode): an entry file that a previous build saw and that is now gone stays on the
        page from its last good version until it has been gone this many seconds, so an editor's
        delete-and-rewrite save (vim renames the file away, then writes it anew) never takes it down.

        ``changed`` (watch mode): the entry files (``entries/NAME.md``) that file events say changed since
        the previous build. Only those are looked at again; None looks at every file (``countnight build``,
        the watcher's first build and its periodic rescan). Either way the same steps run, on what changed.

        ``draw``: how many share cards never drawn before this build may draw, if not ``cards_per_build``; a
        watcher whose cards are drawn aside (cardpainter.py) gives 0, and ``name_kept``: how many share pages
        naming the blog's card to name their own, drawn aside (pages.render_changes).
        """
        with collector_paused(not self.long_lived):
            try:
                return self._build(now, grace, changed, draw, name_kept)
            finally:
                if self._painter is not None:
                    self._painter.wait()
                    self._painter = None

    def _build(
        self,
        now: datetime | None,
        grace: float,
        changed: Collection[str] | None,
        draw: int | Literal["default"] | None,
        name_kept: int,
    ) -> BuildReport:
        started = time.perf_counter()
        self.rules.seen_ns = self.read.seen_ns = time.time_ns()  # before any signature is taken: uptodate.racy
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
        try:  # the record unreadable, entries/ not a folder: nothing is published without them
            journal = self._open_journal(report)
            self._window = window_text(setup.event.window)  # kept with each version shown: see shown.as_shown
            if self.stream.at is None or now < self.stream.at:
                changed = None  # a first build, new rules, a journal someone else wrote, or the clock went back
            context = Context(setup.event.window, setup.baseline, self.longest_id)
            # (a one-off build's scan forks the process that draws its cards ahead, if it reads on every core, and
            # hands it its cards as soon as the workers have read every file)
            if not self.long_lived:
                self.read.before_workers = self._fork_painter
                self.read.after_workers = lambda: self._draw_cards_ahead(setup, now)
            try:
                touched = self.read.scan(context, journal, report, grace, setup, changed, now)
            finally:
                self.read.before_workers = self.read.after_workers = None
        except InputError as err:
            report.problems.extend(err.problems)
            self.stream.at = None  # (the journal this process holds stays: it is absorbed when the record is back)
            return self._done(report, started)
        self._warn_if_lost(report)
        try:
            views_changed = self.stream.update(
                setup, journal, touched, now, report, reset=changed is None, pages_stale=self._pages_stale
            )
            night = self.stream.night(setup, now, views_changed)
            work = self._page_cache.working_copy()
            budget = self.cards_per_build if isinstance(draw, str) else draw
            if self.long_lived and changed and budget is not None:
                # A reporter's save goes out now; its share card is drawn by the next build, a moment later.
                budget = 0
            output = render_changes(setup.theme, night, work, self.cards, budget, name_kept)
        except Exception as err:  # a template that failed as it rendered (a Python error too): its file and line
            if (problem := template_problem(err)) is None:
                raise
            return self._pages_failed(report, problem, started)
        # The journal's next lines, made once by the folder's writer in a wait that is otherwise idle: while its
        # workers make a cold build's pages (they take the pages this process would have made meanwhile), else
        # while the disk syncs.
        made: list[_JournalBatch] = []
        sent = self._changes(output)
        refigured = tuple(sorted(i for i in self.read.refigured if i in self.stream.live))  # same text, new picture

        def alongside() -> None:
            batch = self._journal_batch(journal, now)
            batch.live = _live_delta(batch, output.panels, refigured)
            # A first journal is written whole now, and put in place once the site is (see Journal.write_first)
            batch.first = journal.write_first(batch.payload)
            made.append(batch)

        try:
            written = self.folder.send(sent, alongside=alongside)
        except PublishError as err:
            _discard_first(made)  # the site is not out: nor is its journal
            self._paths = None
            self._page_cache.clear()
            self._pages_stale = True
            report.warnings.append(str(err))
            return self._done(report, started)
        except Exception as err:  # a page's template failed as it was made: nothing was renamed into place
            _discard_first(made)
            if (problem := template_problem(err)) is None:
                raise
            return self._pages_failed(report, problem, started)
        self._page_cache.commit(work)
        self._paths, self._night = sent.paths, night
        if written.stats:  # a whole site staged in one folder (a cold build): its files' signatures as written,
            report.outputs_digest = outputs_digest(written.stats)  # for the record of what was published
        event = setup.event
        ends = event.coverage_end if event.coverage_end and not event.ended(now) else None
        report.valid_until = min((t for t in (report.next_due, ends) if t is not None), default=None)
        self._pages_stale = False
        report.written = written.written
        report.cards_pending = output.cards_pending
        report.built = True
        report.changes = changes = dataclasses.replace(sent, live=made[0].live)
        try:
            self._record(journal, report, made[0])
        except OSError as err:  # the site is out but its record is not (a full disk): say so; the next build records it
            what = "the disk is full" if err.errno == errno.ENOSPC else err.strerror or str(err)
            report.warnings.append(f"{journal.path}: could not record what readers now see ({what}); will retry")
        try:
            self.read.pictures.save_shown()  # which pictures each entry is shown with: its last good version's
        except OSError as err:
            report.warnings.append(
                f".countnight/pictures: could not record the pictures shown ({err.strerror}); will retry"
            )
        self._send_to_outlets(changes, report)
        self._journal = (signature(journal.path), journal)
        return self._done(report, started)

    def _pages_failed(self, report: BuildReport, problem: Problem, started: float) -> BuildReport:
        """A template failed while the pages were made: said, and every page made again next time."""
        report.problems.append(problem)
        self._pages_stale = True
        return self._done(report, started)

    def _fork_painter(self) -> None:
        """The process that draws a one-off cold build's share cards ahead (``_draw_cards_ahead``), forked as the
        build starts reading on every core, while its process is still small."""
        if self._painter is None and self.cards_per_build and usable_cpus() >= 2:
            self._painter = fork_aside(self.cards.draw_ahead)

    def _draw_cards_ahead(self, setup: Setup, now: datetime) -> None:
        """A one-off cold build's share cards for its newest entries (those it will draw: CARDS_PER_BUILD),
        drawn by a process of their own from the moment the workers have read every file: while this one goes
        through what they read, puts the stream in order and works out its pages, a core its workers have left
        idle until they make the pages (handed once the stream was in order, ~0.1 s later, the cards were still
        being drawn as the pages were made). Drawn there, each card was a few milliseconds of the pages' time
        (~0.2 s of CPU at 10,000 entries, Pillow's import included); the pages now find them in
        .countnight/cards/. Only a guess at which cards: one drawn for nothing stays there for a later build, and
        one missed is drawn as before. Once: a later call does nothing."""
        painter, budget = self._painter, self.cards_per_build
        if painter is None or painter.handed:
            return
        rendered = self.read.rendered  # a cold build's entries, read by its workers (see parallel.py)
        if not budget or not rendered:
            painter.hand(None)
            return
        event = setup.event
        order = self.stream.order  # the stream's own keys: kept, its update sorts by them next
        # The newest, then those of them the stream will show (a scheduled entry or a summary is not one)
        views = (view for _, view, _ in rendered.values())
        newest = heapq.nlargest(budget + _AHEAD_SPARE, views, key=lambda view: order(view.entry))
        shown = [view for view in newest if view.entry.kind != "summary" and view.entry.live_at(now)][:budget]
        # (and the blog's, named by the share pages whose own card is still to be drawn)
        wanted = [*(entry_card(view, event) for view in shown), blog_card(event)]
        cards = [card for card in wanted if not self.cards.kept(card.digest)]
        self.cards.drawn_ahead(cards, painter.wait)  # (the folder listed before anything is drawn in it)
        painter.hand(cards)

    def _open_journal(self, report: BuildReport) -> Journal:
        """The journal, read from disk only when someone else has written to it since our last look."""
        path = self.root / STATE_DIR / JOURNAL
        seen = signature(path)
        if self._journal is None or self._journal[0] != seen:
            journal = Journal.open(self.root)
            report.warnings.extend(journal.warnings)
            if self._journal is not None and (lost := journal.absorb(self._journal[1])):
                report.warnings.append(
                    f"{path} and its copy lost {lost} record(s) while this build's process held them; written back"
                )
            if journal.damaged or journal.copy_stale:
                try:
                    journal.mend()
                except OSError as err:
                    report.warnings.append(f"{path}: could not be mended ({err.strerror or err}); will retry")
                seen = signature(path)
            self._journal = (seen, journal)
            self.stream.at = None  # written by someone else: what was withdrawn is worked out afresh
        return self._journal[1]

    def check(self) -> list[Problem]:
        """Validate the config, baseline, theme and every entry without writing anything."""
        return self.check_report().problems

    def check_report(self) -> CheckReport:
        """What ``countnight check`` says: every problem, every warning, and what it looked at."""
        report = BuildReport()
        self.rules.seen_ns = self.read.seen_ns = time.time_ns()
        try:
            setup = self._setup()
        except InputError as err:
            return CheckReport(sorted(err.problems))
        except jinja2.TemplateError as err:
            return CheckReport([_template_problem(err)])
        try:
            self.read.scan(Context(setup.event.window, setup.baseline, self.longest_id), Journal(self.root), report)
        except InputError as err:
            report.problems.extend(err.problems)
        baseline = (setup.event.baseline, len(setup.baseline)) if setup.baseline is not None else None
        return CheckReport(
            sorted(report.problems), [*report.warnings, *report.notices], len(self.read.outcomes), baseline
        )

    def _changes(self, output: Output) -> Changes:
        """What this build hands its outlets: the files made anew, every path, the paths gone. The folder gets
        them so; the live delta is added once the folder has chosen the journal's lines (while the disk syncs)."""
        return Changes(MappingProxyType(output.fresh), output.paths, self._paths)

    def _send_to_outlets(self, changes: Changes, report: BuildReport) -> None:
        """The other outlets, once the folder holds the changes and the journal records them: each gets them
        as bytes, made once here (an outlet queues them and returns; it never holds up the build)."""
        if not self.outlets:
            return
        if not changes.complete:  # only the files whose bytes changed (the folder compared them): not every
            wrote = set(report.written)  # build's live.json and feed, the same as before
            files = {path: content for path, content in changes.files.items() if path in wrote}
            changes = dataclasses.replace(changes, files=MappingProxyType(files))
        if not (changes.files or changes.deleted or changes.live):
            return
        # An outlet that says which files it needs as bytes (``needs``: the live channel, live.json; the object
        # store, none: it reads the folder) gets only those made; the others are read back from the folder, which
        # holds them now, if ever asked for. Making every file (Changes.materialised) rendered every page of a
        # cold build a second time in this process for the channel alone: +0.6 s and +100 MB at 10,000 entries.
        needed: set[str] | None = set()
        for outlet in self.outlets:
            wants = getattr(outlet, "needs", None)
            needed = None if wants is None or needed is None else needed | set(wants)
        out = f"{self.out}/"  # (a Path joined for each of a cold build's 10,000 pages was ~25 ms of it, in series)
        try:
            files = {
                path: content
                if isinstance(content, bytes)
                else content()
                if needed is None or path in needed
                else functools.partial(read_file, out + path)
                for path, content in changes.files.items()
            }
        except jinja2.TemplateError as err:  # pragma: no cover - the folder made the same pages a moment ago
            report.warnings.append(f"outlets: {_template_problem(err).message}")
            return
        ready = dataclasses.replace(changes, files=MappingProxyType(files))
        for outlet in self.outlets:
            try:
                outlet.send(ready)
            except Exception as err:  # an outlet's own failure never stops the build or the other outlets
                report.warnings.append(f"{type(outlet).__name__}: could not take the changes ({err})")

    def _journal_batch(self, journal: Journal, now: datetime) -> _JournalBatch:
        """What the journal must add once the site is out: the versions readers now see and the entries taken
        down, and what the report says of them. Changes nothing (the folder's writer makes it before a file is
        renamed into place)."""
        batch = _JournalBatch()
        at = stamp(now)
        stream = self.stream
        if len(stream.unrecorded) * 8 > len(stream.oldest_first):  # a first build: all of them, in the stream's order
            newest_first = [v.id for v in reversed(stream.oldest_first) if v.id in stream.unrecorded]
        else:  # a few: sorting them beats walking the night
            check = (i for i in stream.unrecorded if i in stream.live)
            newest_first = sorted(check, key=lambda i: stream.order(stream.live[i].entry), reverse=True)
        for ident in newest_first:
            view = stream.live[ident]
            parsed = self.read.parsed.get(f"{ENTRIES}/{ident}.md")
            if parsed is None or parsed.entry is not view.entry:
                continue  # shown from its last good version: already in the journal
            current = journal.current.get(ident)
            if current is not None and current.hash == parsed.digest:
                continue
            batch.records.append(
                Record("shown", ident, at, parsed.digest, parsed.text, f"{ENTRIES}/{ident}.md", self._window)
            )
            batch.published.append(view)
            if current is not None:
                batch.revised.add(ident)
        for ident, why in sorted(stream.removed.items()):
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
        journal.append(batch.records, payload=batch.payload, first=batch.first)
        self.stream.unrecorded = set()  # only once the journal holds them

    def cards_to_draw(self, limit: int) -> list[Card]:
        """The share cards the site as last built waits for (pages.cards_to_draw): a watcher draws them aside."""
        return [] if self._night is None else cards_to_draw(self._night, self._page_cache, self.cards, limit)

    def inputs_seen(self) -> Inputs | None:
        """What the last build was made from, as the signatures it saw (for uptodate.record); None when it
        cannot vouch for them: files held, skipped or rejected, or no build yet."""
        themes = self.rules.theme_signatures
        if self.rules.input_signatures is None or themes is None or self._journal is None or self.stream.at is None:
            return None
        entries = self.read.signatures()
        # Share cards still to draw do not stop the record: a site whose older share pages name the blog's card
        # for now is what readers may be given, and a restart must not become a full build for them (a cold
        # build at 10,000 entries leaves ~9,900 to draw: every restart took 2.8 s, not 0.12 s). A watcher's first
        # build renders every page again and carries on drawing them; a one-off build that is up to date leaves
        # them as they are until its inputs change.
        if entries is None or self.rules.theme_unsure:
            return None
        config, baseline = self.rules.input_signatures
        return Inputs(config, baseline, themes, self._journal[0], entries, [*self.rules.racy, *self.read.unsettled()])

    def _setup(self) -> Setup:
        """The night's rules; when any of them changed, everything read and made from the old ones is forgotten."""
        setup = self.rules.read()
        if setup.key != self._setup_key:  # the night's rules changed: every entry is read anew
            self.read.clear()
            self.stream.views.clear()
            self._page_cache.clear()
            self.stream.at = None
            self._setup_key = setup.key
        return setup

    def _warn_if_lost(self, report: BuildReport) -> None:
        """A broken file whose share page is out, with no last good version in the record: the journal and its
        copy were both lost (a deleted .countnight). Say so loudly: it leaves readers' pages until it is fixed."""
        for display in sorted(self.read.bad):
            outcome = self.read.outcomes[display]
            ident = entry_id(display)
            if not is_id(ident) or len(ident) > self.longest_id:
                continue  # never publishable, so never shown (and its page's name may be too long to ask about)
            page = self.out / share_path(ident)
            if outcome.entry is None and outcome.taken is None and page.is_file():
                report.warnings.append(
                    f"{display}: readers were shown it ({page}) but the record of its last good version is lost "
                    f"(.countnight/{JOURNAL} and its copy damaged or deleted); it leaves the pages until the file "
                    "is fixed"
                )

    def _done(self, report: BuildReport, started: float) -> BuildReport:
        report.problems.sort()
        report.seconds = time.perf_counter() - started
        return report


def _discard_first(made: list[_JournalBatch]) -> None:
    """A first journal written ahead for a site that did not go out (see Journal.write_first): removed."""
    if made and made[0].first is not None:
        made[0].first.discard()


def _live_delta(batch: _JournalBatch, panels: tuple[str, ...], refigured: tuple[str, ...] = ()) -> LiveDelta:
    """What open pages must be told, from the journal's next lines: they name what readers see anew. And the
    entries shown with a picture made anew (replaced under its name: the journal's text is the same)."""
    published = {v.id for v in batch.published}
    return LiveDelta(
        new=tuple(v.id for v in batch.published if v.id not in batch.revised),
        corrected=tuple(v.id for v in batch.published if v.id in batch.revised)
        + tuple(i for i in refigured if i not in published),
        withdrawn=tuple(ident for ident, _ in batch.removed),
        panels=panels,
    )


def _template_problem(err: jinja2.TemplateError) -> Problem:
    return template_problem(err) or Problem("templates", 0, f"template: {err}")
