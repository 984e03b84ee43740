"""Pictures on the page: an entry names a picture beside it, the build publishes it as a <figure> with its made
files, and every bad picture or bad name is the entry's `FILE:LINE` problem (the line of its `image` field) while
the rest of the night goes out. Real files in tmp_path, a real watcher thread, real builds."""

from __future__ import annotations

import io
import os
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from conftest import AFTER_THE_NIGHT, CONFIG, BlogMaker
from countnight.changes import Changes
from countnight.config import parse_config
from countnight.console import VERBOSE, Console
from countnight.entries import parse_entry
from countnight.errors import InputError
from countnight.models import Context, Entry
from countnight.site import Site
from countnight.storeplan import object_meta, references, upload_waves
from countnight.watch import Watcher
from picture_files import (
    SVG,
    animated_gif,
    bomb_png,
    cmyk_jpeg,
    heic_with_gps,
    jpeg_with_gps,
    png,
    sliver_png,
    truncated_jpeg,
)

TIMEOUT = 30.0  # a picture is made by a worker process on a loaded two-core machine

PHOTO_ENTRY = """\
---
time: "23:40"
title: Ballot boxes arrive in Burton
image: 0317-burton-count.jpg
alt: Counting staff carry ballot boxes into Burton's leisure centre
caption: The first boxes arrive at Meadowside
credit: Hannah Birch/BBC Radio Stoke
---
The count is under way.
"""
TEXT_ENTRY = '---\ntime: "23:30"\ntitle: Polls closed\n---\nThe count begins.\n'


def sources(html: str) -> list[str]:
    """Every address in src and srcset attributes."""
    found = []
    for attribute, value in re.findall(r'\s(src|srcset)="([^"]*)"', html):
        found += [item.split(" ")[0] for item in value.split(", ")] if attribute == "srcset" else [value]
    return found


def build(root: Path) -> object:
    return Site(root).build(AFTER_THE_NIGHT)


# -- the front matter ---------------------------------------------------------------------------------


def read(text: str) -> Entry:
    event = parse_config(CONFIG.encode(), "countnight.toml")
    return parse_entry(text.encode(), "entries/0101-x.md", Context(event.window))


def test_the_three_shapes_of_image() -> None:
    one = read(PHOTO_ENTRY)
    assert [(p.file, p.alt, p.caption, p.credit) for p in one.image] == [
        (
            "0317-burton-count.jpg",
            "Counting staff carry ballot boxes into Burton's leisure centre",
            "The first boxes arrive at Meadowside",
            "Hannah Birch/BBC Radio Stoke",
        )
    ]
    mapping = read('---\ntime: "23:40"\ntitle: T\nimage: {file: a.heic, alt: The hall}\n---\n')
    assert [(p.file, p.alt, p.caption) for p in mapping.image] == [("a.heic", "The hall", None)]
    listed = read(
        '---\ntime: "23:40"\ntitle: T\nimage:\n  - {file: a.jpg, alt: One, credit: PA}\n'
        "  - file: b.png\n    alt: Two\n    caption: The second\n---\n"
    )
    assert [(p.file, p.alt, p.caption, p.credit) for p in listed.image] == [
        ("a.jpg", "One", None, "PA"),
        ("b.png", "Two", "The second", None),
    ]
    assert read(TEXT_ENTRY).image == []


