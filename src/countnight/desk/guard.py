"""The desk's walls: security headers and CSP, a size limit on requests, CSRF tokens, a rate limiter.

Plain ASGI middleware and small functions, so each can be read (and tested) on its own.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

# No inline script or style; forms post only to the desk; nobody may frame it; nothing leaks the sign-in
# link in a Referer. The theme's own card in a preview needs only 'self' too.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    (b"cache-control", b"no-store"),
]
HSTS = (b"strict-transport-security", b"max-age=31536000")
MAX_BODY = 64 * 1024  # a result with forty candidates is ~3 KB; a body is at most 20,000 characters

ASGIApp = Callable[..., Any]


class Guard:
    """Adds the security headers to every response and refuses bodies over ``MAX_BODY`` with 413.

    ``uploads``: the paths that take a photo (a multipart POST to ``/new/KIND``), whose bodies may be
    ``max_upload``; every other field of such a form is still held to ``max_body`` (Desk.posted)."""

    def __init__(
        self, app: ASGIApp, max_body: int = MAX_BODY, *, uploads: tuple[str, ...] = (), max_upload: int = MAX_BODY
    ) -> None:
        self.app = app
        self.max_body = max_body
        self.uploads = uploads
        self.max_upload = max_upload

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        secure = scope.get("scheme") == "https"

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"cache-control"]
                message["headers"] = [*headers, *HEADERS, *([HSTS] if secure else [])]
            await send(message)

        headers = dict(scope.get("headers", []))
        path = scope.get("path", "")
        multipart = headers.get(b"content-type", b"").lower().startswith(b"multipart/form-data")
        upload = multipart and scope.get("method") == "POST" and bool(self.uploads) and path.startswith(self.uploads)
        limit = self.max_upload if upload else self.max_body
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            await _too_large(send_with_headers, upload)
            return
        seen = 0

        async def counted() -> dict[str, Any]:
            nonlocal seen
            message: dict[str, Any] = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, counted, send_with_headers)
        except _TooLarge:
            await _too_large(send_with_headers, upload)


class _TooLarge(Exception):
    pass


async def _too_large(send: Callable[..., Any], upload: bool = False) -> None:
    body = b"Too large: a photo is at most 25 MB." if upload else b"Too large: a desk form is at most 64 KB."
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


def csrf_token(key: bytes, bound_to: str) -> str:
    """The form token for a session (or a signing-in browser): an HMAC of it under the desk's own key."""
    return hmac.new(key, b"csrf:" + bound_to.encode(), hashlib.sha256).hexdigest()


def csrf_ok(key: bytes, bound_to: str | None, token: str | None) -> bool:
    if not bound_to or not token:
        return False
    return hmac.compare_digest(csrf_token(key, bound_to), token)


class RateLimit:
    """At most ``per_client`` attempts per client and ``overall`` in all in each ``window`` seconds.

    The overall cap holds even if a client forges its address (a proxy's X-Forwarded-For), so 1,000
    guesses a minute cannot be had by any means; the per-client cap keeps one noisy phone from locking
    the others out.
    """

    def __init__(self, per_client: int = 10, overall: int = 60, window: float = 60.0) -> None:
        self.per_client = per_client
        self.overall = overall
        self.window = window
        self._clients: dict[str, deque[float]] = {}
        self._all: deque[float] = deque()
        self._lock = threading.Lock()

    def allow(self, client: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        start = now - self.window
        with self._lock:
            while self._all and self._all[0] < start:
                self._all.popleft()
            mine = self._clients.setdefault(client, deque())
            while mine and mine[0] < start:
                mine.popleft()
            if len(self._clients) > 10_000:  # forget quiet clients rather than grow without end
                for name in [n for n, q in self._clients.items() if not q and n != client]:
                    del self._clients[name]
            if len(mine) >= self.per_client or len(self._all) >= self.overall:
                return False
            mine.append(now)
            self._all.append(now)
            return True
