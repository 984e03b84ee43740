"""A watcher's share cards, drawn by a process of their own rather than in its builds.

A card is a few milliseconds to draw, and a night of 10,000 entries waits for 10,000 of them after a cold
start, a restart or a change of title. Drawn by the builds, 8 at a time between reporters' saves, each of
those builds took the builder ~90 ms on a slow machine, every ~0.34 s for ten minutes, and a reporter's save
that landed during one waited for it. A thread of the watcher's own was tried and made drops slower still: at
each of a build's many system calls it took the interpreter lock and kept it for its switch interval. So a
process draws them into the card store (``.countnight/cards``), at a lower priority: a new interpreter that
imports the cards' module alone (~20 MB; a fork of the watcher would come to hold a copy of what the watcher
had when forked, as the watcher wrote to its pages), started when there are cards to draw and ended when there
are none. The watcher's builds only name the cards drawn (``pages._catch_up`` finds them kept), a few dozen
once it has been quiet a moment (watch.py).

The watcher hands it the cards the site waits for (``Site.cards_to_draw``) after a build, when it is idle;
``done`` is called (from a thread that reads its answers) after each batch. If it cannot keep a card (a
read-only or full disk), a card cannot be drawn, or the process ends, it stops and says why (``trouble``): the
watcher's builds draw the cards themselves, as before.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO

from .lifeline import die_with
from .sharecards import Card, CardStore

BATCH = 64  # cards a batch: ~0.5 s of drawing on a busy core (the watcher's builds name them: watch.py)
NICENESS = 10  # the drawing process's priority below the watcher's
_FRAME = struct.Struct("<Q")  # the length of the pickled batch (or answer) that follows


class CardPainter:
    """Draws batches of share cards into the card store's folder in a process of its own, started with the first
    batch and ended when there is nothing left to draw (``rest``): the watcher carries it only while cards wait.
    ``done()`` is called after each batch."""

    def __init__(self, folder: Path, done: Callable[[], None]) -> None:
        self.folder = folder
        self.done = done
        self.trouble: str | None = None  # why it stopped drawing (the watcher says it once)
        self._started = False  # start() called, stop() not yet
        self._process: subprocess.Popen[bytes] | None = None  # the process drawing now, if any
        self._reader: threading.Thread | None = None
        self._lock = threading.Lock()
        self._drawn: list[str] = []  # digests drawn since the last take_drawn()
        self._busy = False

    @property
    def working(self) -> bool:
        """Whether it takes cards: started, not stopped, and never stopped by trouble."""
        return self._started and self.trouble is None

    @property
    def busy(self) -> bool:
        """Whether a batch is being drawn (the next is handed after it)."""
        return self._busy

    @property
    def pid(self) -> int | None:
        """The drawing process's, while there is one."""
        process = self._process
        return None if process is None else process.pid

    def start(self) -> None:
        """Take cards from now on; the process starts with the first batch."""
        self._started = True

    def paint(self, cards: Sequence[Card]) -> bool:
        """Draw ``cards`` (at most BATCH) unless a batch is being drawn or it has stopped; whether it took them."""
        if not cards or self._busy or not self.working:
            return False
        process = self._process or self._spawn()
        if process is None or process.stdin is None:
            return False
        data = pickle.dumps(tuple(cards[:BATCH]), pickle.HIGHEST_PROTOCOL)
        self._busy = True
        try:
            process.stdin.write(_FRAME.pack(len(data)) + data)
            process.stdin.flush()
        except OSError:  # it ended: its reader says so
            self._busy = False
            return False
        return True

    def rest(self) -> None:
        """End the drawing process, if it has no batch: nothing is left to draw for now (the next batch starts
        another). Its memory goes back to the system for the rest of the night."""
        process = self._process
        if process is not None and not self._busy:
            self._process = None
            _close(process)

    def take_drawn(self) -> list[str]:
        """The digests of the cards drawn since the last call (for the card store to know them kept)."""
        with self._lock:
            drawn, self._drawn = self._drawn, []
        return drawn

    def stop(self, timeout: float = 5.0) -> None:
        """End the process after the card it is drawing; up to ``timeout`` seconds, then it is killed."""
        self._started = False
        process, self._process = self._process, None
        if process is not None:
            _close(process)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._reader is not None:
            self._reader.join(timeout)

    def _spawn(self) -> subprocess.Popen[bytes] | None:
        command = [sys.executable, "-m", "countnight.cardpainter", str(self.folder), str(os.getpid())]
        try:
            process = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
            )
        except OSError as err:  # no memory or processes to spare: the builds draw the cards
            self.trouble = f"no process to draw share cards aside ({err.strerror}); the builds draw them"
            return None
        self._process = process
        self._reader = threading.Thread(target=self._read, args=(process,), name="countnight-cards", daemon=True)
        self._reader.start()
        return process

    def _read(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        with process.stdout as answers:
            while len(head := answers.read(_FRAME.size)) == _FRAME.size:
                answer: list[str] | str = pickle.loads(answers.read(_FRAME.unpack(head)[0]))
                with self._lock:
                    if isinstance(answer, str):
                        self.trouble = f"a share card could not be drawn aside ({answer}); the builds draw them"
                    elif answer:
                        self._drawn.extend(answer)
                    elif self._process is process:
                        self.trouble = f"{self.folder}: share cards cannot be kept there; the builds draw them"
                    self._busy = False
                self.done()
        process.wait()  # (reaped: no zombie left)
        if self._process is process:  # not rested or stopped: it ended (killed, out of memory)
            self._process = None
            if self.trouble is None:
                self.trouble = "the process drawing share cards ended; the builds draw them"
            self._busy = False
            self.done()


def _close(process: subprocess.Popen[bytes]) -> None:
    """Its orders end: it ends between two cards (or at once, waiting for a batch)."""
    if process.stdin is not None:
        with contextlib.suppress(OSError):
            process.stdin.close()


def _draw_batches(orders: IO[bytes], answers: IO[bytes], folder: Path) -> None:
    """The drawing process: each batch drawn into ``folder`` (those there already only read), answered with the
    digests kept there, or why a card could not be drawn; until its orders end."""
    store = CardStore(folder)
    while len(head := orders.read(_FRAME.size)) == _FRAME.size:
        cards: tuple[Card, ...] = pickle.loads(orders.read(_FRAME.unpack(head)[0]))
        answer: list[str] | str = []
        try:
            for card in cards:
                if select.select([orders], [], [], 0)[0]:  # the orders ended (only one batch is ever in flight)
                    return
                store.png(card)
            answer = [card.digest for card in cards if store.kept(card.digest)]
        except Exception as err:
            answer = f"{type(err).__name__}: {err}"
        data = pickle.dumps(answer, pickle.HIGHEST_PROTOCOL)
        answers.write(_FRAME.pack(len(data)) + data)
        answers.flush()


def main() -> None:
    """``python -m countnight.cardpainter FOLDER PARENT``: batches on standard input, answers on standard output."""
    folder, parent = Path(sys.argv[1]), int(sys.argv[2])
    die_with(parent)
    # The builder first, on a machine of few cores: reporters' saves wait for no card.
    with contextlib.suppress(OSError):
        os.nice(NICENESS)
    for sent_to_the_group in (signal.SIGINT, signal.SIGTERM):  # Ctrl-C, a service stopped: the watcher ends it
        signal.signal(sent_to_the_group, signal.SIG_IGN)  # in order (its orders end), or it dies with the watcher
    _draw_batches(sys.stdin.buffer, sys.stdout.buffer, folder)


if __name__ == "__main__":
    main()
