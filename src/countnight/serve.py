"""A local preview server for the output folder (loopback by default), run beside the watcher.

It also offers the live channel at ``/live/channel`` as an event stream, as nginx with nchan does in a
deployment, so open preview pages get each build's changes pushed.

It serves the output folder and nothing else: ``..`` in any spelling, hidden files (the writer's temp
files and manifest) and links that lead outside are refused. HTML and ``live.json`` are never cached, so
a refresh always shows the newest build. Outstanding validation errors are shown in a banner injected
into the pages as they are served: the files in ``site/`` never contain it.
"""

from __future__ import annotations

import html
import os
import re
import socket
import threading
from collections.abc import Callable
from contextlib import suppress
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, unquote, urlsplit

from .channel import CHANNEL_PATH, PING

if TYPE_CHECKING:
    from .channel import LiveChannel

_PREVIEW = "/__countnight/preview.css"  # the banner's stylesheet: the pages' CSP allows 'self' styles only
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
    ".xml": "application/atom+xml",  # the only XML the site has is the Atom feed
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".txt": "text/plain; charset=utf-8",
}
_HASHED = re.compile(r"\.[0-9a-f]{10}\.[a-z0-9]+$")  # assets/style.1a2b3c4d5e.css: its name changes with it
_BODY = re.compile(rb"<body\b[^>]*>", re.IGNORECASE)
_BANNER_CSS = b"""\
.countnight-preview{position:sticky;top:0;z-index:1000;margin:0;padding:.75rem 1rem;background:#b00020;color:#fff;
font:14px/1.4 system-ui,sans-serif}
.countnight-preview strong{display:block;margin-bottom:.25rem}
.countnight-preview ul{margin:0;padding-left:1.25rem}
.countnight-preview code{font:13px/1.4 ui-monospace,monospace;white-space:pre-wrap}
"""
MAX_SHOWN = 20


def resolve(out: Path, request_path: str) -> Path | None:
    """The file under ``out`` that a request path names, or None if it names anything else."""
    try:
        text = unquote(urlsplit(request_path).path, errors="strict")
    except (UnicodeDecodeError, ValueError):
        return None
    if "\0" in text or "\\" in text:
        return None
    parts = [part for part in text.split("/") if part not in ("", ".")]
    if any(part.startswith(".") for part in parts):  # '..', and the writer's hidden temp files and manifest
        return None
    base = os.path.realpath(out)
    real = os.path.realpath(os.path.join(base, *parts))
    if real != base and not real.startswith(base + os.sep):  # a link that leads outside
        return None
    return Path(real)


def banner(problems: list[str]) -> bytes:
    """The preview banner: every outstanding problem (the first MAX_SHOWN of them)."""
    count = len(problems)
    items = "".join(f"<li><code>{html.escape(p)}</code></li>" for p in problems[:MAX_SHOWN])
    if count > MAX_SHOWN:
        items += f"<li>… and {count - MAX_SHOWN} more (see the console)</li>"
    title = f"{count} problem{'s' if count != 1 else ''} not fixed yet (preview only; readers never see this)"
    return f'<div class="countnight-preview" role="alert"><strong>{title}</strong><ul>{items}</ul></div>'.encode()


def inject(page: bytes, problems: list[str]) -> bytes:
    """The page with the banner at the top of the body and its stylesheet in the head."""
    if not problems:
        return page
    link = f'<link rel="stylesheet" href="{_PREVIEW}">'.encode()
    page = page.replace(b"</head>", link + b"</head>", 1) if b"</head>" in page else link + page
    match = _BODY.search(page)
    at = match.end() if match else 0
    return page[:at] + banner(problems) + page[at:]


