"""What a build hands on to the places it publishes to (its outlets): one list of changes.

A build returns ``Changes``: the files it made anew (with their bytes), every path the site now holds, the
paths it no longer holds, and the live delta (the entries readers see for the first time, those corrected,
those taken down, and the index's panels whose inputs changed). An ``Outlet`` takes them: the folder
(folder.py) first, then any others a caller plugs in (an object store, a push channel). Each outlet orders
its own work with ``write_order`` (assets before the pages that name them, ``live.json`` and ``index.html``
last, deletions after everything) and never reaches back into the build's state: everything it needs is here.
docs/architecture.md says how to write one.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Protocol

Content = bytes | Callable[[], bytes]  # a file's bytes, or how to make them (rendered where it is staged)


def write_order(path: str) -> tuple[int, str]:
    """The order files go out in: assets (and made pictures and share cards) first, then pages, then ``live.json``
    (what open pages poll) and ``index.html`` last, so no published file ever names one that is not out yet."""
    if path.startswith(("assets/", "media/", "cards/")):  # the theme's files, the made pictures, the share cards
        return (0, path)
    if path.startswith(("page/", "update/")):  # before the feed and the results, which name them
        return (1, path)
    if path == "live.json":
        return (3, path)
    if path == "index.html":
        return (4, path)
    return (2, path)


@dataclass(frozen=True)
class LiveDelta:
    """What open pages must be told: the ids in each list newest first, the panels by name (pages.PANELS)."""

    new: tuple[str, ...] = ()  # shown for the first time
    corrected: tuple[str, ...] = ()  # a version readers saw, replaced
    withdrawn: tuple[str, ...] = ()  # taken off readers' pages: withdrawn, deleted or back to draft
    panels: tuple[str, ...] = ()  # the index's panels made from changed inputs (their HTML is in live.json)

    def __bool__(self) -> bool:
        return bool(self.new or self.corrected or self.withdrawn or self.panels)


@dataclass(frozen=True)
class Changes:
    """One build's changes. ``files`` holds what was made anew: an outlet that gets them from ``Site`` gets
    the bytes the build held, and for the pages a cold build's workers made, a function that reads them back
    from the folder (``bytes_of`` calls it); the folder gets the build's own, where a cold build's thousands of pages
    are still functions that its workers call as they write them, and gets them before ``live`` is known
    (the journal's lines, which say it, are chosen while the disk syncs the folder's files: that wait is
    otherwise idle). The build's report and every other outlet get the complete changes.

    ``paths`` and ``previous`` are read-only: the build made them for this build and the one before, and
    they are not copied (10,000 paths are a millisecond of a build that takes thirty).
    """

    files: Mapping[str, Content] = field(default_factory=lambda: MappingProxyType({}))
    paths: AbstractSet[str] = frozenset()
    # every path the previous build of this process published; None: there was none to compare with (its
    # first build, or one after a failed write)
    previous: AbstractSet[str] | None = field(default=None, repr=False)
    live: LiveDelta = LiveDelta()

    @property
    def complete(self) -> bool:
        """No previous build to compare with: ``deleted`` is empty, and an outlet removes whatever it holds
        beyond ``paths`` itself."""
        return self.previous is None

    @functools.cached_property
    def deleted(self) -> frozenset[str]:
        """The paths the previous build published and this one does not (worked out when first asked: the
        folder, which works them out itself, never asks)."""
        return frozenset(self.previous - self.paths) if self.previous is not None else frozenset()

    def ordered(self) -> list[str]:
        """The paths of ``files`` in the order they go out (``write_order``); deletions come after them."""
        return sorted(self.files, key=write_order)

    def bytes_of(self, path: str) -> bytes:
        """A new file's bytes (made now if the build left it as a function)."""
        content = self.files[path]
        return content if isinstance(content, bytes) else content()

    def materialised(self) -> Changes:
        """The same changes with every new file as bytes, made in this thread, in ``write_order``, and the
        paths as frozen sets of their own."""
        files = {path: self.bytes_of(path) for path in self.ordered()}
        previous = frozenset(self.previous) if self.previous is not None else None
        return Changes(MappingProxyType(files), frozenset(self.paths), previous, self.live)


class Outlet(Protocol):
    """A place a build publishes to. ``send`` is called once per build that changed anything, in build order,
    from the build's thread, after the folder holds the changes: it must return quickly (queue the work, do it in a
    thread of its own) so a slow or unreachable store never holds up the next build, and it must not raise
    for its own failures (it retries, and catches up from the next changes, which name every path).

    An outlet may say which files it needs as bytes with a ``needs`` attribute (a set of paths): the others
    are then not made for it, only read back from the folder if asked. Without it, every file is made."""

    def send(self, changes: Changes) -> None: ...
