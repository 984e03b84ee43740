"""The live channel: an outlet (changes.Outlet) that gets each build's changes to every open page.

Each build's changes become one numbered message (livedelta.py), sent three ways:

- ``live/SEQ.json`` and ``live/head.json`` in the output folder, written before anything is pushed: a page
  that polls (no channel, or the channel is down) fetches the small head, then only the messages it
  missed, and a page that sees a gap in the pushed numbers fills it from these files;
- an HTTP POST to the push engine's publisher (nginx with the nchan module: ``[live] publish_url`` in
  countnight.toml, read when the channel starts), which fans it out to every subscriber and keeps a
  buffer to resume from; the channel works in a thread of its own, in build order, so a slow or dead
  engine never holds up a build. A message the engine did not take is sent again, in order, once it takes
  messages again (tried every few seconds meanwhile): a page that stayed subscribed through the trouble
  then gets it without waiting for the next build, and one that reconnected has it from the files already;
- the preview server's own event stream (serve.py), from the messages kept here.

The work per message is the same whatever the number of readers: the engine (or the static files) fans out.
"""

from __future__ import annotations

import contextlib
import json
import queue
import threading
from collections import deque
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from .changes import Changes
from .config import load_config
from .errors import InputError
from .livedelta import PanelState, encode_message, read_live
from .publish import write_atomic
from .uptodate import LIVE_FOLDER

FOLDER = LIVE_FOLDER  # in the output folder; never part of the up-to-date record
CHANNEL_PATH = "/live/channel"  # where pages subscribe (the page's data-channel; deploy/nginx.conf; serve.py)
HEAD = "head.json"
# Seconds between the event stream's "ping" events while no message comes (deploy/nginx.conf's
# nchan_eventsource_ping_interval and _data, and serve.py): live.js gives a stream up after 2.5 silent intervals.
PING = 15
KEEP = 240  # messages kept as files and in memory: a page away longer than that reloads live.json
TIMEOUT = 2.0  # seconds for one POST to the engine
RETRY, RETRY_MAX = 1.0, 10.0  # seconds before the engine is tried again after a failure; doubling up to the most


