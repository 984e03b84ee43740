"""The preview server, from a raw socket: what tests/test_serve.py leaves out.

Request lines exactly as an attacker writes them (un-normalised, double- and triple-encoded, overlong
UTF-8, backslashes, NULs, absolute URIs, HTTP/0.9), loopback by default, and the blog folder itself
(config, entries with their drafts, the record in .countnight/) never served under any spelling.
"""

from __future__ import annotations

import re
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from watch_harness import TIMEOUT, countnight_command, wait_for

from conftest import CONFIG, write_blog
from countnight.cli import main
from countnight.serve import PreviewServer
from countnight.site import Site

SECRETS = (b"SECRET-CONFIG-COMMENT", b"SECRET-DRAFT-TEXT", b"SECRET-OUTSIDE", b'"op":"shown"', b'time: "23:00"')
PUBLISHED = '---\ntime: "23:00"\ntitle: Published\n---\nReaders may see this.\n'
DRAFT = '---\ntime: "23:05"\ntitle: Draft\nstatus: draft\n---\nSECRET-DRAFT-TEXT\n'

# Every one of these asks for something outside site/ (or hidden in it): each must be refused.
REFUSED = [
    "/../countnight.toml",
    "/../entries/2300-draft.md",
    "/../.countnight/journal.jsonl",
    "/../../outside.txt",
    "/%2e%2e%2fcountnight.toml",
    "/%2e%2e/%2e%2e/outside.txt",
    "/%2E%2E%2F%2E%2E%2Foutside.txt",
    "/.%2e/countnight.toml",
    "/%2e./countnight.toml",
    "/%252e%252e%252fcountnight.toml",  # double-encoded: one decode leaves a literal name
    "/%25252e%25252e%25252fcountnight.toml",  # triple-encoded
    "/..%252fcountnight.toml",
    "/%c0%ae%c0%ae/countnight.toml",  # overlong UTF-8 '.'
    "/%c0%ae%c0%ae%c0%afcountnight.toml",  # overlong '.', '.', '/'
    "/..%c0%afcountnight.toml",
    "/..%c1%9ccountnight.toml",  # overlong backslash
    "/%e0%80%ae%e0%80%ae/countnight.toml",  # three-byte overlong '.'
    "/%f0%80%80%ae%f0%80%80%ae/countnight.toml",  # four-byte overlong '.'
    "/%ef%bc%8e%ef%bc%8e/countnight.toml",  # fullwidth full stops: no dots to the file system
    "/..%u2216countnight.toml",  # IIS-style %u escapes are not escapes here
    "/..;/countnight.toml",
    "/..\\countnight.toml",
    "/%2e%2e%5ccountnight.toml",
    "/..%5c..%5coutside.txt",
    "/./../countnight.toml",
    "/assets/./../../countnight.toml",
    "//..//countnight.toml",
    "/assets//..//..//countnight.toml",
    "/update/../../entries/2300-draft.md",
    "/..%00/countnight.toml",
    "/%00../countnight.toml",
    "/index.html%00.txt",
    "/.countnight-manifest",
    "/%2ecountnight-manifest",
    "/countnight.toml",  # the blog folder's names, asked for at the site's root
    "/entries/2300-draft.md",
    "/.countnight/journal.jsonl",
    "../countnight.toml",  # no leading slash
    "..%2fcountnight.toml",
    "countnight.toml",
    "http://127.0.0.1/../countnight.toml",  # absolute-URI request lines (RFC 9112 3.2.2)
    "http://127.0.0.1/%2e%2e/countnight.toml",
    "HTTP://127.0.0.1/..%2fcountnight.toml",
    "http://evil.example/../../outside.txt",
    "http://127.0.0.1/../../outside.txt?x=1#y",
    "file:///../countnight.toml",
    "//evil.example/../countnight.toml",
]


@pytest.fixture(scope="module")
def preview(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[PreviewServer, Path]]:
    """A built blog served from its site/, with a secret beside the blog folder (one for the module)."""
    tmp_path = tmp_path_factory.mktemp("preview")
    config = "# SECRET-CONFIG-COMMENT\n" + CONFIG
    root = write_blog(
        tmp_path / "blog", {"entries/2300-first.md": PUBLISHED, "entries/2300-draft.md": DRAFT}, config=config
    )
    (tmp_path / "outside.txt").write_text("SECRET-OUTSIDE")
    assert Site(root).build().built
    assert (root / ".countnight" / "journal.jsonl").read_bytes().count(b'"op":"shown"') == 1
    server = PreviewServer(root / "site", port=0)
    server.start()
    yield server, root
    server.stop()


def raw(server: PreviewServer, request: bytes) -> tuple[int, bytes]:
    """Send bytes as they are; (status, body). HTTP/0.9 has no status line: 0."""
    port = server.server_address[1]
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as connection:
        connection.sendall(request)
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    data = b"".join(chunks)
    status = re.match(rb"HTTP/1\.[01] (\d{3}) ", data)
    if status is None:
        return 0, data
    return int(status[1]), data.partition(b"\r\n\r\n")[2]


def site_bodies(root: Path) -> set[bytes]:
    return {p.read_bytes() for p in (root / "site").rglob("*") if p.is_file()}


