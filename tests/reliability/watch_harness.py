"""What the reliability tests share: the watcher as a real process, a maildir-style writer of entries,
and the two questions every test asks of ``site/``: is every file whole, and is every entry on a page?

Each heavy test runs a reduced count by default (``make test`` stays quick) and the full count of
issue 7 with ``COUNTNIGHT_RELIABILITY_FULL=1``. Each writes its figures to
``test-artifacts/reliability/NAME.json`` (git-ignored) for RELIABILITY.md.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import TypeVar

import pytest
from PIL import Image

from conftest import REPO

FULL = os.environ.get("COUNTNIGHT_RELIABILITY_FULL", "") not in ("", "0")
TIMEOUT = 60.0  # seconds: generous, the suite runs two workers on a loaded two-core machine
ARTIFACTS = REPO / "test-artifacts" / "reliability"
TEMP_PREFIX = ".countnight-tmp-"  # the writer's temp files (countnight.publish)
NIGHT_START = datetime.fromisoformat("2024-07-04T22:00:00+01:00")
CONFIG = """\
title = "Reliability night"
timezone = "Europe/London"
coverage_start = "2024-07-04T22:00:00+01:00"
coverage_end = "2024-07-05T12:00:00+01:00"
page_size = {page_size}
"""
_ARTICLE = re.compile(r'<article\b[^>]*\bdata-id="([^"]+)"')
_HASHED = re.compile(r"\.([0-9a-f]{10})\.[a-z0-9]+$")
T = TypeVar("T")


def count(default: int, full: int) -> int:
    """The reduced count, or issue 7's full count under COUNTNIGHT_RELIABILITY_FULL=1."""
    return full if FULL else default


def record(name: str, figures: dict[str, object]) -> None:
    """Keep a test's measured figures (for RELIABILITY.md) and show them with ``pytest -s``."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    figures = {"full": FULL, **figures}
    (ARTIFACTS / f"{name}.json").write_text(json.dumps(figures, indent=1) + "\n")
    print(f"\n{name}: {json.dumps(figures)}")


def wait_for(predicate: Callable[[], T], what: str, timeout: float = TIMEOUT, detail: Callable[[], str] = str) -> T:
    """Poll ``predicate`` until it returns something true; fail naming ``what`` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}\n{detail()}")
        time.sleep(0.01)


# -- entries ---------------------------------------------------------------------------------------


def entry_text(n: int, title: str | None = None) -> str:
    """Entry number ``n``, ten seconds after entry n-1 (so a new entry lands on the index, as on the night)."""
    moment = (NIGHT_START + timedelta(seconds=60 + 10 * n)).isoformat()
    return f'---\ntime: "{moment}"\ntitle: "{title or f"Entry {n}"}"\n---\nWords about entry {n}.\n'


def entry_id(n: int) -> str:
    return f"e{n:05d}"


class Dropper:
    """Drops entries the maildir way: written whole into ``ROOT/.drop/``, then renamed into ``entries/``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.spool = root / ".drop"  # hidden, and the root is watched flat: never taken for an entry
        self.spool.mkdir(exist_ok=True)
        self.dropped: list[str] = []

    def stage(self, n: int, text: str | None = None) -> Path:
        path = self.spool / f"{entry_id(n)}.md"
        path.write_text(text or entry_text(n))
        return path

    def commit(self, staged: Path) -> None:
        os.rename(staged, self.root / "entries" / staged.name)
        self.dropped.append(staged.stem)

    def drop(self, n: int, text: str | None = None) -> None:
        self.commit(self.stage(n, text))

    def burst(self, staged: list[Path]) -> float:
        """Rename every staged file into ``entries/`` at once, as a burst of reporters would; returns the
        seconds the renames took.

        They run in a child process. Done in the test's own process, each rename waited for the GIL that the
        watcher's threads (in the same process) were holding: on a loaded two-core machine 2,000 renames took
        1.3 s, and the burst was no longer the burst the test claims."""
        names = [path.name for path in staged]
        done = subprocess.run(
            [sys.executable, "-c", _BURST, str(self.spool), str(self.root / "entries")],
            input="\n".join(names),
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        self.dropped.extend(Path(name).stem for name in names)
        return float(done.stdout)


_BURST = """
import os, sys, time
spool, entries = sys.argv[1:3]
names = sys.stdin.read().split()
began = time.monotonic()
for name in names:
    os.rename(os.path.join(spool, name), os.path.join(entries, name))
