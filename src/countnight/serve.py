"""A local preview server for the output folder (loopback by default)."""

from __future__ import annotations

import functools
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import click


class PreviewHandler(SimpleHTTPRequestHandler):
    """Serves the output folder only; HTML and live.json are never cached."""

    extensions_map: ClassVar[dict[str, str]] = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".json": "application/json",
        ".xml": "application/atom+xml",
    }

    def end_headers(self) -> None:
        path = self.path.split("?", 1)[0]
        if path.endswith((".html", "/", ".json", ".xml")):
            self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def make_server(out: Path, host: str, port: int) -> ThreadingHTTPServer:
    handler = functools.partial(PreviewHandler, directory=str(out))
    return ThreadingHTTPServer((host, port), handler)


def run_server(out: Path, host: str, port: int) -> None:
    """Serve until Ctrl-C."""
    server = make_server(out, host, port)
    click.echo(f"serving {out} at http://{host}:{server.server_address[1]}/ (Ctrl-C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
