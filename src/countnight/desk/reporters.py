"""Who may use the desk: reporters, their one-time sign-in links and their sessions.

Everything lives in ``.countnight/desk-reporters.json``, shared by the command line (``countnight
reporter add/list/remove``) and the running desk, which reads it on every request: removing a reporter
ends their sessions at once, with no restart. Secrets are 256-bit random tokens and only their SHA-256
is stored: a token that long cannot be guessed, so a slow password hash would add nothing, and a copy
of the file signs nobody in. Writers take a lock and replace the file atomically.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..fileio import write_all
from ..journal import STATE_DIR

STORE = "desk-reporters.json"
SECRET = "desk-secret"
LINK_LIFETIME = timedelta(days=7)  # a link is sent days before the night; it works once
SESSION_LIFETIME = timedelta(hours=36)  # a night and its morning after
MAX_NAME = 80


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Reporter:
    """A reporter as the desk sees them."""

    name: str
    role: str
    editor: bool
    added: str


def _clean(text: str, what: str, limit: int) -> str:
    value = " ".join(text.split())
    if not value:
        raise InputError.one(what, 0, "must not be empty")
    if len(value) > limit:
        raise InputError.one(what, 0, f"is {len(value)} characters; at most {limit}")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise InputError.one(what, 0, "must not hold control characters")
    return value


class Reporters:
    """The reporters file of a blog folder. Each method reads the file afresh (it is small)."""

    def __init__(self, root: Path) -> None:
        self.folder = root / STATE_DIR
        self.path = self.folder / STORE

    # -- the file ---------------------------------------------------------------------------------

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_bytes())
        except FileNotFoundError:
            return {"reporters": {}}
        except (ValueError, OSError) as err:
            raise InputError.one(f"{STATE_DIR}/{STORE}", 0, f"cannot be read ({err})") from None
        if not isinstance(data, dict) or not isinstance(data.get("reporters"), dict):
            raise InputError.one(f"{STATE_DIR}/{STORE}", 0, "is not a reporters file")
        return data

    @contextlib.contextmanager
    def _changing(self) -> Iterator[dict[str, Any]]:
        """The file's data, locked against other writers; written back atomically when the block ends."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / f"{STORE}.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            data = self._read()
            yield data
            tmp = self.folder / f".{STORE}.{os.getpid()}.tmp"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # hashes only, but nobody's business
            try:
                write_all(fd, json.dumps(data, indent=1, sort_keys=True).encode())
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, self.path)

    @staticmethod
    def _find(data: dict[str, Any], name: str) -> str | None:
        folded = name.casefold()
        return next((key for key in data["reporters"] if key.casefold() == folded), None)

    # -- the command line -------------------------------------------------------------------------

    def add(self, name: str, role: str, editor: bool, now: datetime) -> str:
        """Add a reporter; returns their one-time sign-in token."""
        name = _clean(name, "NAME", MAX_NAME)
        role = _clean(role, "--role", MAX_NAME) if role.strip() else ""  # SPEC: the role is optional
        with self._changing() as data:
            if self._find(data, name) is not None:
                raise InputError.one("NAME", 0, f"'{name}' is already a reporter (reporter link gives a new link)")
            token = secrets.token_urlsafe(32)
            data["reporters"][name] = {
                "role": role,
                "editor": editor,
                "added": now.isoformat(timespec="seconds"),
                "link": digest(token),
                "link_until": (now + LINK_LIFETIME).isoformat(timespec="seconds"),
                "sessions": {},
            }
        return token

    def new_link(self, name: str, now: datetime) -> str:
        """A fresh one-time link for a reporter (a lost phone); the old link stops working."""
        with self._changing() as data:
            key = self._find(data, name)
            if key is None:
                raise InputError.one("NAME", 0, f"'{name}' is not a reporter (reporter list)")
            token = secrets.token_urlsafe(32)
            data["reporters"][key]["link"] = digest(token)
            data["reporters"][key]["link_until"] = (now + LINK_LIFETIME).isoformat(timespec="seconds")
        return token

    def remove(self, name: str) -> str:
        """Remove a reporter: their link and every session stop working at the next request."""
        with self._changing() as data:
            key = self._find(data, name)
            if key is None:
                raise InputError.one("NAME", 0, f"'{name}' is not a reporter (reporter list)")
            del data["reporters"][key]
        return key

    def all(self) -> list[tuple[Reporter, int]]:
        """Every reporter and how many sessions they have open."""
        data = self._read()
        return [
            (Reporter(name, r["role"], bool(r["editor"]), r["added"]), len(r.get("sessions", {})))
            for name, r in sorted(data["reporters"].items(), key=lambda item: item[0].casefold())
        ]

    # -- the desk ---------------------------------------------------------------------------------

    def sign_in(self, token: str, now: datetime) -> tuple[Reporter, str] | None:
        """Spend a one-time link: (the reporter, a new session token), or None for a bad or spent link."""
        if not token or len(token) > 100:
            return None
        wanted = digest(token)
        with self._changing() as data:
            for name, r in data["reporters"].items():
                link = r.get("link")
                if link and hmac.compare_digest(link, wanted):
                    if datetime.fromisoformat(r["link_until"]) < now:
                        return None
                    session = secrets.token_urlsafe(32)
                    r["link"] = None  # one time only
                    r["sessions"] = {
                        h: until
                        for h, until in r.get("sessions", {}).items()
                        if datetime.fromisoformat(until) > now  # forget expired sessions while here
                    }
                    r["sessions"][digest(session)] = (now + SESSION_LIFETIME).isoformat(timespec="seconds")
                    return Reporter(name, r["role"], bool(r["editor"]), r["added"]), session
        return None

    def session(self, token: str | None, now: datetime) -> Reporter | None:
        """The reporter a session token belongs to, if it is still open and they are still a reporter."""
        if not token or len(token) > 100:
            return None
        wanted = digest(token)
        for name, r in self._read()["reporters"].items():
            until = r.get("sessions", {}).get(wanted)
            if until is not None and datetime.fromisoformat(until) > now:
                return Reporter(name, r["role"], bool(r["editor"]), r["added"])
        return None

    def sign_out(self, token: str) -> None:
        wanted = digest(token)
        with self._changing() as data:
            for r in data["reporters"].values():
                r.get("sessions", {}).pop(wanted, None)


def secret_key(root: Path) -> bytes:
    """The desk's own key for CSRF tokens: 32 random bytes in ``.countnight/desk-secret``, made once."""
    path = root / STATE_DIR / SECRET
    with contextlib.suppress(FileNotFoundError):
        return path.read_bytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another desk made it first
        return path.read_bytes()
    try:
        write_all(fd, key)
        os.fsync(fd)
    finally:
        os.close(fd)
    return key


def now_utc() -> datetime:
    return datetime.now(UTC)
