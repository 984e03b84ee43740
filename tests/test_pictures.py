"""Pictures, made: what readers get of a reporter's photo (upright, sRGB, resized, every metadata block left
behind, checked by Pillow and by Debian's exiftool), and each bad picture refused with its reason."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from countnight.picturemake import MAX_SIDE, WIDTHS, Made, PictureProblem, formats, make, verify
from picture_files import (
    SECRET,
    SVG,
    animated_gif,
    bomb_png,
    cmyk_jpeg,
    heic_with_gps,
    jpeg_with_gps,
    large_png,
    png,
    sliver_png,
    truncated_jpeg,
)

EXIFTOOL = shutil.which("exiftool")
# Groups exiftool puts metadata in. A made file may carry only its format's own structure (File, JFIF, RIFF,
# PNG's or the AVIF container's), never any of these.
METADATA_GROUPS = ("EXIF", "XMP", "IPTC", "ICC_Profile", "MakerNotes", "Photoshop", "APP14", "FlashPix", "JUMBF")


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def assert_no_metadata_in_pillow(data: bytes) -> None:
    image = opened(data)
    assert not image.getexif(), image.getexif()
    for key in ("exif", "icc_profile", "xmp", "XML:com.adobe.xmp", "comment", "photoshop", "iptc", "adobe"):
        assert key not in image.info, (key, image.info.get(key))
    assert b"GPS" not in data and SECRET.encode() not in data and b"secret" not in data


def exiftool(path: Path) -> dict[str, object]:
    assert EXIFTOOL is not None, "exiftool is missing: scripts/system-packages.sh installs libimage-exiftool-perl"
    done = subprocess.run(
        [EXIFTOOL, "-j", "-G0", "-a", "-u", str(path)], capture_output=True, text=True, check=True, timeout=60
    )
    found: dict[str, object] = json.loads(done.stdout)[0]
    return found


def leaked(found: dict[str, object]) -> list[str]:
    """What exiftool found of metadata: any key in a metadata group, a GPS tag or a comment anywhere."""
    return sorted(
        key for key in found if key.split(":", 1)[0] in METADATA_GROUPS or "GPS" in key or key.endswith(":Comment")
    )


def test_a_phones_jpeg_with_gps_comes_out_with_nothing_of_its_metadata(tmp_path: Path) -> None:
    original = jpeg_with_gps()
    source = tmp_path / "0317-burton-count.jpg"
    source.write_bytes(original)
    before = exiftool(source)  # the test's own photo does carry what a phone writes: GPS, camera, XMP, ICC
    assert "EXIF:GPSLatitude" in before and before.get("EXIF:Model") == SECRET and "File:Comment" in before
    assert any(key.startswith("XMP") for key in before) and any(key.startswith("ICC_Profile:") for key in before)
    made = make(original)
    assert {fmt for _, fmt, *_ in made.files} == set(formats())
    for name, _, width, height, data in made.files:
        assert_no_metadata_in_pillow(data)
        path = tmp_path / name
        path.write_bytes(data)
        found = exiftool(path)
        assert leaked(found) == [], (name, leaked(found))
        text = json.dumps(found)
        assert SECRET not in text and "Apple" not in text and "secret" not in text and "52 deg" not in text
        assert (found.get("File:ImageWidth"), found.get("File:ImageHeight")) in ((width, height), (None, None))


def test_widths_formats_and_names_by_content() -> None:
    made = make(jpeg_with_gps((2000, 1500)))
    assert (made.width, made.height) == (2000, 1500)
    for fmt in formats():
        widths = sorted(w for _, f, w, _, _ in made.files if f == fmt)
        assert widths == list(WIDTHS)
    for name, fmt, width, height, data in made.files:
        stem, tag, ext = name.split(".")
        assert stem == str(width) and len(tag) == 10 and ext == ("jpg" if fmt == "jpeg" else fmt)
        image = opened(data)
        assert image.size == (width, height) and image.mode == "RGB"
        assert height == round(1500 * width / 2000)
    # a narrow original is never enlarged: it is made at its own width
    small = make(png((300, 200)))
    assert sorted({w for _, _, w, _, _ in small.files}) == [300]


def test_the_orientation_a_phone_wrote_is_applied() -> None:
    made = make(jpeg_with_gps((1600, 1200), orientation=6))  # held upright: the sensor's picture turned 90°
    assert (made.width, made.height) == (1200, 1600)
    image = opened(next(data for _, fmt, w, _, data in made.files if fmt == "jpeg" and w == 960))
    assert image.size == (960, 1280)
    red = image.getpixel((image.width - 20, 20))  # the red block, top-left of the sensor, is now top-right
    assert red[0] > 180 and red[1] < 80, red


@pytest.mark.parametrize(
    ("data", "read_as"),
    [
        pytest.param(png((800, 600)), "PNG", id="a PNG named .jpg is read as the PNG it is"),
        pytest.param(png((800, 600), "RGBA"), "PNG", id="transparency laid on white"),
        pytest.param(png((800, 600), "P"), "PNG", id="a palette"),
        pytest.param(png((800, 600), "L"), "PNG", id="grey"),
    ],
)
def test_read_by_content_whatever_the_name(data: bytes, read_as: str) -> None:
    made = make(data)
    assert made.read_as == read_as and (made.width, made.height) == (800, 600)
    assert all(opened(d).mode == "RGB" for *_, d in made.files)


def test_a_cmyk_jpeg_is_converted_to_rgb() -> None:
    made = make(cmyk_jpeg())
    for _, fmt, _, _, data in made.files:
        image = opened(data)
        assert image.mode == "RGB", fmt
        r, g, b = image.getpixel((image.width // 2, image.height // 2))
        assert r > 200 and g < 60 and b < 60, (fmt, (r, g, b))


def test_an_iphones_heic_is_made_and_its_gps_left_behind(tmp_path: Path) -> None:
    made = make(heic_with_gps())
    assert made.read_as == "HEIF" and (made.width, made.height) == (1200, 900)
    for name, _, _, _, data in made.files:
        assert_no_metadata_in_pillow(data)
        (tmp_path / name).write_bytes(data)
        assert leaked(exiftool(tmp_path / name)) == [], name


def test_an_animated_gif_shows_its_first_frame() -> None:
    made = make(animated_gif())
    assert made.read_as == "GIF" and made.notes == ("is an animation: its first frame is shown",)
    image = opened(made.files[-1][4])
    r, g, b = image.getpixel((150, 100))
    assert r > 200 and b < 60, (r, g, b)
    assert getattr(image, "n_frames", 1) == 1


@pytest.mark.parametrize(
    ("data", "says"),
    [
        pytest.param(truncated_jpeg(), "is cut short (truncated): the file did not arrive whole", id="truncated"),
        pytest.param(bomb_png(), "refused as a possible decompression bomb", id="decompression bomb (Pillow's own)"),
        pytest.param(large_png(), "has more than 50 million pixels (8,000 × 7,000)", id="over 50 megapixels"),
        pytest.param(sliver_png(), f"is 50,000 × 10 pixels: a side may be at most {MAX_SIDE:,}", id="a 50,000 side"),
        pytest.param(SVG, "SVG is refused (it can carry scripts)", id="an SVG"),
        pytest.param(b"%PDF-1.7\n...", "is a PDF, not a picture", id="a PDF"),
        pytest.param(b"hello, not a picture at all", "is not a picture countnight can read", id="not a picture"),
        pytest.param(b"\xff\xd8\xff\xe0" + b"\0" * 40, "", id="a JPEG's first bytes and nothing else"),
        pytest.param(heic_with_gps()[:20_000], "is cut short (truncated)", id="an iPhone's HEIC cut short"),
    ],
)
def test_bad_pictures_are_refused_with_their_reason(data: bytes, says: str) -> None:
    with pytest.raises(PictureProblem) as caught:
        make(data)
    assert says in str(caught.value) and "\n" not in str(caught.value)  # one line: FILE:LINE: message
    with pytest.raises(PictureProblem):
        verify(data)


def test_verify_decodes_every_pixel_and_names_the_format() -> None:
    assert verify(jpeg_with_gps((1600, 1200))) == "JPEG"
    assert verify(png()) == "PNG"
    assert verify(heic_with_gps()) == "HEIF"


def test_made_is_pure_and_repeatable() -> None:
    data = jpeg_with_gps((1000, 750))
    first, second = make(data), make(data)
    assert isinstance(first, Made) and [f[:4] for f in first.files] == [f[:4] for f in second.files]
