"""Page assembly: the night's shown entries → ``{path: bytes}`` for every output file. Pure.

The index holds the newest ``page_size`` entries; older pages are numbered from the start of the
night so their addresses never change as entries arrive; every entry also has a page of its own
(``update/ID.html``) to share. The index's side panels (summary, key events, pinned, seats, the
constituencies followed; panels.py) are rendered once and go both into the page and into ``live.json``, so an
open page refreshes them without a reload.
"""

from __future__ import annotations

import functools
import hashlib
import operator
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from .changes import Content
from .clock import show_time
from .feeds import atom, describe, json_ld, page_url, share_json_ld, share_path, site_url
from .frames import Frame, frame
from .jsonfiles import live_json, results_json
from .night import INDEX, Night, Panel
from .pagecache import PageCache, Paging
from .panels import PANELS, panel_sources, panels_of
from .render import Theme, render_template
from .results_page import render_results_page, result_rows
from .sharecards import Card, CardBudget, CardStore, blog_card, entry_card, night_card
from .views import EntryView

_ID = operator.attrgetter("id")


@dataclass(frozen=True)
class Output:
    """A build's pages: those made anew (bytes, or how to make them: the writer makes them where it writes
    them, on every core when there are many), and the name of every file the site holds."""

    fresh: dict[str, Content]
    paths: set[str]
    panels: tuple[str, ...] = ()  # the index's panels made from changed inputs (pages.PANELS order)
    cards_pending: int = 0  # cards to draw: share pages naming the blog's, and the night's (see CardBudget)


def page_name(number: int) -> str:
    return f"page/{number}.html"


def page_number(page: str) -> int:
    """The number of an older page from its name (the inverse of :func:`page_name`)."""
    return int(page.removeprefix("page/").removesuffix(".html"))


def paginate(night: Night, previous: Paging | None = None) -> Paging:
    """The newest ``page_size`` for the index; the rest in pages numbered from the oldest entry.

    Page k always holds the k-th ``page_size`` entries of the night counted from its start, so an
    entry's older-page address does not change as new entries arrive. Given the ``previous`` paging,
    only the pages whose entries changed are looked at again (a new entry changes the index and the
    newest older page; comparing the rest is a pointer comparison per entry).
    """
    size = night.event.page_size
    front = list(night.shown[:size])
    rest = night.shown[size:][::-1]  # oldest first
    older = [rest[i : i + size][::-1] for i in range(0, len(rest), size)]
    if previous is None:
        where = {v.id: INDEX for v in front}
        for number, views in enumerate(older, 1):
            where.update((v.id, page_name(number)) for v in views)
        return Paging(front, older, where)
    where = dict(previous.where)
    moved: set[str] = set()
    pairs = [(INDEX, front, previous.front)]
    pairs += [
        (page_name(number), views, previous.older[number - 1] if number <= len(previous.older) else [])
        for number, views in enumerate(older, 1)
    ]
    gone = enumerate(previous.older[len(older) :], len(older) + 1)  # pages the night no longer fills
    pairs += [(page_name(number), [], views) for number, views in gone]
    changed = [(page, views, before) for page, views, before in pairs if not _same_views(views, before)]
    for page, views, before in changed:
        for view in before:
            if where.get(view.id) == page:
                del where[view.id]
            moved.add(view.id)
        moved.update(v.id for v in views)
    for page, views, _ in changed:
        where.update((v.id, page) for v in views)
    return Paging(front, older, where, moved, {page for page, _, _ in changed})


def _same_views(a: Sequence[EntryView], b: Sequence[EntryView]) -> bool:
    """The very same view objects in the same order (a view is replaced whenever its entry changes)."""
    return len(a) == len(b) and all(map(operator.is_, a, b))


def _older_fragment(html: str) -> str:
    # Fragments are rendered for the site's root (the index, live.json); older pages sit one folder down.
    html = html.replace('class="entry__share" href="', 'class="entry__share" href="../')
    if _MEDIA_MARK in html:  # a picture's files (partials/figure.html): every address in its src and srcset
        html = _MEDIA_ATTRIBUTE.sub(_one_folder_down, html)
    return html


