"""Pictures (issue 22): how fast photos are made, and what 50 of them cost a text entry's drop → publish.

    .venv/bin/python benchmarks/pictures.py [--photos 50] [--drops 20] [--size 4032x3024]

1. **Made per second.** ``--photos`` different phone photos (JPEG, 12 MP by default, with EXIF and GPS, made
   here with Pillow), each made into every width and format (picturemake.make): one at a time in this process
   (ms each), then all at once through the build's own pool (pictures.PictureWork, as ``countnight build``
   uses it: its worker count, its lowered priority), as pictures a second.
2. **Drop → publish under load.** ``countnight watch -q`` on a copy of the sample night, in its own process.
   A text entry is renamed into ``entries/`` and timed until ``site/index.html`` and ``site/live.json`` both
   hold its id (1 ms polls, as benchmarks/run.py does), every 0.5 s: ``--drops`` of them before any photo,
   then all the while ``--photos`` photos (dropped at once, with an entry naming each) are being made, until
   every photo entry is live, then ``--drops`` more after. Before and after are the figure without photos.

Not part of ``make test``. Prints the figures; BENCHMARKS.md keeps them with the machine's load.
"""

from __future__ import annotations

import argparse
import io
import itertools
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageDraw

from countnight.picturemake import formats, make

REPO = Path(__file__).resolve().parents[1]
COUNTNIGHT = [sys.executable, "-c", "from countnight.launch import main; main()"]


