"""A reader fetching ``index.html`` and ``live.json`` through nginx (``deploy/nginx.conf``) on loopback
while the watcher rebuilds the site again and again: no response may be torn or fail.

Every rebuild changes an entry on the index, so both files really are replaced each time. The reader
asks plainly, with gzip, and conditionally (If-None-Match), as browsers and the open page's poll do.
"""

from __future__ import annotations

import gzip
import http.client
import io
import itertools
import json
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from watch_harness import CONFIG, TIMEOUT, count, entry_id, entry_text, html_problem, record, wait_for

from conftest import write_blog
from countnight.console import Console
from countnight.site import Site
from countnight.watch import Watcher

pytest.register_assert_rewrite("browser_support")  # before the import, as tests/test_browser.py does
from browser_support import NGINX, need, start_nginx  # noqa: E402

REBUILDS = count(60, 500)
ENTRIES = 30
PAGE_SIZE = 10


class Reader(threading.Thread):
    """Fetches index.html and live.json in a loop; counts what it got and keeps every bad response."""

    def __init__(self, port: int) -> None:
        super().__init__(name="nginx-reader", daemon=True)
        self.port = port
        self.halt = threading.Event()
        self.tally: Counter[str] = Counter()
        self.bad: list[str] = []
        self.versions: dict[str, set[str]] = {"index.html": set(), "live.json": set()}
        self._etags: dict[str, str] = {}

    def run(self) -> None:
        ways = itertools.cycle(["plain", "gzip", "conditional"])
        while not self.halt.is_set():
            for name in ("index.html", "live.json"):
                try:
                    self._fetch(name, next(ways))
                except Exception as err:  # a refused, reset or short response is a failure
                    self.tally["failed"] += 1
                    self.bad.append(f"{name}: {type(err).__name__}: {err}")

    def _fetch(self, name: str, way: str) -> None:
        headers = {"Accept-Encoding": "gzip"} if way == "gzip" else {}
        if way == "conditional" and name in self._etags:
            headers["If-None-Match"] = self._etags[name]
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)
        try:
            connection.request("GET", f"/{name}", headers=headers)
            response = connection.getresponse()
            body = response.read()  # raises IncompleteRead if fewer bytes came than announced
        finally:
            connection.close()
        self.tally["requests"] += 1
        if response.status == 304:
            self.tally["304"] += 1
            return
        if response.status != 200:
            self.tally["failed"] += 1
            self.bad.append(f"{name}: HTTP {response.status}")
            return
        self.tally["200"] += 1
        if response.getheader("Content-Encoding") == "gzip":
            self.tally["gzip"] += 1
            body = gzip.decompress(body)  # a torn gzip stream raises
        self._etags[name] = response.getheader("ETag") or ""
        why = html_problem(body) if name == "index.html" else _json_problem(body)
        if why:
            self.tally["torn"] += 1
            self.bad.append(f"{name}: {why}")
        else:
            self.versions[name].add(str(hash(body)))


def inodes(site: Path) -> tuple[int, int]:
    """Which index.html and live.json are there now: a replaced file is a new inode."""
    return (site / "index.html").stat().st_ino, (site / "live.json").stat().st_ino


def _json_problem(body: bytes) -> str | None:
    try:
        data = json.loads(body)
    except ValueError as err:
        return f"does not parse: {err}"
    return None if isinstance(data.get("entries"), list) else "no entries list"


@pytest.mark.slow
def test_a_reader_through_nginx_never_sees_a_torn_or_failed_response(tmp_path: Path) -> None:
    need(NGINX.exists(), f"nginx is not installed at {NGINX}")
    files = {f"entries/{entry_id(n)}.md": entry_text(n) for n in range(ENTRIES)}
    root = write_blog(tmp_path / "blog", files, config=CONFIG.format(page_size=PAGE_SIZE))
    watcher = Watcher(Site(root), console=Console(io.StringIO(), colour=False), quiet=0.01)
    watcher.start()
    server = start_nginx(root / "site", tmp_path / "nginx")
    reader = Reader(server.port)
    front = [entry_id(n) for n in range(ENTRIES - PAGE_SIZE, ENTRIES)]  # the entries the index shows
    replaced = 0
    began = time.monotonic()
    try:
        wait_for(lambda: server.get("live.json").status == 200, "nginx to serve the first build")
        reader.start()
        for k in range(REBUILDS):
            ident = front[k % len(front)]
            n = int(ident[1:])
            marker = f"Version {k} of {n}"
            before = inodes(root / "site")
            (root / "entries" / f"{ident}.md").write_text(entry_text(n, marker))
            wait_for(lambda m=marker: m in (root / "site" / "live.json").read_text(), f"rebuild {k + 1}")
            wait_for(lambda m=marker: m in (root / "site" / "index.html").read_text(), f"rebuild {k + 1}'s index")
            replaced += all(a != b for a, b in zip(before, inodes(root / "site"), strict=True))
        seconds = time.monotonic() - began
        wait_for(lambda: reader.tally["requests"] > 0, "the reader")
    finally:
        reader.halt.set()
        reader.join(TIMEOUT)
        server.stop()
        watcher.stop()
    tally = reader.tally
    assert not reader.bad, f"{len(reader.bad)} bad responses, first: {reader.bad[:5]}"
    assert tally["torn"] == 0 and tally["failed"] == 0
    assert replaced == REBUILDS, f"only {replaced} of {REBUILDS} rebuilds replaced both files"
    assert len(reader.versions["live.json"]) > 1, "the reader never saw live.json change"
    record(
        "nginx_reader",
        {
            "rebuilds": REBUILDS,
            "rebuilds_replacing_both_files": replaced,
            "builds": watcher.builds,
            "seconds": round(seconds, 1),
            "requests": tally["requests"],
            "ok_200": tally["200"],
            "not_modified_304": tally["304"],
            "gzip": tally["gzip"],
            "distinct_index_versions_seen": len(reader.versions["index.html"]),
            "distinct_live_json_versions_seen": len(reader.versions["live.json"]),
            "torn": tally["torn"],
            "failed": tally["failed"],
        },
    )
