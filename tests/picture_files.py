"""Real picture files for the tests, made with Pillow (and pillow-heif for HEIC): photos with a phone's metadata,
turned, in CMYK, animated, cut short, bombs and slivers, an SVG with a script."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image, ImageDraw

# Where the count was, as a phone writes it: 52.8028 N, 1.6389 W (Burton upon Trent)
GPS = {1: "N", 2: (52.0, 48.0, 10.0), 3: "W", 4: (1.0, 38.0, 20.0), 5: 0, 6: 61.0}
SECRET = "Reporter's iPhone 15 Pro"  # the camera model: it must never reach a reader either
XMP = (
    b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
    b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
    b'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>Hannah Birch secret-xmp</dc:creator>'
    b'</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
)


def scene(size: tuple[int, int] = (2000, 1500), mode: str = "RGB") -> Image.Image:
    """A picture with detail (encoders make real files of it): bands of colour, a red block top-left."""
    image = Image.new("RGB", size, (40, 90, 160))
    draw = ImageDraw.Draw(image)
    width, height = size
    for x in range(0, width, max(1, width // 20)):
        draw.rectangle((x, 0, x + width // 40, height), fill=((x * 7) % 255, 120, 200 - (x % 150)))
    draw.rectangle((0, 0, width // 4, height // 4), fill=(220, 20, 20))
    return image if mode == "RGB" else image.convert(mode)


def phone_exif(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "Apple"  # Make
    exif[0x0110] = SECRET  # Model
    exif[0x0131] = "17.5.1"  # Software
    exif[0x0112] = orientation
    exif[0x010E] = "ImageDescription: the count at Burton"
    exif.get_ifd(0x8825).update(GPS)  # the GPS block
    return exif


def jpeg_with_gps(size: tuple[int, int] = (2000, 1500), orientation: int = 1) -> bytes:
    """A JPEG as a phone writes it: EXIF with GPS and the camera, XMP, a comment and a colour profile."""
    out = io.BytesIO()
    from PIL import ImageCms

    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    options: dict[str, object] = {"exif": phone_exif(orientation), "icc_profile": icc, "comment": b"secret-comment"}
    options["xmp"] = XMP
    scene(size).save(out, "JPEG", quality=90, **options)
    return out.getvalue()


def png(size: tuple[int, int] = (800, 600), mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    scene(size, mode).save(out, "PNG")
    return out.getvalue()


def cmyk_jpeg(size: tuple[int, int] = (800, 600)) -> bytes:
    """A print desk's CMYK JPEG, all red (no cyan, full magenta and yellow)."""
    out = io.BytesIO()
    Image.new("CMYK", size, (0, 255, 255, 0)).save(out, "JPEG", quality=95)
    return out.getvalue()


def animated_gif() -> bytes:
    """Two frames: red, then blue."""
    frames = [Image.new("RGB", (300, 200), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=200, loop=0)
    return out.getvalue()


def heic_with_gps(size: tuple[int, int] = (1200, 900)) -> bytes:
    """An iPhone's HEIC, with its EXIF (GPS included)."""
    from pillow_heif import register_heif_opener

    register_heif_opener()
    out = io.BytesIO()
    scene(size).save(out, "HEIF", quality=80, exif=phone_exif().tobytes())
    return out.getvalue()


def truncated_jpeg() -> bytes:
    data = jpeg_with_gps((1600, 1200))
    return data[: len(data) * 2 // 3]


def png_claiming(width: int, height: int) -> bytes:
    """A real PNG made by Pillow, its header then made to claim ``width`` × ``height`` (its CRC mended): what a
    decompression bomb or a sliver looks like to a decoder, without a test making gigabytes of pixels."""
    data = png((16, 16), "L")
    start = 8 + 8  # the signature, then IHDR's length and type
    header = struct.pack(">II", width, height) + data[start + 8 : start + 13]
    crc = struct.pack(">I", zlib.crc32(b"IHDR" + header) & 0xFFFFFFFF)
    return data[:start] + header + crc + data[start + 13 + 4 :]


def bomb_png() -> bytes:
    """Pillow's own decompression-bomb refusal: 20,000 × 20,000 (400 million pixels)."""
    return png_claiming(20_000, 20_000)


def large_png() -> bytes:
    """Over countnight's limit of 50 million pixels, under twice it (Pillow only warns): 8,000 × 7,000."""
    return png_claiming(8_000, 7_000)


def sliver_png() -> bytes:
    """A side of 50,000 pixels (500,000 pixels in all: no bomb, but no picture for a page either)."""
    return png_claiming(50_000, 10)


SVG = b"""<?xml version="1.0"?>
<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><script>alert(document.cookie)</script>
<rect width="100" height="100" fill="red"/></svg>
"""