@pytest.mark.parametrize(
    ("front", "expected"),
    [
        (
            "image: a.jpg\n",
            "entries/0101-x.md:4: alt: required: say what the picture shows, for readers who cannot see it",
        ),
        ("image: a.jpg\nalt: ''\n", "entries/0101-x.md:5: alt: must not be empty"),
        (
            "image: [a.jpg]\n",
            "entries/0101-x.md:4: image[1].alt: required: say what the picture shows, for readers who cannot see it",
        ),
        (
            "image:\n  - {file: a.jpg, alt: A}\n  - {file: b.jpg}\n",
            "entries/0101-x.md:6: image[2].alt: required: say what the picture shows, for readers who cannot see it",
        ),
        (
            "alt: A hall\n",
            "entries/0101-x.md:4: alt: describes a picture: add image: NAME (a picture file beside the entry)",
        ),
        (
            "image: [{file: a.jpg, alt: A}]\nalt: B\n",
            "entries/0101-x.md:5: alt: with image as a list, give each picture its own: - {file: NAME, alt: TEXT}",
        ),
        (
            "image: ../secret.jpg\nalt: A\n",
            "entries/0101-x.md:4: image: '../secret.jpg' is a path: name a picture file",
        ),
        ("image: /etc/passwd.jpg\nalt: A\n", "entries/0101-x.md:4: image: '/etc/passwd.jpg' is a path"),
        ("image: photos/a.jpg\nalt: A\n", "entries/0101-x.md:4: image: 'photos/a.jpg' is a path"),
        ("image: ..\nalt: A\n", "entries/0101-x.md:4: image: '..' is a path"),
        (
            "image: logo.svg\nalt: A\n",
            "entries/0101-x.md:4: image: 'logo.svg': SVG pictures are refused (an SVG can carry scripts)",
        ),
        ("image: notes.txt\nalt: A\n", "entries/0101-x.md:4: image: 'notes.txt' is not a picture countnight takes"),
        ("image: [{file: a.jpg, alt: A, size: big}]\n", "entries/0101-x.md:4: image[1].size: unknown field"),
    ],
)
def test_bad_image_fields_are_the_entrys_errors_at_their_line(front: str, expected: str) -> None:
    with pytest.raises(InputError) as caught:
        read(f'---\ntime: "23:40"\ntitle: T\n{front}---\n')
    assert any(str(p).startswith(expected) for p in caught.value.problems), caught.value.problems


# -- the page -----------------------------------------------------------------------------------------


def test_an_entry_with_a_photo_is_published_as_a_figure(blog: BlogMaker) -> None:
    root = blog({"entries/0101-photo.md": PHOTO_ENTRY, "entries/0317-burton-count.jpg": jpeg_with_gps()})
    report = build(root)
    assert report.problems == [] and [v.id for v in report.published] == ["0101-photo"]  # type: ignore[attr-defined]
    site = root / "site"
    index = (site / "index.html").read_text()
    figure = index[index.index('<figure class="entry__figure">') : index.index("</figure>")]
    assert '<source type="image/webp"' in figure and "<picture>" in figure
    assert 'alt="Counting staff carry ballot boxes into Burton&#39;s leisure centre"' in figure
    assert 'width="1440" height="1080"' in figure and 'sizes="(min-width: 60rem) 44rem' in figure
    assert "The first boxes arrive at Meadowside" in figure and "Image: Hannah Birch/BBC Radio Stoke" in figure
    assert 'loading="lazy"' not in figure  # the newest entry's picture is in view as the page opens
    made = sorted(p.name for p in (site / "media").iterdir())
    assert len(made) == 3 * len(re.findall(r"\.jpg$", " ".join(made), re.M)) or len(made) >= 6
    for address in sources(figure):
        assert (site / address).is_file(), address
        assert re.fullmatch(r"media/[0-9a-f]{12}-\d+\.[0-9a-f]{10}\.(avif|webp|jpg)", address), address
    # the share page sits one folder down: every address is made relative to it
    share = (site / "update" / "0101-photo.html").read_text()
    assert sources(share) and all(
        a.startswith("../media/") and (site / "update" / a).is_file() for a in sources(share) if "media/" in a
    )
    # live.json carries the same figure (lazy there: it is inserted into an open page)
    live = (site / "live.json").read_text()
    assert "entry__figure" in live and 'loading=\\"lazy\\"' in live
    # nothing of the phone's metadata anywhere in the site
    for path in site.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert b"Reporter's iPhone" not in data and b"secret-comment" not in data, path


def test_older_pages_address_the_pictures_one_folder_up(blog: BlogMaker) -> None:
    files: dict[str, str | bytes] = {"entries/0101-photo.md": PHOTO_ENTRY, "entries/0317-burton-count.jpg": png()}
    files |= {
        f"entries/02{n:02d}-later.md": f'---\ntime: "23:{50 + n // 10}"\ntitle: Later {n}\n---\n' for n in range(25)
    }
    root = blog(files)
    assert build(root).problems == []  # type: ignore[attr-defined]
    page = (root / "site" / "page" / "1.html").read_text()
    found = [a for a in sources(page) if "media/" in a]
    assert found and all(a.startswith("../media/") and (root / "site" / "page" / a).is_file() for a in found)
    assert 'loading="lazy"' in page


