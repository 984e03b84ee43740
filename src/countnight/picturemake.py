"""A reporter's picture file → the files readers get: turned upright, in sRGB, every metadata block left
behind, in a few widths as AVIF (where this Pillow has it), WebP and JPEG. Pure: bytes in, bytes out.

What a phone writes into a photo (EXIF with GPS, the maker's notes, XMP, IPTC, comments, thumbnails) never
reaches a reader: each made file is encoded from pixels alone, with no ``exif``, ``icc_profile``, ``xmp`` or
comment given to the encoder and the decoded image's ``info`` emptied first (Pillow's encoders copy some of it
by themselves). Colours are converted to sRGB, which a browser assumes of a file without a profile.

Read by its content, never by its name: a PNG named ``.jpg`` is a PNG. Refused, each with its reason: what
is not a picture (an SVG above all: it is a document that can carry scripts), a file cut short, a
decompression bomb (more than ``MAX_PIXELS``), a side longer than ``MAX_SIDE``. An animated GIF or WebP gives
its first frame. Runs in the picture workers (pictures.py), and in the desk to check an upload.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageCms, ImageFile, ImageOps, features

from .names import MAX_PICTURE_BYTES

try:  # HEIC and HEIF, as iPhones take them: pillow-heif registers itself as one of Pillow's openers
    from pillow_heif import register_heif_opener

    register_heif_opener()
    HEIF = True
except ImportError:  # pragma: no cover - pillow-heif is a dependency; without it HEIC is "not a picture"
    HEIF = False

WIDTHS = (480, 960, 1440)  # the made widths (a narrower original is made at its own width, never enlarged)
MAX_PIXELS = 50_000_000  # a 50-megapixel sensor's photo is the largest a count sees; beyond, a decompression bomb
MAX_SIDE = 20_000  # pixels: a panorama wider than this is refused (its narrowest width would be a sliver)
MAX_BYTES = MAX_PICTURE_BYTES
# What the decoders may open, by content: a format not listed here is "not a picture countnight reads".
FORMATS = ("JPEG", "MPO", "PNG", "WEBP", "GIF", "AVIF", "HEIF")
QUALITY = {"jpeg": 82, "webp": 80, "avif": 55}
ImageFile.LOAD_TRUNCATED_IMAGES = False  # a file cut short is an error, never half a photo in grey


class PictureProblem(ValueError):
    """What is wrong with a picture file, in words for the reporter (the entry's FILE:LINE comes before it)."""


@dataclass(frozen=True)
class Made:
    """The files made from one picture: (name, format, width, height, bytes), and how it was read."""

    width: int
    height: int
    files: tuple[tuple[str, str, int, int, bytes], ...]
    read_as: str  # the format its content is (what the name said does not matter)
    notes: tuple[str, ...] = ()


def formats() -> tuple[str, ...]:
    """The formats made, best first: AVIF only where this Pillow can write it."""
    return ("avif", "webp", "jpeg") if features.check("avif") else ("webp", "jpeg")


def sniff(head: bytes) -> str | None:
    """Why the first bytes of a file are refused before any decoder sees them (an SVG, HTML, a PDF), or None."""
    start = head[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if start.startswith((b"<?xml", b"<svg", b"<!doctype", b"<html", b"<!--")) or b"<svg" in start:
        return (
            "is an SVG or another text document, not a photo: SVG is refused (it can carry scripts); "
            "export it as PNG or JPEG"
        )
    if start.startswith(b"%pdf"):
        return "is a PDF, not a picture: export the page as JPEG or PNG"
    return None


def open_checked(data: bytes) -> Image.Image:
    """The picture in ``data``, opened (its header read, its pixels not yet), or PictureProblem saying why not."""
    why = sniff(data)
    if why is not None:
        raise PictureProblem(why)
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # Pillow refuses twice this as it opens; above it, the size check below
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # said below, with the size
            image = Image.open(io.BytesIO(data), formats=_openers())
    except Image.DecompressionBombError:
        raise PictureProblem(_bomb()) from None
    except Image.UnidentifiedImageError:
        raise PictureProblem(
            "is not a picture countnight can read (JPEG, PNG, WebP, GIF, HEIC or AVIF), or its start is damaged"
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError) as err:
        raise PictureProblem(_unreadable(err)) from None
    width, height = image.size
    if width > MAX_SIDE or height > MAX_SIDE:
        raise PictureProblem(
            f"is {width:,} × {height:,} pixels: a side may be at most {MAX_SIDE:,} (resize it, or crop the panorama)"
        )
    if width * height > MAX_PIXELS:
        raise PictureProblem(_bomb(width, height))
    if width < 1 or height < 1:
        raise PictureProblem("has no pixels")
    return image


def _openers() -> list[str]:
    """FORMATS that this Pillow can open (AVIF needs a Pillow built with libavif)."""
    Image.init()
    return [name for name in FORMATS if name in Image.OPEN]


def _bomb(width: int = 0, height: int = 0) -> str:
    size = f" ({width:,} × {height:,})" if width else ""
    return (
        f"has more than {MAX_PIXELS // 1_000_000} million pixels{size}: refused as a possible decompression bomb "
        "(resize it first)"
    )


def make(data: bytes) -> Made:
    """Every file readers get of the picture in ``data``; PictureProblem when it cannot be made."""
    if len(data) > MAX_BYTES:
        raise PictureProblem(f"is {len(data) / 1e6:,.1f} MB: a picture must be under {MAX_BYTES // 2**20} MB")
    image = open_checked(data)
    read_as = image.format or "?"
    notes: list[str] = []
    if getattr(image, "n_frames", 1) > 1:
        notes.append("is an animation: its first frame is shown")
    if image.format in ("JPEG", "MPO"):  # decode at a half, quarter or eighth where that is still wide enough
        image.draft(image.mode, (WIDTHS[-1], WIDTHS[-1]))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image.load()
            upright = ImageOps.exif_transpose(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PictureProblem(_bomb(*image.size)) from None
    except (OSError, SyntaxError, ValueError, EOFError) as err:
        raise PictureProblem(_unreadable(err)) from None
    rgb = _srgb(upright if upright is not None else image)
    width, height = rgb.size
    files: list[tuple[str, str, int, int, bytes]] = []
    widths = sorted({min(w, width) for w in WIDTHS})
    for target in reversed(widths):  # widest first, each made from the one before (the cheaper reduction)
        scaled = (
            rgb
            if target == rgb.width
            else rgb.resize(
                (target, max(1, round(height * target / width))), Image.Resampling.LANCZOS, reducing_gap=3.0
            )
        )
        scaled.info = {}  # nothing of the original's info (EXIF, ICC, XMP, comments) reaches an encoder
        for fmt in formats():
            encoded = _encode(scaled, fmt)
            tag = hashlib.sha256(encoded).hexdigest()[:10]
            ext = "jpg" if fmt == "jpeg" else fmt
            files.append((f"{target}.{tag}.{ext}", fmt, scaled.width, scaled.height, encoded))
        rgb = scaled
    return Made(width, height, tuple(files), read_as, tuple(notes))


_SRGB = None


def _srgb(image: Image.Image) -> Image.Image:
    """The picture as 8-bit RGB in sRGB: its own colour profile converted (a CMYK JPEG's, a phone's Display P3),
    transparency laid on white (JPEG has none), everything else (palette, grey, 16-bit) converted."""
    global _SRGB
    icc = image.info.get("icc_profile")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, rgba)
    if icc:
        try:
            if _SRGB is None:
                _SRGB = ImageCms.createProfile("sRGB")
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            mode = image.mode if image.mode in ("RGB", "CMYK", "L") else "RGB"
            converted = ImageCms.profileToProfile(
                image if image.mode == mode else image.convert(mode), source, _SRGB, outputMode="RGB"
            )
            if converted is not None:
                return converted
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            pass  # a broken profile: the plain conversion below (colours a little off, never an error)
    return image if image.mode == "RGB" else image.convert("RGB")


def _encode(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    if fmt == "jpeg":
        image.save(out, "JPEG", quality=QUALITY["jpeg"], optimize=True, progressive=True)
    elif fmt == "webp":
        image.save(out, "WEBP", quality=QUALITY["webp"], method=4)
    else:  # one thread: the picture workers share the machine with the build. Speed 9: a fifth of speed 8's
        # time (0.11 s against 0.56 s at 1,440 px here) for a file still smaller than the WebP
        image.save(out, "AVIF", quality=QUALITY["avif"], speed=9, max_threads=1)
    return out.getvalue()


def verify(data: bytes) -> str:
    """Check a picture as the build will read it, every pixel decoded (a file cut short is found here), without
    making anything: the format its content is (``JPEG``, ``PNG``, ``HEIF`` …). PictureProblem saying why not."""
    if len(data) > MAX_BYTES:
        raise PictureProblem(f"is {len(data) / 1e6:,.1f} MB: a picture must be under {MAX_BYTES // 2**20} MB")
    image = open_checked(data)
    if image.format in ("JPEG", "MPO"):
        image.draft(image.mode, (WIDTHS[-1], WIDTHS[-1]))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PictureProblem(_bomb(*image.size)) from None
    except (OSError, SyntaxError, ValueError, EOFError) as err:
        raise PictureProblem(_unreadable(err)) from None
    return image.format or "?"


def _unreadable(err: BaseException) -> str:
    """A decoder's complaint as one line for the reporter (libheif's run to several, with a newline)."""
    what = " ".join(str(err).split())
    if len(what) > 160:
        what = what[:159] + "…"
    lower = what.lower()
    if isinstance(err, EOFError) or any(w in lower for w in ("truncated", "broken", "end of file")):
        return "is cut short (truncated): the file did not arrive whole; drop it again"
    return f"could not be decoded ({what}): it may be damaged; drop it again"