class LiveChannel:
    """The live outlet (changes.Outlet): numbers each build's message and sends it out; see the module's
    docstring. ``send`` only queues: the channel's own thread makes the message and sends it, in build order.

    ``warn`` hears of trouble once when the engine stops taking messages, and ``note`` once when it is back;
    ``wrote`` of every message's files written into and removed from the output folder (for an object store).
    """

    needs = frozenset({"live.json"})  # the only file it reads from a build's changes: the rest need not be made

    def __init__(
        self,
        out: Path,
        *,
        publish_url: str | None = None,
        keep: int = KEEP,
        timeout: float = TIMEOUT,
        local: bool = False,
        warn: Callable[[str], None] = lambda message: None,
        note: Callable[[str], None] = lambda message: None,
        wrote: Callable[[list[str], list[str]], None] = lambda written, removed: None,
    ) -> None:
        self.folder = out / FOLDER
        self.publish_url = publish_url
        self.local = local  # a preview server offers the messages kept here as an event stream
        self.keep = keep
        self.timeout = timeout
        self.warn, self.note = warn, note
        self.wrote = wrote  # told the paths (in the output folder) of each message's files written and removed
        self.seq = _read_seq(self.folder / HEAD)
        self._sent: dict[str, PanelState] | None = None  # the panels as pages were last sent them
        self._revs: dict[str, str] | None = None  # the entries' revisions in the live.json last sent
        self._ended = False
        self._lost = True  # nothing sent yet by this process (or a message lost): the next one resets pages
        self._messages: deque[tuple[int, bytes]] = deque(maxlen=keep)
        self._changed = threading.Condition()
        self._closed = False
        self._work: queue.SimpleQueue[Changes | None] = queue.SimpleQueue()
        self._pending = 0  # changes queued and not yet sent out
        self._down = False
        self._posted = self.seq  # the last message the engine took (an earlier run's are not this one's to send)
        self._retry = RETRY  # seconds until the engine is tried again, while it is down
        self._thread = threading.Thread(target=self._loop, name="countnight-live", daemon=True)
        self._thread.start()

    # -- the build's side --------------------------------------------------------------------------

    def send(self, changes: Changes) -> None:
        """Take a build's changes (from the build's thread): queued, made and sent by the channel's thread."""
        with self._changed:
            if self._closed:
                return
            self._pending += 1
        self._work.put(changes)

    def _loop(self) -> None:
        while True:
            try:
                changes = self._work.get(timeout=self._retry if self._down else None)
            except queue.Empty:  # no build for a while, and the engine missed messages: try it again
                self._deliver()
                continue
            if changes is None:
                return
            try:
                self._take(changes)
            except Exception as err:  # the disk, or a live.json it cannot read: the next message resets pages
                self._lost = True
                self.warn(f"live channel: could not send a build's changes ({type(err).__name__}: {err})")
            finally:
                with self._changed:
                    self._pending -= 1
                    self._changed.notify_all()

    def _take(self, changes: Changes) -> int | None:
        """One build's message: made, written, kept for the preview, posted to the engine; its number."""
        data = changes.files.get("live.json")
        if data is None:
            return None  # live.json did not change: nothing a page shows did
        state = read_live(data if isinstance(data, bytes) else data())
        reset = self._lost or changes.complete  # a first build of this process, or a message lost
        message = encode_message(
            changes.live, state, self.seq + 1, self._sent, reset=reset, ended_sent=self._ended, revs_sent=self._revs
        )
        if message is None:
            return None
        self._lost = True
        self._write(self.seq + 1, message)
        self._lost = False
        self.seq += 1
        self._sent = dict(state.panels)
        self._revs = {ident: str(entry.get("rev")) for ident, entry in state.entries.items()}
        self._ended = state.ended
        with self._changed:
            self._messages.append((self.seq, message))
            self._changed.notify_all()
        if self.publish_url is not None:
            self._deliver()
        return self.seq

    def _write(self, seq: int, data: bytes) -> None:
        """The message as a file, then the head that names it (a poller never finds a head ahead of its file)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        write_atomic(self.folder / f"{seq}.json", data)
        # "channel": whether pages may subscribe (a static host without one would answer each page with a 404)
        head = {"seq": seq, "first": max(1, seq - self.keep + 1), "channel": self.local or self.publish_url is not None}
        write_atomic(self.folder / HEAD, json.dumps(head, separators=(",", ":")).encode())
        removed = []
        with contextlib.suppress(FileNotFoundError):
            (self.folder / f"{seq - self.keep}.json").unlink()
            removed.append(f"{FOLDER}/{seq - self.keep}.json")
        # An object store mirroring the folder hears of these files too: the build's changes, which it is sent,
        # never hold them, and a store left with an old head would show polling readers nothing new.
        self.wrote([f"{FOLDER}/{seq}.json", f"{FOLDER}/{HEAD}"], removed)

    # -- the engine's side -------------------------------------------------------------------------

    def _deliver(self) -> None:
        """POST the engine every kept message it has not taken, in order, stopping at the first it refuses (tried
        again later: ``_loop``). Its failure is said once, and its return once."""
        import http.client  # only a channel with an engine to post to needs it (~10 ms of every build's start)

        with self._changed:
            due = [(n, data) for n, data in self._messages if n > self._posted]
        for seq, data in due:
            try:
                self._post(data)
            except (OSError, http.client.HTTPException, ValueError) as err:
                if self._down:
                    self._retry = min(RETRY_MAX, self._retry * 2)
                else:
                    self._down, self._retry = True, RETRY
                    self.warn(
                        f"live channel: {self.publish_url} did not take message {seq} ({err}); open pages poll "
                        "until it is back, and it is sent again then"
                    )
                return
            self._posted = seq
            if self._down:
                self._down = False
                self.note(f"live channel: {self.publish_url} takes messages again (from {seq})")

    def _post(self, data: bytes) -> None:
        import http.client

        parts = urlsplit(self.publish_url or "")
        kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        connection = kind(parts.hostname or "127.0.0.1", parts.port, timeout=self.timeout)
        try:
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            connection.request("POST", target, body=data, headers={"Content-Type": "application/json"})
            response = connection.getresponse()
            response.read()
            if response.status >= 300:
                raise ValueError(f"HTTP {response.status}")
        finally:
            connection.close()

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every change sent so far is out, and the engine has answered (tests, a clean stop)."""
        with self._changed:
            return self._changed.wait_for(lambda: self._pending == 0, timeout)

    @property
    def down(self) -> bool:
        """Whether the engine refused or missed the last message sent to it."""
        return self._down

    # -- the preview server's side -------------------------------------------------------------------

    def messages_after(self, seq: int, timeout: float) -> list[tuple[int, bytes]] | None:
        """The kept messages numbered after ``seq``, waiting up to ``timeout`` for one; None once closed."""
        with self._changed:
            self._changed.wait_for(lambda: self._closed or (self._messages and self._messages[-1][0] > seq), timeout)
            if self._closed:
                return None
            return [(n, data) for n, data in self._messages if n > seq]

    def close(self) -> None:
        """Stop: end the preview's streams and let the engine's thread finish what it was given."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()
        self._work.put(None)  # after what is queued: a one-off build's message still goes out
        self._thread.join(self.timeout * 4)


def publish_url(root: Path) -> str | None:
    """The engine's publisher named by the blog's config (``[live] publish_url``); None when there is none,
    or the config cannot be read (the build says why)."""
    try:
        live = load_config(root).live
    except InputError:
        return None
    return live.publish_url if live is not None else None


def _read_seq(path: Path) -> int:
    """The number of the last message an earlier run sent (0: none), so numbers go on rising across restarts."""
    try:
        head = json.loads(path.read_bytes())
        seq = head["seq"] if isinstance(head, dict) else 0
    except (OSError, ValueError, KeyError):
        return 0
    return seq if isinstance(seq, int) and seq >= 0 else 0