@pytest.mark.parametrize(
    ("name", "data", "says"),
    [
        ("0317-burton-count.jpg", truncated_jpeg(), "is cut short (truncated): the file did not arrive whole"),
        ("0317-burton-count.jpg", bomb_png(), "refused as a possible decompression bomb"),
        ("0317-burton-count.jpg", sliver_png(), "is 50,000 × 10 pixels: a side may be at most 20,000"),
        ("0317-burton-count.jpg", SVG, "SVG is refused (it can carry scripts)"),
        ("0317-burton-count.jpg", b"", "is empty (0 bytes)"),
        ("other.jpg", png(), "is not in entries/: drop the picture beside the entry file"),
    ],
)
def test_a_bad_picture_is_its_entrys_problem_at_the_image_line_and_the_rest_goes_out(
    blog: BlogMaker, name: str, data: bytes, says: str
) -> None:
    root = blog({"entries/0101-photo.md": PHOTO_ENTRY, "entries/0100-text.md": TEXT_ENTRY, f"entries/{name}": data})
    report = build(root)
    [problem] = report.problems  # type: ignore[attr-defined]
    assert str(problem).startswith("entries/0101-photo.md:4: image: '0317-burton-count.jpg' "), problem
    assert says in problem.message
    assert [v.id for v in report.published] == ["0100-text"]  # type: ignore[attr-defined]
    assert not (root / "site" / "update" / "0101-photo.html").exists()


def test_pictures_that_are_handled(blog: BlogMaker) -> None:
    """A PNG named .jpg, a CMYK JPEG, an iPhone's HEIC and an animated GIF are all published."""
    entries: dict[str, str | bytes] = {}
    for n, (name, data) in enumerate(
        [("a.jpg", png()), ("b.jpg", cmyk_jpeg()), ("c.heic", heic_with_gps()), ("d.gif", animated_gif())]
    ):
        entries[f"entries/010{n}-p.md"] = f'---\ntime: "23:0{n}"\ntitle: P{n}\nimage: {name}\nalt: Picture {n}\n---\n'
        entries[f"entries/{name}"] = data
    root = blog(entries)
    report = build(root)
    assert report.problems == [] and len(report.published) == 4  # type: ignore[attr-defined]
    index = (root / "site" / "index.html").read_text()
    assert index.count('<figure class="entry__figure">') == 4
    assert "entries/0103-p.md:4: image: 'd.gif' is an animation: its first frame is shown" in report.notices  # type: ignore[attr-defined]


def test_a_link_out_of_entries_is_refused(blog: BlogMaker, tmp_path: Path) -> None:
    outside = tmp_path / "private.jpg"
    outside.write_bytes(jpeg_with_gps((640, 480)))
    root = blog({"entries/0101-photo.md": PHOTO_ENTRY})
    os.symlink(outside, root / "entries" / "0317-burton-count.jpg")
    [problem] = build(root).problems  # type: ignore[attr-defined]
    assert str(problem) == (
        "entries/0101-photo.md:4: image: '0317-burton-count.jpg' is a link to a file outside entries/: "
        "put the picture itself in entries/"
    )
    assert not (root / "site" / "media").exists()


def test_a_list_of_pictures_names_the_one_at_fault(blog: BlogMaker) -> None:
    entry = '---\ntime: "23:40"\ntitle: Two\nimage:\n  - {file: a.png, alt: One}\n  - {file: b.jpg, alt: Two}\n---\n'
    root = blog({"entries/0101-two.md": entry, "entries/a.png": png(), "entries/b.jpg": truncated_jpeg()})
    [problem] = build(root).problems  # type: ignore[attr-defined]
    assert str(problem).startswith("entries/0101-two.md:6: image[2]: 'b.jpg' is cut short")


def test_a_picture_is_made_once_a_restart_reads_nothing_again(blog: BlogMaker) -> None:
    root = blog({"entries/0101-photo.md": PHOTO_ENTRY, "entries/0317-burton-count.jpg": jpeg_with_gps()})
    first = Site(root)
    assert first.build(AFTER_THE_NIGHT).problems == []
    first.read.pictures.close()
    made = {p: p.stat().st_mtime_ns for p in (root / ".countnight" / "pictures").rglob("*") if p.is_file()}
    assert any(p.name == "manifest.json" for p in made)
    again = Site(root)
    shutil_site = root / "site"
    before = sorted(p.name for p in (shutil_site / "media").iterdir())
    assert again.build(AFTER_THE_NIGHT).problems == []
    assert again.read.pictures._pool is None  # no picture worker was even started: nothing to make or read
    after = {p: p.stat().st_mtime_ns for p in (root / ".countnight" / "pictures").rglob("*") if p.is_file()}
    assert after == made
    assert sorted(p.name for p in (shutil_site / "media").iterdir()) == before


