"""One writer per blog folder: ``build``, ``watch`` and ``serve`` hold ``.countnight/lock`` while they publish.

Two watchers on one folder ran together without a word and journalled every version twice, each rewriting
the other's pages. The lock is an ``flock(2)`` on that file: the kernel lets it go when its process ends,
however it ends (a crash, SIGKILL, a power cut), so a stale lock cannot be left behind, and the file itself
is never removed (a process that removed it could let a third one lock a new file beside a held one). The
holder writes its process id, host, command and start time into the file, for the message a second one gives.
The standard library only.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

from .errors import describe_os_error
from .journal import STATE_DIR

LOCK = "lock"


class Busy(Exception):
    """The blog folder is taken: another process publishes it, or its lock cannot be made. The message says which."""


def _holder(fd: int) -> str:
    """Who holds the lock, from what it wrote into the file (it may not have written yet)."""
    try:
        data = json.loads(os.pread(fd, 4096, 0) or b"{}")
        since = time.strftime("%H:%M:%S", time.localtime(float(data["since"])))
        return f"countnight {data['command']} (process {int(data['pid'])} on {data['host']}, since {since})"
    except (OSError, ValueError, KeyError, TypeError, OverflowError):
        return "another countnight process"


@contextlib.contextmanager
def writer(root: Path, command: str) -> Iterator[None]:
    """Hold the blog folder's lock while the block runs; Busy when another process holds it."""
    state = root / STATE_DIR
    path = state / LOCK
    try:
        state.mkdir(exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0), 0o644)
    except OSError as err:
        raise Busy(f"{path}: cannot lock the blog folder ({describe_os_error(err, path)})") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Busy(
                f"{_holder(fd)} is already publishing {root}: one build, watch or serve at a time writes a "
                f"blog folder (the lock is {path}); stop that one first"
            ) from None
        except OSError as err:  # a file system without locks
            raise Busy(f"{path}: cannot lock the blog folder ({describe_os_error(err, path)})") from None
        note = {"pid": os.getpid(), "host": socket.gethostname(), "command": command, "since": time.time()}
        with contextlib.suppress(OSError):  # only the message of a second process is lost without it
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(note).encode() + b"\n", 0)
        yield
    finally:
        os.close(fd)  # the lock goes with it