_MEDIA_MARK = 'class="entry__figure"'
_MEDIA_ATTRIBUTE = re.compile(r'(\s(?:src|srcset)=")(media/[^"]*)"')


def _one_folder_down(match: re.Match[str]) -> str:
    """src="media/a.jpg" or srcset="media/a 480w, media/b 960w", each address one folder up."""
    addresses = ", ".join(f"../{item}" for item in match[2].split(", "))
    return f'{match[1]}{addresses}"'


def _first_eager(fragments: dict[str, Markup]) -> dict[str, Markup]:
    """A picture in the page's newest entry loads at once: it is in view when the page opens (lazy loading would
    wait for layout). Every picture below it stays lazy."""
    for ident, html in list(fragments.items())[:1]:
        if _LAZY in html:
            fragments[ident] = Markup(html.replace(_LAZY, "", 1))
            break
    return fragments


_LAZY = ' loading="lazy"'


def _read_made(source: str) -> bytes:
    with open(source, "rb") as handle:
        return handle.read()


def _span(night: Night, views: Sequence[EntryView]) -> str:
    zone = night.event.timezone
    first, last = views[-1].entry.time, views[0].entry.time
    return f"{show_time(first, zone)} to {show_time(last, zone)}"


def _name_card(work: PageCache, cards: CardBudget, view: EntryView, night: Night, fallback: Card) -> Card:
    """The card an entry's share page names: its own, or the blog's until its own is drawn."""
    ident = view.id
    card = fallback if cards.spent() else entry_card(view, night.event)
    if card is not fallback and cards.own(card):
        work.cards[ident] = card.path
        work.made_cards.append(card)
        work.pending.discard(ident)
        return card
    work.cards.pop(ident, None)
    work.pending.add(ident)
    return fallback


def render_pages(theme: Theme, night: Night, cards: CardStore | None = None) -> dict[str, bytes]:
    """Every output file of the night, made from nothing (what ``render_changes`` must always agree with)."""
    fresh = render_changes(theme, night, PageCache(), cards).fresh
    return {path: content() if callable(content) else content for path, content in fresh.items()}


