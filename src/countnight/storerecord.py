"""The publisher's record of what it put in the store: ``ROOT/.countnight/objectstore-TAG.json``.

name → (MD5 of the bytes sent, the ETag the store gave back). With it a restart knows, from one listing
of the store, which objects are still what it sent without reading them back: an object whose ETag
is the recorded one holds the recorded bytes. Most stores' ETag of a plain upload is the MD5 itself,
and then an object matches by its ETag alone, record or not; the record covers the others (AWS with
KMS encryption). A lost or stale record costs a few uploads again, never a wrong object: the listing
at start is the truth.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from pathlib import Path

from .journal import STATE_DIR
from .publish import write_atomic

Entry = tuple[str, str]  # (md5 of the body sent, the store's ETag)


def record_path(root: Path, where: str, target: str) -> Path:
    """One record per store and target: publishing to a rehearsal bucket and the real one keeps both."""
    tag = hashlib.sha256(f"{where}\n{target}".encode()).hexdigest()[:12]
    return root / STATE_DIR / f"objectstore-{tag}.json"


def load(path: Path) -> dict[str, Entry]:
    """The record, or nothing when it is missing or unreadable (the listing at start decides then)."""
    try:
        raw = json.loads(path.read_bytes())
        return {str(name): (str(pair[0]), str(pair[1])) for name, pair in raw["objects"].items()}
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):
        return {}


def save(path: Path, target: str, objects: dict[str, Entry]) -> None:
    """Replace the record atomically (a kill mid-write leaves the previous one)."""
    data = json.dumps({"target": target, "objects": objects}, separators=(",", ":"), sort_keys=True).encode()
    with contextlib.suppress(FileExistsError):
        path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, data)
