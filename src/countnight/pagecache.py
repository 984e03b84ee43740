"""The pages part of the build's state: what the previous build made each output file from, so that the next
renders only the pages whose inputs changed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .sharecards import Card
from .views import EntryView


@dataclass(frozen=True)
class Paging:
    """Which entries go on which page."""

    front: list[EntryView]  # the index: the newest page_size, newest first
    older: list[list[EntryView]]  # older[0] is page 1, the start of the night; each newest first
    where: dict[str, str]  # entry id → the page that holds it ("index.html", "page/3.html")
    moved: set[str] | None = None  # ids whose page may differ from the previous paging's; None: all
    pages_changed: set[str] | None = None  # pages whose entries differ from the previous paging's; None: all


Fragments = dict[str, tuple[object, Any]]  # name → (what it was made from, the panel or rows made)


@dataclass
class PageCache:
    """What the previous build made each output file from, so the next renders only what changed.

    It keeps digests, not bytes (10,000 share pages were most of a watcher's memory): a page whose key
    is unchanged is known to be on disk as published. ``render_changes`` fills a working copy; the build
    calls ``commit`` once the files are written, so a failed write never leaves a page marked done.
    """

    pages: dict[str, object] = field(default_factory=dict)  # path → what it was made from
    paging: Paging | None = None
    setting: str = ""
    share_paths: set[str] = field(default_factory=set)  # the share pages the site holds
    fragments: Fragments = field(default_factory=dict)  # panels, the follow list and results rows (see _fragment)
    media: frozenset[str] = frozenset()  # the made pictures the site holds (media/…: a name never changes bytes)
    cards: dict[str, str] = field(default_factory=dict)  # entry id → the path of its share page's card
    made_cards: list[Card] = field(default_factory=list)  # the cards of the share pages made in this build
    pending: set[str] = field(default_factory=set)  # entry ids whose share page names the blog's card for now

    def clear(self) -> None:
        self.media = frozenset()
        self.pages.clear()
        self.paging = None
        self.setting = ""
        self.share_paths.clear()
        self.fragments.clear()
        self.cards.clear()
        self.pending.clear()

    def working_copy(self) -> PageCache:
        return PageCache(
            dict(self.pages),
            self.paging,
            self.setting,
            set(self.share_paths),
            self.fragments,
            self.media,
            cards=dict(self.cards),
            pending=set(self.pending),
        )

    def commit(self, work: PageCache) -> None:
        self.pages, self.paging, self.setting, self.media = work.pages, work.paging, work.setting, work.media
        self.share_paths = work.share_paths
        self.cards = work.cards
        self.pending = work.pending