def render_changes(
    theme: Theme,
    night: Night,
    work: PageCache,
    cards: CardStore | None = None,
    budget: int | None = None,
    name_kept: int = 0,
) -> Output:
    """The night's output files, rendering only those whose inputs changed since ``work`` was made.

    ``work`` is a working copy of the build's cache, updated here; the caller commits it once the files
    are written. Files it says are unchanged are not in ``fresh``; ``paths`` names every file. ``cards``: where
    share cards are kept once drawn (None: drawn every time they are made); ``budget``: how many cards never
    drawn before this build may draw (None: every one; see CardBudget); ``name_kept``: with none to draw, how
    many share pages still naming the blog's card to name their own, found drawn in ``cards`` (cardpainter.py).
    """
    setting = _setting(theme, night)
    if setting != work.setting:  # the theme, the event or "ended" changed: every page is made anew
        work.clear()
        work.setting = setting
    previous = work.paging
    paging = paginate(night, previous)
    fresh: dict[str, Content] = {path: data for path, data in theme.assets.values()}
    # The results as they are and where each is (the same view objects mean the same figures): the scoreboard,
    # the follow list, results.html and results.json are made again only when this changes.
    results_key = (tuple(night.results), tuple(map(paging.where.get, map(_ID, night.results))))

    @functools.cache
    def panels() -> dict[str, Panel]:
        # Made where index.html and live.json are (both in the writer's first span: a cold build makes them
        # while a worker makes share pages, not before the workers start): the follow list alone is 2,571 rows.
        return panels_of(theme, night, paging.where, setting, results_key, work.fragments, paging.moved)

    event = night.event
    ended = night.ended
    count = len(paging.older)
    # The share cards the previous build published: the entries', the night's (the index's and results.html's)
    # and the blog's (named by share pages whose own card is not drawn yet).
    shown_card = work.pages.get("night card")  # the night's card as the previous build published it
    last_card = shown_card if isinstance(shown_card, Card) else None
    published = {*work.cards.values(), last_card.path if last_card else None, work.pages.get("blog card")}
    chosen = CardBudget(cards if cards is not None else CardStore(None), published, budget)
    card = night_card(event, night.scoreboard, ended)
    night_waits = chosen.left == 0 and last_card is not None and not chosen.own(card)
    if night_waits and last_card is not None:  # the tally changed: out now with the card as it was, the new one
        card = last_card  # drawn by the next build
    fallback = blog_card(event)

    def index() -> bytes:
        return render_template(
            theme,
            "index.html",
            event=event,
            ended=ended,
            panels=panels(),
            entries=paging.front,
            fragments=_first_eager({v.id: Markup(night.fragments[v.id]) for v in paging.front}),
            json_ld=json_ld(night, paging.front, INDEX, paging.where),
            canonical=page_url(event, INDEX, INDEX),
            og_image=page_url(event, INDEX, card.path),
            og_image_alt=card.alt,
            page=INDEX,
            root="",
            newer=None,
            older=page_name(count) if count else None,
        ).encode()

    fresh[INDEX] = index
    # The shown entries' pictures: a made file's name is its content's, so one the folder already holds from
    # this cache's builds is never read again; only new ones go in ``fresh`` (read from .countnight/ as written).
    for path, source in night.media.items():
        if path not in work.media:
            fresh[path] = functools.partial(_read_made, source)
    work.media = frozenset(night.media)
    paths = set(fresh)
    paths |= work.media
    paths.update(page_name(number) for number in range(1, count + 1))
    if paging.pages_changed is None or previous is None:
        numbers: Iterable[int] = range(1, count + 1)
    else:  # the pages whose entries changed, and the last two (whose "newer" links change with the count)
        numbers = {page_number(page) for page in paging.pages_changed if page != INDEX}
        numbers |= {count, len(previous.older), count - 1}
    for number in sorted(n for n in numbers if 1 <= n <= count):
        # An older page changes only when its own entries do (or the last one's "newer" link): at 10,000
        # entries that is one page of 500 per new entry.
        path, views = page_name(number), paging.older[number - 1]
        key = (number == count, views)
        if work.pages.get(path) != key:
            fresh[path] = functools.partial(_older_page, theme, night, paging, path, views, number, count)
            work.pages[path] = key
    fresh.update(_share_pages(theme, night, paging, work, chosen, fallback))
    if work.pending and (chosen.left != 0 or name_kept):
        fresh.update(_catch_up(theme, night, paging, work, chosen, fallback, name_kept or None))
    paths |= work.share_paths
    # Each card is made where it is written (a cold build: on every core), once, under a name no other card has;
    # a card no page names any more is left out of ``paths``, so it goes with the build's other deleted files.
    made_cards = [card, *work.made_cards, *([fallback] if work.pending else [])]
    for path, made in {c.path: c for c in made_cards}.items():
        if path not in published:
            fresh[path] = functools.partial(chosen.store.png, made)
    work.made_cards = []
    work.pages["night card"] = card
    work.pages["blog card"] = fallback.path if work.pending else None
    paths.update(work.cards.values())
    paths.update({card.path, fallback.path} if work.pending else {card.path})
    fresh["live.json"] = lambda: live_json(night, theme, panels())
    if work.pages.get("results") != (results_key, card.path):

        def results_page() -> bytes:
            # Made where it is written, like the older and share pages (a cold build: in a worker, where
            # the rows it keeps in ``work`` are lost with the worker; a later build would make them again).
            rows = result_rows(theme, night, paging.where, work.fragments, setting, paging.moved)
            return render_results_page(theme, night, rows, work.fragments, card)

        fresh["results.html"] = results_page
        work.pages["results"] = (results_key, card.path)
    if work.pages.get("results.json") != results_key[0]:  # it links to no page: only the results matter
        fresh["results.json"] = functools.partial(results_json, night)
        work.pages["results.json"] = results_key[0]
    fresh["atom.xml"] = atom(night, night.fragments)
    # The panels whose sources changed since the pages this cache holds (for the live delta; made again
    # here rather than kept from panels_of, which may run in a cold build's worker).
    sources = {name: (setting, made) for name, made in panel_sources(theme, night, paging.where, results_key).items()}
    before = work.pages.get("panels")
    panels_changed = tuple(n for n in PANELS if not isinstance(before, dict) or before.get(n) != sources[n])
    work.pages["panels"] = sources
    paths.update(("live.json", "results.json", "results.html", "atom.xml"))
    for number in range(count + 1, len(previous.older) + 1 if previous is not None else 0):
        work.pages.pop(page_name(number), None)  # pages the night no longer fills (entries withdrawn)
    work.paging = paging
    return Output(fresh, paths, panels_changed, len(work.pending) + night_waits)