def photo(size: tuple[int, int], n: int) -> bytes:
    """A phone-sized JPEG with detail an encoder must work for, EXIF with GPS, and a number making it unique."""
    width, height = size
    image = Image.new("RGB", size, (30, 60, 90))
    draw = ImageDraw.Draw(image)
    for i in range(0, width, 24):
        draw.line((i, 0, width - i, height), fill=((i * 13 + n) % 256, (i * 7) % 256, (i * 3 + 90) % 256), width=9)
    for j in range(0, height, 40):
        draw.ellipse((j, j // 2, j + 300, j // 2 + 200), outline=(255, (j + n) % 256, 40), width=5)
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x010E] = "Apple", "iPhone 15 Pro", f"photo {n}"
    exif.get_ifd(0x8825).update({1: "N", 2: (52.0, 48.0, 10.0), 3: "W", 4: (1.0, 38.0, 20.0)})
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()


def made_per_second(photos: list[bytes], scratch: Path) -> None:
    from countnight.figures import MadePicture
    from countnight.models import Picture, UpdateEntry
    from countnight.pictures import PictureWork

    one, cpu = [], []
    for data in photos[:5]:
        started, used = time.perf_counter(), time.process_time()
        made = make(data)
        one.append(time.perf_counter() - started)
        cpu.append(time.process_time() - used)
    print(f"made: {len(made.files)} files a photo ({', '.join(formats())} × {sorted({f[2] for f in made.files})})")
    print(
        f"one at a time, in one process: {statistics.median(one) * 1000:.0f} ms a photo, "
        f"{statistics.median(cpu) * 1000:.0f} ms of CPU (medians of 5; the CPU time is what the load does not change)"
    )
    root = scratch / "pool"
    (root / "entries").mkdir(parents=True)
    for n, data in enumerate(photos):
        (root / "entries" / f"p{n}.jpg").write_bytes(data)
    work = PictureWork(root)
    started = time.perf_counter()
    for n in range(len(photos)):
        entry = UpdateEntry.model_construct(image=[Picture.model_construct(file=f"p{n}.jpg", alt="a")])
        work.figures_for(entry, f"entries/e{n}.md", "")  # type: ignore[arg-type]
    work.wait()
    seconds = time.perf_counter() - started
    done = [
        work.figures_for(
            UpdateEntry.model_construct(image=[Picture.model_construct(file=f"p{n}.jpg", alt="a")]),
            f"entries/e{n}.md",
            "",
        )
        for n in range(len(photos))
    ]  # type: ignore[arg-type]
    assert all(isinstance(d, tuple) and isinstance(d[0], MadePicture) for d in done), done[:2]
    work.close()
    print(
        f"the build's pool ({work.workers} worker(s), niced): {len(photos)} photos in {seconds:.1f} s, "
        f"{len(photos) / seconds:.2f} photos a second"
    )


def wait_live(site: Path, ident: str, timeout: float = 60.0) -> float:
    """Seconds until index.html and live.json both name ``ident`` (1 ms polls; read when a file changed)."""
    started = time.perf_counter()
    seen: dict[str, tuple[int, int]] = {}
    holds: dict[str, bool] = {}
    needle = ident.encode()
    while time.perf_counter() - started < timeout:
        for name in ("index.html", "live.json"):
            try:
                info = os.stat(site / name)
            except FileNotFoundError:
                continue
            key = (info.st_mtime_ns, info.st_ino)
            if seen.get(name) != key:
                seen[name] = key
                holds[name] = needle in (site / name).read_bytes()
        if holds.get("index.html") and holds.get("live.json"):
            return time.perf_counter() - started
        time.sleep(0.001)
    raise RuntimeError(f"{ident} was not published within {timeout} s")


def drop(folder: Path, name: str, text: str | bytes) -> None:
    temp = folder / f".{name}.tmp"
    temp.write_bytes(text.encode() if isinstance(text, str) else text)
    os.rename(temp, folder / name)


_DROPS = itertools.count(1)


def text_drops(root: Path, count: int, tag: str, gap: float) -> list[float]:
    took = []
    for _ in range(count):
        # After the whole sample night, numbered in order: each is the newest, so on the index with live.json
        ident = f"0730-text-{next(_DROPS):05d}"
        entry = f'---\ntime: "07:30"\ntitle: Text entry ({tag})\n---\nA recount is under way.\n'
        drop(root / "entries", f"{ident}.md", entry)
        took.append(wait_live(root / "site", ident))  # its clock starts at the rename
        time.sleep(gap)
    return took


def under_load(photos: list[bytes], drops: int, scratch: Path) -> None:
    root = scratch / "night"
    root.mkdir()
    for name in ("countnight.toml", "baseline.csv"):
        shutil.copy(REPO / name, root / name)
    shutil.copytree(REPO / "entries", root / "entries")
    log = open(scratch / "watch.log", "w")  # noqa: SIM115 - open for the process's whole life
    watch = subprocess.Popen([*COUNTNIGHT, "watch", "-q", "--root", str(root)], stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 60
        while not (root / "site" / "live.json").exists():
            if time.monotonic() > deadline or watch.poll() is not None:
                raise RuntimeError(f"countnight watch did not start: {(scratch / 'watch.log').read_text()}")
            time.sleep(0.05)
        time.sleep(1.0)
        alone = text_drops(root, drops, "before", 0.5)
        started = time.perf_counter()
        for n, data in enumerate(photos):  # every photo and its entry at once, as a photographer's upload would
            drop(root / "entries", f"photo-{n}.jpg", data)
        for n in range(len(photos)):
            entry = f'---\ntime: "07:01"\ntitle: Photo {n}\nimage: photo-{n}.jpg\nalt: The count, photo {n}\n---\n'
            drop(root / "entries", f"0701-photo-{n}.md", entry)
        # Text drops all the while the photos are made, one every ``gap`` s, until every photo entry is live.
        loaded: list[float] = []
        left = set(range(len(photos)))
        while left:
            loaded += text_drops(root, 1, f"during{len(loaded)}", 0.5)
            left = {n for n in left if not (root / "site" / "update" / f"0701-photo-{n}.html").exists()}
            if time.perf_counter() - started > 900:
                raise RuntimeError(f"{len(left)} photo entries were not published in 900 s")
        all_live = time.perf_counter() - started
        alone += text_drops(root, drops, "after", 0.5)
    finally:
        watch.terminate()
        watch.wait(30)
        log.close()

    def line(what: str, values: list[float]) -> str:
        ms = sorted(v * 1000 for v in values)
        p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
        return f"{what}: median {statistics.median(ms):.1f} ms, p95 {p95:.1f} ms, max {ms[-1]:.1f} ms ({len(ms)} drops)"

    print(line("text entry drop → publish, no photos (before and after)", alone))
    print(line(f"text entry drop → publish while {len(photos)} photos are made", loaded))
    print(
        f"every photo entry live {all_live:.1f} s after the {len(photos)} photos landed: "
        f"{len(photos) / all_live:.2f} a second"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=int, default=50)
    parser.add_argument("--drops", type=int, default=20)
    parser.add_argument("--size", default="4032x3024")
    args = parser.parse_args()
    size = tuple(int(part) for part in args.size.split("x"))
    print(f"load before: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} (1, 5, 15 min)")
    started = time.perf_counter()
    photos = [photo(size, n) for n in range(args.photos)]  # type: ignore[arg-type]
    print(
        f"{args.photos} photos of {size[0]}×{size[1]}, {statistics.mean(map(len, photos)) / 1e6:.1f} MB each "
        f"(made in {time.perf_counter() - started:.1f} s)"
    )
    with tempfile.TemporaryDirectory(prefix="countnight-pictures-") as scratch:
        made_per_second(photos, Path(scratch))
        under_load(photos, args.drops, Path(scratch))
    print(f"load after: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} (1, 5, 15 min)")


if __name__ == "__main__":
    main()