class PreviewHandler(BaseHTTPRequestHandler):
    """GET and HEAD of the files under ``server.out``, nothing else."""

    server: PreviewServer
    server_version = "countnight-preview"

    def do_GET(self) -> None:
        self._serve(body=True)

    def do_HEAD(self) -> None:
        self._serve(body=False)

    def _serve(self, body: bool) -> None:
        path = urlsplit(self.path).path
        if path == _PREVIEW:
            self._send(HTTPStatus.OK, _BANNER_CSS, _TYPES[".css"], body, cache=False)
            return
        if path == CHANNEL_PATH and self.server.channel is not None and body:
            self._stream(self.server.channel)
            return
        target = resolve(self.server.out, self.path)
        try:  # (a name too long for the file system: pathlib raises it from the first look, a 404 too)
            if target is not None and target.is_dir():
                if not path.endswith("/"):  # so that the page's relative links resolve inside the folder
                    self.send_response(HTTPStatus.MOVED_PERMANENTLY)
                    self.send_header("Location", path + "/")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                target = target / "index.html"
            if target is None or not target.is_file():
                raise FileNotFoundError
            data = target.read_bytes()
        except OSError:
            self._send(HTTPStatus.NOT_FOUND, b"Not found\n", _TYPES[".txt"], body, cache=False)
            return
        kind = _TYPES.get(target.suffix.lower(), "application/octet-stream")
        if target.suffix.lower() == ".html":
            data = inject(data, self.server.problems())
        self._send(HTTPStatus.OK, data, kind, body, cache=bool(_HASHED.search(target.name)))

    def _stream(self, channel: LiveChannel) -> None:
        """The live channel as an event stream, as nchan sends it behind nginx: each message an event with its
        number as the id; a page that reconnects with Last-Event-ID (the header, or ``last_event_id`` in the
        query, as nchan reads it) gets the kept messages it missed. While no message comes, a "ping" event
        every ``server.ping`` seconds (its data that interval), as deploy/nginx.conf has nchan send: proxies
        keep the stream open, and a page that hears nothing for a few intervals knows the stream is dead."""
        asked = parse_qs(urlsplit(self.path).query).get("last_event_id", [""])[-1]
        try:
            after = int(self.headers.get("Last-Event-ID", "") or asked)
        except ValueError:
            after = channel.seq  # a new subscriber: what comes next
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        with suppress(OSError):  # the page went away
            self.wfile.write(b": countnight live channel\n\n")
            self.wfile.flush()
            ping = b"event: ping\ndata: %s\n\n" % f"{self.server.ping:g}".encode()
            while (messages := channel.messages_after(after, self.server.ping)) is not None:
                chunk = b"".join(b"id: %d\ndata: %s\n\n" % (seq, data) for seq, data in messages)
                self.wfile.write(chunk or ping)
                self.wfile.flush()
                after = messages[-1][0] if messages else after

    def _send(self, status: HTTPStatus, data: bytes, kind: str, body: bool, *, cache: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Content-Type-Options", "nosniff")
        # Hashed assets never change under their name; everything else (HTML, live.json) is checked every time.
        self.send_header("Cache-Control", "public, max-age=31536000, immutable" if cache else "no-cache")
        self.end_headers()
        if body:
            self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass  # the console reports builds, not requests


class PreviewServer(ThreadingHTTPServer):
    """Serves ``out`` on ``host:port`` (port 0: any free port); ``problems`` feeds the banner."""

    daemon_threads = True

    def __init__(
        self,
        out: Path,
        host: str = "127.0.0.1",
        port: int = 8000,
        *,
        problems: Callable[[], list[str]] = list,
        channel: LiveChannel | None = None,
        ping: float = PING,
    ) -> None:
        self.out = out
        self.problems = problems
        self.channel = channel  # the live channel pages subscribe to (None: they poll)
        self.ping = ping  # seconds between the event stream's pings while no message comes
        self._thread: threading.Thread | None = None
        if ":" in host:  # an IPv6 address such as ::1
            self.address_family = socket.AF_INET6
        super().__init__((host, port), PreviewHandler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        host = f"[{host}]" if ":" in str(host) else host
        return f"http://{host}:{port}/"

    def start(self) -> None:
        """Serve from a background thread."""
        # A short poll interval: shutdown() waits for it, and Ctrl-C should end the preview at once.
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, name="countnight-preview", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self.shutdown()
            self._thread.join(5)
        self.server_close()