def _setting(theme: Theme, night: Night) -> str:
    """What every cached page depends on besides its own entries: the theme, the event, whether it ended."""
    event = night.event
    return hashlib.sha256(f"{theme.fingerprint}{event!r}{night.ended}".encode()).hexdigest()


def _older_page(
    theme: Theme, night: Night, paging: Paging, path: str, views: list[EntryView], number: int, count: int
) -> bytes:
    fragments = {v.id: Markup(_older_fragment(night.fragments[v.id])) for v in views}
    return render_template(
        theme,
        "page.html",
        event=night.event,
        ended=night.ended,
        entries=views,
        fragments=fragments,
        json_ld=json_ld(night, views, path, paging.where),
        page=path,
        root="../",
        number=number,
        span=_span(night, views),
        newer=f"../{INDEX}" if number == count else f"{number + 1}.html",
        older=f"{number - 1}.html" if number > 1 else None,
    ).encode()


def _share_pages(
    theme: Theme, night: Night, paging: Paging, work: PageCache, cards: CardBudget, fallback: Card
) -> dict[str, Content]:
    """The share pages that changed: those of changed entries and of entries that moved page.

    Without that knowledge (a first build, a new setting) every shown entry's page is looked at.
    """
    if night.changed is None or paging.moved is None:
        shown = {v.id: v for v in night.shown}
        paths = {share_path(ident) for ident in shown}
        for gone in work.share_paths - paths:
            work.pages.pop(gone, None)
        work.share_paths = paths
        work.cards = {ident: path for ident, path in work.cards.items() if ident in shown}
        work.pending &= shown.keys()
    else:
        candidates = set(night.changed) | paging.moved
        shown = {ident: view for ident in candidates if (view := _find(paging, ident)) is not None}
        for ident in candidates - shown.keys():  # no longer shown: its page goes
            work.share_paths.discard(share_path(ident))
            work.pages.pop(share_path(ident), None)
            work.cards.pop(ident, None)
            work.pending.discard(ident)
    jobs: list[tuple[str, EntryView, str, Card]] = []
    for ident, view in shown.items():
        path = share_path(ident)
        work.share_paths.add(path)
        where = paging.where.get(ident, INDEX)
        key = (view, where)
        if work.pages.get(path) != key:
            jobs.append((path, view, where, _name_card(work, cards, view, night, fallback)))
            work.pages[path] = key
    return _share_jobs(theme, night, jobs)


def _share_jobs(theme: Theme, night: Night, jobs: list[tuple[str, EntryView, str, Card]]) -> dict[str, Content]:
    """The share pages to make (path, view, where, card), in share.html's frame when there are enough of them to
    pay for rendering it (a watcher's save makes one or two)."""
    framed = share_frame(theme, night) if len(jobs) >= _FRAMED_MIN else None
    return {
        path: functools.partial(share_page, theme, night, view, where, card, framed) for path, view, where, card in jobs
    }