@pytest.mark.parametrize("target", REFUSED)
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_raw_requests_for_anything_outside_site_are_refused(
    preview: tuple[PreviewServer, Path], target: str, method: str
) -> None:
    server, _ = preview
    status, body = raw(server, f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
    assert status in (400, 404), (target, status, body[:200])
    assert not any(secret in body for secret in SECRETS), (target, body[:300])


@pytest.mark.parametrize("target", ["/../countnight.toml", "/%2e%2e/entries/2300-draft.md", "/.countnight-manifest"])
def test_http_09_and_10_requests_are_refused_too(preview: tuple[PreviewServer, Path], target: str) -> None:
    server, _ = preview
    # The 0.9 form: http.server still reads (no) headers up to the blank line.
    for request in (f"GET {target}\r\n\r\n", f"GET {target} HTTP/1.0\r\n\r\n"):
        status, body = raw(server, request.encode())
        assert status in (0, 400, 404), (request, status)
        assert not any(secret in body for secret in SECRETS), (request, body[:300])
        assert b"Not found" in body or status == 400, (request, body[:200])


@pytest.mark.parametrize(
    "target",
    ["/", "/?/../../countnight.toml", "/#/../countnight.toml", "/index.html?../../countnight.toml", "/./", "/%2e/"],
)
def test_odd_but_harmless_paths_serve_only_site_files(preview: tuple[PreviewServer, Path], target: str) -> None:
    """What does get a 200 is a file of site/ (queries and fragments never reach the file system)."""
    server, root = preview
    status, body = raw(server, f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    assert status in (200, 301, 404), (target, status)
    assert not any(secret in body for secret in SECRETS), (target, body[:300])
    if status == 200:
        assert body in site_bodies(root), target


def test_every_file_of_the_blog_folder_is_refused_by_name(preview: tuple[PreviewServer, Path]) -> None:
    """Walk the blog folder: no file outside site/ is reachable as ../NAME in any of three spellings."""
    server, root = preview
    outside = [p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and "site" not in p.parts]
    assert {"countnight.toml", "entries/2300-draft.md", ".countnight/journal.jsonl"} <= set(outside)
    for name in outside:
        for prefix in ("/../", "/%2e%2e/", "/%2e%2e%2f"):
            status, body = raw(server, f"GET {prefix}{name} HTTP/1.0\r\n\r\n".encode())
            assert status == 404 and not any(s in body for s in SECRETS), (prefix + name, status)


def _listening(port: int) -> set[str]:
    """The local addresses (hex, as /proc/net/tcp* writes them) of sockets listening on ``port``."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            address, state = fields[1], fields[3]
            if state == "0A" and int(address.rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                found.add(address.rsplit(":", 1)[0])
    return found


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux's /proc/net/tcp")
def test_countnight_serve_binds_loopback_only_unless_told_otherwise(tmp_path: Path) -> None:
    root = write_blog(tmp_path / "blog", {"entries/2300-first.md": PUBLISHED})
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [*countnight_command(), "serve", "--root", str(root), "--port", "0"], stdout=sink, stderr=subprocess.STDOUT
        )
    try:
        found = wait_for(lambda: re.search(r"at http://([\d.]+):(\d+)/", log.read_text()), "the address", TIMEOUT)
        host, port = found[1], int(found[2])
        assert host == "127.0.0.1"
        assert _listening(port) == {"0100007F"}, _listening(port)  # 127.0.0.1, and not 0.0.0.0 or ::
    finally:
        process.terminate()
        process.wait(TIMEOUT)
    told = PreviewServer(root / "site", "127.0.0.2", 0)  # told otherwise: it binds what it is told
    try:
        assert told.server_address[0] == "127.0.0.2" and _listening(told.server_address[1]) == {"0200007F"}
    finally:
        told.server_close()
    assert PreviewServer.__init__.__defaults__ == ("127.0.0.1", 8000), "the library's default is loopback too"


@pytest.mark.parametrize("command", ["serve", "watch", "build"])
@pytest.mark.parametrize("out", [".", "..", "./entries/.."])
def test_the_blog_folder_or_a_folder_above_it_is_refused_as_the_output(tmp_path: Path, command: str, out: str) -> None:
    """`--out .` would publish (and `serve` would serve) countnight.toml, entries/ and their drafts."""
    root = write_blog(tmp_path / "blog", {"entries/2300-draft.md": DRAFT})
    result = CliRunner().invoke(main, [command, "--root", str(root), "--out", str(root / out)])
    assert result.exit_code == 2, result.output
    assert "holds the blog folder" in result.output
    assert not (root / "index.html").exists() and not (tmp_path / "index.html").exists()


def test_a_served_watch_never_serves_what_is_written_into_the_blog_folder_meanwhile(tmp_path: Path) -> None:
    """While `serve` runs, a draft written into entries/ stays unreachable, in every spelling, as it is built."""
    root = write_blog(tmp_path / "blog", {"entries/2300-first.md": PUBLISHED})
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [*countnight_command(), "serve", "--root", str(root), "--port", "0"],
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        found = wait_for(lambda: re.search(r"at http://127\.0\.0\.1:(\d+)/", log.read_text()), "the address")
        port = int(found[1])
        (root / "entries" / "2300-draft.md").write_text(DRAFT)
        (root / "entries" / "2310-later.md").write_text(PUBLISHED.replace("23:00", "23:10"))
        wait_for(lambda: (root / "site" / "update" / "2310-later.html").exists(), "the next build")
        for target in ("/../entries/2300-draft.md", "/%2e%2e/entries/2300-draft.md", "/entries/2300-draft.md"):
            with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as connection:
                connection.sendall(f"GET {target} HTTP/1.0\r\n\r\n".encode())
                reply = b"".join(iter(lambda c=connection: c.recv(65536), b""))
            assert reply.startswith(b"HTTP/1.0 404") and b"SECRET-DRAFT-TEXT" not in reply, target
    finally:
        process.terminate()
        process.wait(TIMEOUT)
    assert process.returncode == 0, log.read_text()
