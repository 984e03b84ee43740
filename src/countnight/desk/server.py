"""Running the desk with uvicorn: in the foreground for ``countnight desk``, or in a thread (tests)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import uvicorn

from .app import make_app
from .reporters import now_utc


def _config(root: Path, clock: Callable[[], datetime], host: str, port: int) -> uvicorn.Config:
    # proxy_headers: behind the newsroom's TLS proxy on this machine, X-Forwarded-For and -Proto give the
    # phone's address (for the sign-in rate limit) and https (for Secure cookies); only 127.0.0.1 is trusted.
    return uvicorn.Config(
        make_app(root, clock),
        host=host,
        port=port,
        proxy_headers=True,
        forwarded_allow_ips="127.0.0.1",
        server_header=False,
        log_level="warning",
        access_log=False,
    )


def serve_forever(root: Path, host: str, port: int) -> None:
    """``countnight desk``: serve until Ctrl-C."""
    uvicorn.Server(_config(root, now_utc, host, port)).run()


class DeskServer:
    """The desk on a free loopback port, in a thread: ``url``, then ``stop()``."""

    def __init__(self, root: Path, clock: Callable[[], datetime] = now_utc, host: str = "127.0.0.1") -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.port = int(self.sock.getsockname()[1])
        self.url = f"http://{host}:{self.port}"
        self.server = uvicorn.Server(_config(root, clock, host, self.port))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def start(self, timeout: float = 15.0) -> DeskServer:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the desk did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(15)
        self.sock.close()
