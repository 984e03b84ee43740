"""A picture as the page shows it: its made files (renditions), their sizes, and the words around it.

Made by pictures.py from a reporter's file and its ``image`` field; rendered by the theme's
``partials/figure.html`` as ``<figure><picture>…</picture><figcaption>``. Pure data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .models import Picture

# What the browser is told of each format, best first: it takes the first <source> it can show.
MIME = {"avif": "image/avif", "webp": "image/webp", "jpeg": "image/jpeg"}
MEDIA = "media"  # the output folder's folder of made pictures (content-hashed names)
# How wide a picture is drawn: the stream's column, most of the screen on a phone (style.css: .entry__figure).
SIZES = "(min-width: 60rem) 44rem, calc(100vw - 2rem)"


@dataclass(frozen=True)
class Rendition:
    """One made file: ``media/NAME.<10 hex>.EXT``, its format (MIME key) and pixel size."""

    path: str
    format: str
    width: int
    height: int
    size: int = 0  # bytes


@dataclass(frozen=True)
class MadePicture:
    """A picture made (pictures.py): the digest of the reporter's file, its renditions, and the folder of
    ``.countnight/pictures`` their bytes are kept in."""

    digest: str
    renditions: tuple[Rendition, ...]
    folder: str
    notes: tuple[str, ...] = ()  # how it was read, worth a look (an animation: its first frame)

    def source(self, rendition: Rendition) -> str:
        """Where a rendition's bytes are kept: ``media/<digest 12>-NAME`` is ``NAME`` in the picture's folder."""
        return f"{self.folder}/{rendition.path.rpartition('/')[2].split('-', 1)[1]}"


@dataclass(frozen=True)
class Figure:
    """One picture of an entry, ready to render: the entry's words for it and the files made of it."""

    alt: str
    caption: str | None
    credit: str | None
    made: MadePicture

    @property
    def renditions(self) -> tuple[Rendition, ...]:
        return self.made.renditions

    def srcset(self, fmt: str) -> str:
        """``media/a.480.….webp 480w, media/a.960.….webp 960w`` for one format, narrowest first."""
        return ", ".join(f"{r.path} {r.width}w" for r in sorted(self.of(fmt), key=lambda r: r.width))

    def of(self, fmt: str) -> list[Rendition]:
        return [r for r in self.renditions if r.format == fmt]

    @property
    def sources(self) -> list[tuple[str, str]]:
        """(MIME type, srcset) of each format besides the fallback's, best first."""
        return [(MIME[fmt], self.srcset(fmt)) for fmt in ("avif", "webp") if self.of(fmt)]

    @property
    def fallback(self) -> Rendition:
        """The ``<img src>``: the widest JPEG (every browser shows it; its width and height keep the layout)."""
        jpegs = self.of("jpeg") or list(self.renditions)
        return max(jpegs, key=lambda r: r.width)

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(r.path for r in self.renditions)


def figures_of(pictures: Sequence[Picture], made: Sequence[MadePicture]) -> tuple[Figure, ...]:
    """An entry's pictures (its words) with the files made of them, in order; none unless every one is made."""
    if len(pictures) != len(made):
        return ()
    return tuple(Figure(p.alt, p.caption, p.credit, m) for p, m in zip(pictures, made, strict=True))
