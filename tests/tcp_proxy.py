"""A small TCP proxy on loopback for fault tests: it delays every chunk it forwards, cuts every connection, or
stalls the open ones (they stay open and nothing more goes through them, as a proxy or a network that holds a
connection and drops what comes; new connections go through).

asyncio in a thread of its own; ``delay`` and ``cutting`` may be changed while it runs, ``stall()`` called.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading

REQUEST_LINE = re.compile(rb"(?:^|\r\n)((?:GET|HEAD|POST|PUT|DELETE) [^\r\n]* HTTP/1\.[01])\r\n")


class DelayingProxy:
    """127.0.0.1:PORT → 127.0.0.1:``upstream``; ``delay`` seconds before each chunk goes on, either way."""

    def __init__(self, upstream: int, delay: float = 0.0) -> None:
        self.upstream = upstream
        self.delay = delay
        self.cutting = False  # accept, then close at once: the store "is away"
        self.connections = 0
        self.requests: list[str] = []  # every HTTP request line clients sent, in order
        self.pings = 0  # "ping" events of an event stream forwarded to clients
        self.stalled: set[int] = set()  # connections (by number) that forward nothing more but stay open
        self._asked: dict[int, list[str]] = {}  # each connection's request lines, by number
        self.hung_up: set[int] = set()  # connections (by number) their client closed
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._server: asyncio.Server | None = None
        self._thread = threading.Thread(target=self._run, name="delaying-proxy", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> DelayingProxy:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the proxy did not start")
        return self

    def asked(self, asking: str) -> list[int]:
        """The connections (by number, in order) that carried a request with ``asking`` in its line."""
        return sorted(n for n, lines in list(self._asked.items()) if any(asking in line for line in lines))

    def stall(self, asking: str = "") -> int:
        """From now on the connections open now that carried a request with ``asking`` in its line (an event
        stream's path) forward nothing, either way, and are never closed by the proxy (what comes is read and
        dropped); how many were stalled. Others go on, as do new connections."""
        now = set(self.asked(asking)) - self.hung_up
        self._loop.call_soon_threadsafe(self.stalled.update, now)
        return len(now)

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", 0))
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        self._server.close()
        with contextlib.suppress(Exception):
            self._loop.run_until_complete(self._server.wait_closed())
        self._loop.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        number = self.connections
        if self.cutting:
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream)
        except OSError:
            writer.close()
            return
        await asyncio.gather(
            self._pipe(reader, up_writer, number, up=True),
            self._pipe(up_reader, writer, number, up=False),
            return_exceptions=True,
        )

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, number: int, *, up: bool) -> None:
        try:
            while chunk := await reader.read(65536):
                if self.cutting:
                    break
                if number in self.stalled:
                    continue  # held open, nothing forwarded
                if up:
                    lines = [m.decode("latin-1") for m in REQUEST_LINE.findall(chunk)]
                    self.requests += lines
                    self._asked.setdefault(number, []).extend(lines)
                else:
                    self.pings += chunk.count(b"event: ping\n")
                if self.delay:
                    await asyncio.sleep(self.delay)
                writer.write(chunk)
                await writer.drain()
            if up:
                self.hung_up.add(number)
        except OSError:
            pass
        finally:
            if up or number not in self.stalled:  # a stalled connection is never closed towards its client
                with contextlib.suppress(Exception):
                    writer.close()