def test_a_restart_keeps_the_picture_readers_saw_when_the_file_is_now_broken(blog: BlogMaker) -> None:
    root = blog({"entries/0101-photo.md": PHOTO_ENTRY, "entries/0317-burton-count.jpg": png((640, 480))})
    assert build(root).problems == []  # type: ignore[attr-defined]
    shown = [a for a in sources((root / "site" / "index.html").read_text()) if "media/" in a]
    (root / "entries" / "0317-burton-count.jpg").write_bytes(truncated_jpeg())  # while nothing was running
    report = build(root)  # a new process's build: only .countnight/ knows what readers saw
    [problem] = report.problems  # type: ignore[attr-defined]
    assert "is cut short" in problem.message
    index = (root / "site" / "index.html").read_text()
    assert 'width="640" height="480"' in index and [a for a in sources(index) if "media/" in a] == shown
    assert all((root / "site" / a).is_file() for a in shown)


def test_a_picture_replaced_replaces_its_files_and_the_old_ones_go(blog: BlogMaker) -> None:
    root = blog({"entries/0101-photo.md": PHOTO_ENTRY, "entries/0317-burton-count.jpg": jpeg_with_gps()})
    site = Site(root)
    site.build(AFTER_THE_NIGHT)
    old = set((root / "site" / "media").iterdir())
    (root / "entries" / "0317-burton-count.jpg").write_bytes(png((900, 600)))
    report = site.build(AFTER_THE_NIGHT, changed={"entries/0317-burton-count.jpg"})
    assert report.problems == []
    new = set((root / "site" / "media").iterdir())
    assert new and not new & old
    assert 'width="900" height="600"' in (root / "site" / "index.html").read_text()


# -- the watcher --------------------------------------------------------------------------------------


@pytest.fixture
def watcher_on() -> Iterator[Callable[[Path], tuple[Watcher, io.StringIO]]]:
    started: list[Watcher] = []

    def start(root: Path) -> tuple[Watcher, io.StringIO]:
        out = io.StringIO()
        watcher = Watcher(Site(root), console=Console(out, verbosity=VERBOSE, colour=False), quiet=0.03, grace=0.3)
        watcher.start()
        started.append(watcher)
        return watcher, out

    yield start
    for watcher in started:
        watcher.stop()


def wait_until(condition: Callable[[], object], what: str, out: io.StringIO) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}\n--- console ---\n{out.getvalue()}"
        time.sleep(0.01)


def index_of(root: Path) -> str:
    try:
        return (root / "site" / "index.html").read_text()
    except FileNotFoundError:
        return ""


def test_watch_a_picture_landing_after_its_entry_publishes_it_and_a_new_one_replaces_it(
    blog: BlogMaker, watcher_on: Callable[[Path], tuple[Watcher, io.StringIO]]
) -> None:
    root = blog({"entries/0100-text.md": TEXT_ENTRY})
    watcher, out = watcher_on(root)
    (root / "entries" / "0101-photo.md").write_text(PHOTO_ENTRY)  # the entry first: its picture is not there yet
    wait_until(lambda: "is not in entries/" in out.getvalue(), "the missing picture to be said", out)
    assert "0101-photo" not in index_of(root)
    (root / "entries" / "0317-burton-count.jpg").write_bytes(jpeg_with_gps())
    wait_until(lambda: 'class="entry__figure"' in index_of(root), "the entry with its picture", out)
    first = set(sources(index_of(root)))
    assert all((root / "site" / a).is_file() for a in first)
    # replaced under the same name (a better shot): the page shows the new one, the old files go
    temp = root / "entries" / ".0317-burton-count.jpg.tmp"
    temp.write_bytes(png((1000, 700)))
    os.replace(temp, root / "entries" / "0317-burton-count.jpg")
    wait_until(lambda: 'width="1000" height="700"' in index_of(root), "the new picture", out)
    wait_until(lambda: not any((root / "site" / a).exists() for a in first if "media/" in a), "the old files gone", out)
    # a picture nobody names is not a broken entry, nor said at all
    (root / "entries" / "spare-shot.jpg").write_bytes(png((200, 100)))
    (root / "entries" / "0102-more.md").write_text('---\ntime: "23:50"\ntitle: More\n---\n')
    wait_until(lambda: "0102-more" in index_of(root), "the next entry", out)
    assert watcher.last is not None and watcher.last.problems == [] and not watcher.last.notices
    assert "spare-shot" not in out.getvalue()