def _catch_up(
    theme: Theme,
    night: Night,
    paging: Paging,
    work: PageCache,
    cards: CardBudget,
    fallback: Card,
    limit: int | None = None,
) -> dict[str, Content]:
    """The share pages of entries still waiting for their card that this build can draw or finds drawn, newest
    first, made again to name it: up to the first it can do neither for. With a ``limit``, up to that many, past
    as many it cannot (entries saved since the cards were handed to be drawn aside: cardpainter.py)."""
    jobs: list[tuple[str, EntryView, str, Card]] = []
    misses = 0
    for view in night.shown:
        if not work.pending or len(jobs) == limit:
            break
        if view.id not in work.pending:
            continue
        card = _name_card(work, cards, view, night, fallback)
        if card is fallback:
            misses += 1
            if limit is None or misses > limit:
                break
            continue
        path, where = share_path(view.id), paging.where.get(view.id, INDEX)
        jobs.append((path, view, where, card))
        work.pages[path] = (view, where)
    return _share_jobs(theme, night, jobs)


def cards_to_draw(night: Night, work: PageCache, store: CardStore, limit: int) -> list[Card]:
    """The share cards the site waits for, not yet in ``store``, at most ``limit``: the night's card, if its
    pages still name the one before, then the cards of share pages naming the blog's, newest entries first
    (the order a build names them in: ``_catch_up``)."""
    wanted: list[Card] = []
    card = night_card(night.event, night.scoreboard, night.ended)
    if work.pages.get("night card") not in (None, card) and not store.kept(card.digest):
        wanted.append(card)
    left = len(work.pending)
    for view in night.shown:
        if left == 0 or len(wanted) >= limit:
            break
        if view.id in work.pending:
            left -= 1
            card = entry_card(view, night.event)
            if not store.kept(card.digest):
                wanted.append(card)
    return wanted[:limit]


def _find(paging: Paging, ident: str) -> EntryView | None:
    """The shown view with this id, found through the page that holds it."""
    page = paging.where.get(ident)
    if page is None:
        return None
    views = paging.front if page == INDEX else paging.older[page_number(page) - 1]
    return next((v for v in views if v.id == ident), None)


def _promote_headline(html: str, ident: str) -> str:
    """The entry's headline as the page's h1 (its own page has no other); unchanged if a theme's differs."""
    opening = f'<h3 id="{escape(ident)}-h" class="entry__title">'
    start = html.find(opening)
    end = html.find("</h3>", start)
    if start < 0 or end < 0:
        return html
    return f"{html[:start]}<h1{opening[3:]}{html[start + len(opening) : end]}</h1>{html[end + 5 :]}"


_FRAMED_MIN = 8  # share pages a build makes from which share.html's frame (one render more) pays for itself

# What each share page gives share.html of its own; the rest (the event, whether it ended, the way up to the
# site's root) is the same on every share page of a build, and frames.py renders it once.
_SHARE_OWN = frozenset(
    ("e", "article", "description", "canonical", "og_image", "og_image_alt", "json_ld", "where", "page")
)


def share_frame(theme: Theme, night: Night) -> Frame | None:
    """share.html rendered once for this build's share pages, around the blocks that differ from page to page
    (None: the theme's share.html cannot be split so; each page is rendered whole)."""
    return frame(theme, "share.html", {"event": night.event, "ended": night.ended, "root": "../"}, _SHARE_OWN)


def share_page(
    theme: Theme, night: Night, view: EntryView, where: str, card: Card | None = None, framed: Frame | None = None
) -> bytes:
    """An entry's own page, with the title, description and cards that links to it show.

    It reuses the entry's fragment (rendering Markdown again for every entry would dominate a big
    night's build), moved one folder down and with its headline as the h1. ``framed``: ``share_frame``'s, for
    this build (the same page, made in two fifths less time).
    """
    path = share_path(view.id)
    article = _promote_headline(_older_fragment(night.fragments[view.id]), view.id).replace(_LAZY, "", 1)
    own = {
        "e": view,
        "article": Markup(article),
        "description": describe(view),
        "canonical": site_url(night.event, path) if night.event.base_url else None,
        "og_image": page_url(night.event, path, card.path) if card is not None else None,
        "og_image_alt": card.alt if card is not None else None,
        "json_ld": share_json_ld(night, view, path),
        "where": where,
        "page": path,
    }
    if framed is not None:
        return framed.render(**own).encode()
    return render_template(theme, "share.html", event=night.event, ended=night.ended, root="../", **own).encode()
