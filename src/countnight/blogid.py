"""The blog's own id, which its Atom feed and entry ids are made from: made once, then never changed.

Feed readers tell entries apart by id, so an id must outlive a change of ``base_url`` (a move to another
address) and differ between two blogs at one address (a newsroom's page for each night). ``feed_id`` in
countnight.toml wins; without it the first build makes a random one and keeps it in
``.countnight/blog-id`` (the README says to copy it into the config, where a backup of the folder keeps it).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from .errors import InputError
from .fileio import read_file, write_synced

STATE_DIR = ".countnight"
BLOG_ID = "blog-id"


def parse_blog_id(text: str, where: str) -> str:
    """``text`` as a canonical UUID string; InputError naming ``where`` if it is not one."""
    try:
        return str(uuid.UUID(text.strip()))
    except ValueError:
        raise InputError.one(where, 1, f"'{text.strip()[:60]}' is not a UUID like {uuid.UUID(int=0)}") from None


def blog_id(root: Path) -> str:
    """The id kept in ``root/.countnight/blog-id``, made (a random UUID, written atomically) if there is none."""
    path = root / STATE_DIR / BLOG_ID
    try:
        return parse_blog_id(read_file(path).decode("utf-8", "replace"), f"{STATE_DIR}/{BLOG_ID}")
    except FileNotFoundError:
        pass
    except OSError as err:
        raise InputError.one(f"{STATE_DIR}/{BLOG_ID}", 0, f"cannot read the blog's id: {err.strerror}") from None
    try:
        return _make(path)
    except OSError as err:
        raise InputError.one(f"{STATE_DIR}/{BLOG_ID}", 0, f"cannot keep the blog's id: {err.strerror}") from None


def _make(path: Path) -> str:
    made = str(uuid.uuid4())
    path.parent.mkdir(exist_ok=True)
    temp = path.with_name(f".{BLOG_ID}.{os.getpid()}.tmp")
    write_synced(temp, f"{made}\n".encode())
    try:
        os.link(temp, path)  # never replaces one another process made meanwhile: that one is kept
    except FileExistsError:
        return parse_blog_id(read_file(path).decode("utf-8", "replace"), f"{STATE_DIR}/{BLOG_ID}")
    except OSError:  # a file system without hard links: a rename, which is atomic too
        os.replace(temp, path)
        return made
    finally:
        temp.unlink(missing_ok=True)
    return made
