"""A photo sent with a desk entry: checked by its content as the build will read it, then stored beside the
entry file in ``entries/`` (the maildir way, never replacing a file), named for the entry.

The name a phone gives the file and the type it claims are never trusted: the bytes decide what it is
(picturemake.verify decodes every pixel, so a file cut short in transit is refused here, not at the build),
and the file is stored with the extension of what it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..picturemake import MAX_BYTES, PictureProblem, verify
from .drop import write_new

MAX_PHOTO = 25 * 1024 * 1024  # a phone's photo is 2-15 MB; the request may be this plus the form's 64 KB
# What the content is → the extension it is stored with (a PNG sent as "photo.jpg" is stored as .png).
EXTENSIONS = {"JPEG": "jpg", "MPO": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif", "HEIF": "heic", "AVIF": "avif"}
assert MAX_PHOTO <= MAX_BYTES


@dataclass(frozen=True)
class Photo:
    """An upload that is a picture the build can read: its bytes and the extension of what it is."""

    data: bytes
    extension: str


def check_photo(data: bytes) -> Photo | str:
    """The photo, or what is wrong with it (said after "The photo …")."""
    if not data:
        return "is empty: choose the photo again"
    if len(data) > MAX_PHOTO:
        return f"is {len(data) / 1e6:,.1f} MB: a photo may be at most {MAX_PHOTO // 2**20} MB"
    try:
        found = verify(data)
    except PictureProblem as problem:
        return str(problem)
    except Exception as err:  # a decoder's own failure on a file it should have refused: the same answer
        return f"could not be read ({type(err).__name__}): it may be damaged; choose it again"
    extension = EXTENSIONS.get(found)
    if extension is None:  # pragma: no cover - picturemake opens only the formats listed here
        return f"is a {found} file: send a JPEG, PNG, WebP, GIF, HEIC or AVIF photo"
    return Photo(data, extension)


def store_photo(root: Path, stem: str, photo: Photo) -> str:
    """Put the photo in ``entries/STEM.EXT`` (``STEM-2.EXT`` … if taken); its file name, for ``image:``."""
    return write_new(root, stem, photo.data, suffix=f".{photo.extension}").name
