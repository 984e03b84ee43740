"""A blog's night played again, live, in a scratch folder: what `make run` shows a newcomer.

The blog folder is only read. Its config (without ``coverage_end``, so the page stays live), its baseline and
its own templates are copied into a new folder, and its entry files are dropped into that folder's
``entries/`` one by one, in the order of their times, on a compressed clock. Each file arrives the maildir
way (written beside, then renamed in), exactly as a reporter's tool delivers it, so the watcher publishes it
like any other.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .clock import parse_time
from .config import CONFIG_NAME, load_config
from .errors import InputError
from .frontmatter import read_entry
from .names import default_theme, is_entry_name, is_picture_name

ENTRIES = "entries"
_TMP = ".demo-tmp"  # inside the scratch folder; its name starts with "." so the watcher ignores it
_COVERAGE_END = re.compile(r"^[ \t]*coverage_end[ \t]*=.*(?:\n|$)", re.MULTILINE)


@dataclass(frozen=True)
class Drop:
    """One entry file to deliver: its name, its bytes, and the moment of the night it tells of (None: no time)."""

    name: str
    data: bytes
    at: datetime | None


def plan(source: Path) -> list[Drop]:
    """The blog's entry files in the order of their times; a file whose time cannot be read comes last."""
    window = load_config(source).window
    drops = []
    for name in sorted(os.listdir(source / ENTRIES)):
        path = source / ENTRIES / name
        if not is_entry_name(name) or not path.is_file():
            continue
        data = path.read_bytes()
        at: datetime | None = None
        try:
            when = read_entry(data, f"{ENTRIES}/{name}").front.get("time")
            at = parse_time(when, window) if isinstance(when, str) else None
        except (InputError, ValueError):
            at = None  # delivered last, so the demo shows its error like any other
        drops.append(Drop(name, data, at))
    latest = max((d.at for d in drops if d.at is not None), default=None)
    return sorted(drops, key=lambda d: (d.at or latest or datetime.max, d.name))


def prepare(source: Path, target: Path) -> None:
    """Make ``target`` a blog folder with ``source``'s config (live: no ``coverage_end``), baseline and
    templates, and an empty ``entries/``. Raises InputError for a source that is not a blog folder."""
    event = load_config(source)
    target.mkdir(parents=True, exist_ok=True)
    config = (source / CONFIG_NAME).read_text(encoding="utf-8")
    (target / CONFIG_NAME).write_text(_COVERAGE_END.sub("", config), encoding="utf-8")
    if event.baseline:
        baseline = source / event.baseline
        if baseline.is_file():
            (target / event.baseline).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(baseline, target / event.baseline)
    templates = source / "templates"
    if templates.is_dir() and not _is_default_theme(templates):
        shutil.copytree(templates, target / "templates", dirs_exist_ok=True)
    (target / ENTRIES).mkdir(exist_ok=True)
    (target / _TMP).mkdir(exist_ok=True)
    pictures = sorted(os.listdir(source / ENTRIES)) if (source / ENTRIES).is_dir() else []
    for name in pictures:  # the pictures entries name are there before their entries
        if is_picture_name(name) and (source / ENTRIES / name).is_file():
            shutil.copyfile(source / ENTRIES / name, target / ENTRIES / name)


def _is_default_theme(folder: Path) -> bool:
    """This checkout's own templates/ is the default theme itself: copying it would only slow every build."""
    return folder.resolve() == default_theme().resolve()


def deliver(target: Path, drop: Drop) -> None:
    """Written and synced beside, then renamed into ``entries/``: the watcher sees it whole or not at all."""
    tmp = target / _TMP / drop.name
    with open(tmp, "wb") as out:
        out.write(drop.data)
        out.flush()
        os.fsync(out.fileno())
    os.chmod(tmp, 0o644)
    os.replace(tmp, target / ENTRIES / drop.name)


def play(
    target: Path,
    drops: Sequence[Drop],
    *,
    speed: float,
    max_gap: float,
    stop: threading.Event,
    on_drop: Callable[[Drop], None] | None = None,
    monotonic: Callable[[], float] = time.monotonic,
) -> int:
    """Deliver ``drops`` into ``target``: ``speed`` night-seconds a real second, no real wait longer than
    ``max_gap`` seconds, the first at once. Returns how many were delivered before ``stop`` was set."""
    if not (speed > 0 and math.isfinite(speed)) or not (max_gap >= 0 and math.isfinite(max_gap)):
        raise ValueError("the speed must be more than 0 and the longest gap 0 or more")
    delivered = 0
    previous: datetime | None = None
    due = monotonic()
    for drop in drops:
        if previous is not None and drop.at is not None:
            due += min(max((drop.at - previous).total_seconds() / speed, 0.0), max_gap)
        if stop.wait(max(0.0, due - monotonic())):
            break
        deliver(target, drop)
        delivered += 1
        previous = drop.at or previous
        if on_drop is not None:
            on_drop(drop)
    return delivered