def test_watch_a_bad_picture_never_takes_down_the_version_readers_see(
    blog: BlogMaker, watcher_on: Callable[[Path], tuple[Watcher, io.StringIO]]
) -> None:
    root = blog({"entries/0101-photo.md": PHOTO_ENTRY, "entries/0317-burton-count.jpg": png((640, 480))})
    _watcher, out = watcher_on(root)
    wait_until(lambda: 'width="640" height="480"' in index_of(root), "the first picture", out)
    shown = set(sources(index_of(root)))
    (root / "entries" / "0317-burton-count.jpg").write_bytes(truncated_jpeg())
    wait_until(lambda: "is cut short" in out.getvalue(), "the cut-short picture to be said", out)
    assert 'width="640" height="480"' in index_of(root)
    assert all((root / "site" / a).is_file() for a in shown)


# -- the outlets and the object store -----------------------------------------------------------------


class Recorder:
    """An outlet that keeps what each build hands it (changes.Outlet)."""

    def __init__(self) -> None:
        self.sent: list[Changes] = []

    def send(self, changes: Changes) -> None:
        self.sent.append(changes)


def test_made_files_reach_every_outlet_before_the_pages_that_name_them(blog: BlogMaker) -> None:
    root = blog({"entries/0100-text.md": TEXT_ENTRY})
    recorder = Recorder()
    site = Site(root, outlets=[recorder])
    site.build(AFTER_THE_NIGHT)
    (root / "entries" / "0317-burton-count.jpg").write_bytes(jpeg_with_gps((1200, 800)))
    (root / "entries" / "0101-photo.md").write_text(PHOTO_ENTRY)
    site.build(AFTER_THE_NIGHT, changed={"entries/0317-burton-count.jpg", "entries/0101-photo.md"})
    changes = recorder.sent[-1]
    media = [p for p in changes.files if p.startswith("media/")]
    assert len(media) >= 6 and set(media) <= changes.paths
    assert changes.live.new == ("0101-photo",)
    order = changes.ordered()
    assert max(order.index(p) for p in media) < order.index("update/0101-photo.html") < order.index("index.html")
    for path in media:
        assert changes.bytes_of(path) == (root / "site" / path).read_bytes()
    # the next build hands on only what changed: the made files are not sent again
    (root / "entries" / "0102-more.md").write_text('---\ntime: "23:50"\ntitle: More\n---\n')
    site.build(AFTER_THE_NIGHT, changed={"entries/0102-more.md"})
    assert not [p for p in recorder.sent[-1].files if p.startswith("media/")]
    assert set(media) <= recorder.sent[-1].paths


# -- the object store ---------------------------------------------------------------------------------


def test_the_store_uploads_a_picture_before_the_page_naming_it() -> None:
    page = (
        b'<img src="../media/ab-960.0123456789.jpg" srcset="../media/ab-480.1123456789.jpg 480w, '
        b'../media/ab-960.0123456789.jpg 960w"><source srcset="../media/ab-480.2123456789.webp 480w">'
    )
    found = references("update/e1.html", page)
    assert found == {"media/ab-960.0123456789.jpg", "media/ab-480.1123456789.jpg", "media/ab-480.2123456789.webp"}
    live = b'{"html":"<img src=\\"media/ab-960.0123456789.jpg\\" srcset=\\"media/ab-480.1123456789.jpg 480w\\">"}'
    assert references("live.json", live) == {"media/ab-960.0123456789.jpg", "media/ab-480.1123456789.jpg"}
    waves = upload_waves({"update/e1.html": found, **{m: set() for m in found}}, stored=set())
    assert waves[-1] == ["update/e1.html"] and set(waves[0]) == found
    meta = object_meta("media/ab-960.0123456789.webp")
    assert meta.content_type == "image/webp" and "immutable" in meta.cache_control
    assert object_meta("media/ab-960.0123456789.avif").content_type == "image/avif"
