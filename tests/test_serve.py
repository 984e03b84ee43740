"""The preview server: the output folder only, the right headers, and a banner that never reaches site/."""

from __future__ import annotations

import http.client
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import CONFIG, BlogMaker
from countnight.serve import PreviewServer, inject, resolve
from countnight.site import Site

TIMEOUT = 15.0
ENTRY = '---\ntime: "23:00"\ntitle: First\n---\nWords.\n'


@pytest.fixture
def site(blog: BlogMaker, tmp_path: Path) -> Path:
    root = blog({"entries/2300-first.md": ENTRY})
    (tmp_path / "secret.txt").write_text("the blog folder's secrets")
    assert Site(root).build().built
    return root


@pytest.fixture
def server(site: Path) -> Iterator[PreviewServer]:
    problems: list[str] = []
    preview = PreviewServer(site / "site", "127.0.0.1", 0, problems=lambda: list(problems))
    preview.problems_list = problems  # type: ignore[attr-defined]  # the tests add problems here
    preview.start()
    yield preview
    preview.stop()


def get(server: PreviewServer, path: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    """Send ``path`` exactly as written (http.client does not normalise it)."""
    host, port = server.server_address[:2]
    connection = http.client.HTTPConnection(str(host), port, timeout=TIMEOUT)
    try:
        connection.request(method, path)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def test_content_types_and_caching(server: PreviewServer, site: Path) -> None:
    status, headers, body = get(server, "/")
    assert status == 200 and headers["content-type"] == "text/html; charset=utf-8"
    assert headers["cache-control"] == "no-cache" and body == (site / "site" / "index.html").read_bytes()
    status, headers, _ = get(server, "/live.json")
    assert status == 200 and headers["content-type"] == "application/json" and headers["cache-control"] == "no-cache"
    status, headers, _ = get(server, "/atom.xml")
    assert headers["content-type"] == "application/atom+xml"
    css = next(p for p in (site / "site" / "assets").iterdir() if p.name.startswith("style."))
    status, headers, body = get(server, f"/assets/{css.name}")
    assert status == 200 and headers["content-type"] == "text/css; charset=utf-8"
    assert "immutable" in headers["cache-control"] and body == css.read_bytes()
    assert headers["x-content-type-options"] == "nosniff"


def test_head_redirects_and_missing_files(server: PreviewServer, site: Path) -> None:
    status, headers, body = get(server, "/index.html", "HEAD")
    assert status == 200 and body == b"" and int(headers["content-length"]) > 0
    (site / "site" / "folder").mkdir()
    (site / "site" / "folder" / "index.html").write_text("<html><body>in a folder</body></html>")
    status, headers, _ = get(server, "/folder")
    assert status == 301 and headers["location"] == "/folder/"
    assert get(server, "/folder/")[2] == b"<html><body>in a folder</body></html>"
    assert get(server, "/nothing-here.html")[0] == 404
    assert get(server, "/", "POST")[0] == 501


@pytest.mark.parametrize(
    "path",
    [
        "/../countnight.toml",
        "/../../secret.txt",
        "/%2e%2e/countnight.toml",
        "/%2E%2E%2Fcountnight.toml",
        "/..%2fcountnight.toml",
        "/..%5ccountnight.toml",
        "/assets/../../countnight.toml",
        "/assets/%2e%2e/%2e%2e/entries/2300-first.md",
        "/%252e%252e/countnight.toml",
        "//../countnight.toml",
        "/.countnight-manifest",
        "/%00index.html",
        "/link/countnight.toml",
        "/toml-link",
    ],
)
def test_nothing_outside_the_output_folder_is_served(server: PreviewServer, site: Path, path: str) -> None:
    if not (site / "site" / "link").exists():
        os.symlink(site, site / "site" / "link")  # links that lead out of site/ are refused too
        os.symlink(site / "countnight.toml", site / "site" / "toml-link")
    status, _, body = get(server, path)
    assert status == 404, (path, body[:200])
    assert b"Test night" not in body and b"secrets" not in body and b"title: First" not in body


@pytest.mark.parametrize("path", ["/" + "a" * 300, "/assets/" + "b" * 5000 + ".css", "/" + "/".join(["c" * 250] * 20)])
def test_a_name_too_long_for_the_file_system_is_not_found_not_a_dropped_connection(
    server: PreviewServer, path: str
) -> None:
    """The look for a folder raised ENAMETOOLONG outside the handler's guard: the connection dropped with a
    traceback in the console. (A link loop, which pathlib answers with False, is a 404 as well.)"""
    loop = server.out / "loop"
    if not loop.is_symlink():
        os.symlink("loop", loop)
    assert get(server, path)[0] == 404
    assert get(server, "/loop/x")[0] == 404 and get(server, "/loop")[0] == 404
    assert get(server, "/")[0] == 200  # and the server goes on


def test_resolve_stays_inside(tmp_path: Path) -> None:
    out = tmp_path / "site"
    out.mkdir()
    assert resolve(out, "/") == out.resolve()
    assert resolve(out, "/a/b.html?x=1") == out.resolve() / "a" / "b.html"
    assert resolve(out, "/a/./b.html") == out.resolve() / "a" / "b.html"
    assert resolve(out, "/a/../b.html") is None


def test_the_banner_shows_problems_in_served_pages_only(server: PreviewServer, site: Path) -> None:
    assert b"countnight-preview" not in get(server, "/")[2]
    server.problems_list.append("entries/x.md:2: time: <script>alert(1)</script> is not a time")  # type: ignore[attr-defined]
    status, headers, body = get(server, "/")
    assert status == 200 and int(headers["content-length"]) == len(body)
    assert b'<div class="countnight-preview" role="alert">' in body
    assert b"entries/x.md:2: time: &lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert b"<script>alert" not in body
    assert re.search(rb'<link rel="stylesheet" href="/__countnight/preview.css"></head>', body)
    assert b"countnight-preview" not in (site / "site" / "index.html").read_bytes()
    assert b"countnight-preview" not in get(server, "/live.json")[2]
    status, headers, css = get(server, "/__countnight/preview.css")
    assert status == 200 and headers["content-type"].startswith("text/css") and b".countnight-preview" in css


def test_inject_puts_the_banner_after_body() -> None:
    page = b'<html><head><title>t</title></head><body class="x"><p>hi</p></body></html>'
    assert inject(page, []) == page
    shown = inject(page, ["a problem"])
    assert shown.index(b'<body class="x">') < shown.index(b'countnight-preview" role') < shown.index(b"<p>hi")


def test_serve_runs_the_watcher_and_stops_on_sigterm(blog: BlogMaker) -> None:
    root = blog({"entries/2300-first.md": ENTRY}, config=CONFIG)
    process = subprocess.Popen(
        [sys.executable, "-c", "from countnight.cli import main; main()", "serve", "--root", str(root), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    url: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            found = re.search(r"at (http://127\.0\.0\.1:\d+/)", line)
            if found:
                url.append(found[1])
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        assert ready.wait(TIMEOUT), "".join(lines)
        port = int(url[0].rsplit(":", 1)[1].strip("/"))
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)

        def page() -> bytes:
            connection.request("GET", "/")
            return connection.getresponse().read()

        assert b"2300-first" in page() and b"countnight-preview" not in page()
        (root / "entries" / "2310-bad.md").write_text('---\ntime: "23:10"\n---\n')
        deadline = time.monotonic() + TIMEOUT
        while b"entries/2310-bad.md:" not in page():
            assert time.monotonic() < deadline, "".join(lines)
            time.sleep(0.01)
        assert b"countnight-preview" not in (root / "site" / "index.html").read_bytes()
        connection.close()
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(TIMEOUT)
    assert process.returncode == 0, "".join(lines)