print(time.monotonic() - began)
"""


# -- a writer of entries, until stopped ---------------------------------------------------------


class Writer(threading.Thread):
    """Drops an entry every 0-80 ms (seeded) until told to stop."""

    def __init__(self, dropper: Dropper, first: int, seed: int) -> None:
        super().__init__(name="entry-writer", daemon=True)
        self.dropper, self.next, self.rng = dropper, first, random.Random(seed)
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.wait(self.rng.uniform(0.0, 0.08)):
            self.dropper.drop(self.next)
            self.next += 1


# -- the site ------------------------------------------------------------------------------------


class _StrictParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open_html = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.open_html += tag == "html"

    def handle_endtag(self, tag: str) -> None:
        self.open_html -= tag == "html"


def html_problem(data: bytes) -> str | None:
    """Why this is not a whole HTML page, or None."""
    try:
        text = data.decode("utf-8")
        parser = _StrictParser()
        parser.feed(text)
        parser.close()
    except Exception as err:  # html.parser raises on very little: anything it raises is a broken file
        return f"does not parse: {err}"
    if not text.rstrip().endswith("</html>") or parser.open_html != 0:
        return f"does not end with </html>: …{text[-60:]!r}"
    return None


def file_problem(path: Path, data: bytes) -> str | None:
    """Why one file of the site is not whole (by its kind), or None."""
    suffix = path.suffix
    try:
        if suffix == ".html":
            return html_problem(data)
        if suffix == ".json":
            json.loads(data)
        elif suffix == ".xml":
            ET.fromstring(data)
        elif suffix == ".png":  # a share card (sharecards.py): a whole picture of the size every card has
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                if image.size != (1200, 630):
                    return f"a picture of {image.size}, not 1200×630"
        elif suffix in (".css", ".js"):
            hashed = _HASHED.search(path.name)  # assets are named by the hash of what they hold
            if hashed and hashlib.sha256(data).hexdigest()[:10] != hashed[1]:
                return "its content does not match the hash in its name"
        else:
            return f"an unexpected file ({len(data)} bytes)"
    except (ValueError, ET.ParseError, OSError, SyntaxError) as err:  # (Pillow: OSError and SyntaxError)
        return f"does not parse: {err}"
    return None


def site_problems(out: Path) -> list[str]:
    """Every file in the site that is not whole. Hidden files (temp files, the manifest) are not served."""
    problems = []
    for path in sorted(out.rglob("*")):
        if path.is_dir() or any(part.startswith(".") for part in path.relative_to(out).parts):
            continue
        try:
            data = path.read_bytes()
        except FileNotFoundError:  # replaced between the listing and the read: fine, it was not torn
            continue
        why = file_problem(path, data)
        if why:
            problems.append(f"{path.relative_to(out)}: {why}")
    return problems


def temp_files(out: Path, *, besides_pid: int | None = None) -> list[Path]:
    """The writer's temp files in the site (all, or those not of the running writer ``besides_pid``)."""
    if not out.is_dir():
        return []
    mine = f"{TEMP_PREFIX}{besides_pid}-"
    return [p for p in out.rglob(f"{TEMP_PREFIX}*") if besides_pid is None or not p.name.startswith(mine)]


def shown_ids(out: Path) -> set[str]:
    """Every entry id on the index and the older pages (each page read whole; a page replaced mid-read is retried)."""
    ids: set[str] = set()
    for path in [out / "index.html", *sorted((out / "page").glob("*.html"))]:
        with contextlib.suppress(FileNotFoundError):
            ids.update(_ARTICLE.findall(path.read_text(encoding="utf-8")))
    return ids


def live_ids(out: Path) -> set[str]:
    try:
        return {e["id"] for e in json.loads((out / "live.json").read_bytes())["entries"]}
    except (FileNotFoundError, ValueError):
        return set()


def missing(out: Path, wanted: Iterable[str]) -> set[str]:
    """Which of ``wanted`` no page shows yet (a cheap look at the share pages first, then the pages)."""
    wanted = set(wanted)
    if any(not (out / "update" / f"{ident}.html").exists() for ident in wanted):
        return {ident for ident in wanted if not (out / "update" / f"{ident}.html").exists()}
    return wanted - shown_ids(out)


# -- the watcher as a process --------------------------------------------------------------------


def countnight_command() -> list[str]:
    script = Path(sys.executable).with_name("countnight")
    return [str(script)] if script.exists() else [sys.executable, "-c", "from countnight.cli import main; main()"]


class WatchProcess:
    """``countnight watch --root ROOT -q`` in its own process, its output in a log file."""

    def __init__(self, root: Path, log: Path, *extra: str) -> None:
        self.root, self.log = root, log
        with log.open("ab") as sink:
            sink.write(f"--- countnight watch ({time.strftime('%X')})\n".encode())
            sink.flush()
            self.process = subprocess.Popen(
                [*countnight_command(), "watch", "--root", str(root), "-q", *extra],
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        self.started = time.monotonic()

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no cleanup of any kind runs."""
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(TIMEOUT)

    def stop(self) -> int:
        """SIGTERM, as an operator would; the watcher finishes the build under way and exits."""
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(TIMEOUT)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.process.returncode

    def children(self) -> list[int]:
        """The watcher's child processes (the build's workers), from /proc."""
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError, ValueError, IndexError):
                    stat = (entry / "stat").read_text()
                    if int(stat.rpartition(")")[2].split()[1]) == self.pid:  # field 4: the parent's pid
                        found.append(int(entry.name))
        return found

    def leftovers(self) -> list[int]:
        """Processes still running this watcher's command line (its workers) after it is gone."""
        own = " ".join(["watch", "--root", str(self.root)]).encode()
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and int(entry.name) != os.getpid():
                with contextlib.suppress(OSError):
                    if own in (entry / "cmdline").read_bytes().replace(b"\0", b" "):
                        found.append(int(entry.name))
        return found

    def tail(self) -> str:
        try:
            return "--- watcher log ---\n" + self.log.read_text(errors="replace")[-3000:]
        except OSError:
            return ""
