"""The reporters' desk: how long from a reporter's *Send* to the entry being live (issue 21).

    .venv/bin/python benchmarks/desk.py [--drops 28]

A blog folder like the sample night (its config and baseline, candidates.csv from the shipped 2024 data),
``countnight watch -q`` running on it as its own process, and the desk on a free loopback port in this
process (uvicorn in a thread). A signed-in reporter files each seat's real 2024 result in turn, over HTTP as
the phone's form does. For each, two figures from the moment the POST is sent:

- **sent**: the desk's answer (it composes the YAML, checks it with ``parse_entry``, renders the preview
  card, and links the file into ``entries/``);
- **live**: the desk's own status endpoint (what the phone polls, here every 5 ms) says ``live``, that is,
  the watcher has built, written the site and recorded the version readers see.

Not part of ``make test``. Prints the table; nothing here is a target.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from datetime import UTC, datetime
from pathlib import Path

from countnight.desk.candidates import read_candidates_file, write_candidates_file
from countnight.desk.reporters import Reporters
from countnight.desk.server import DeskServer
from countnight.ge2024 import read_results, shipped_data
from countnight.replay import select_seats

REPO = Path(__file__).resolve().parents[1]
NIGHT = datetime.fromisoformat("2024-07-05T03:30:00+01:00")


def request(
    port: int, method: str, path: str, body: dict[str, str] | None = None, cookie: str = ""
) -> tuple[int, dict[str, str], str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        headers = {"Cookie": cookie} if cookie else {}
        data = None
        if body is not None:
            data = urllib.parse.urlencode(body).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=data, headers=headers)
        answer = connection.getresponse()
        cookies = "; ".join(v.split(";", 1)[0] for k, v in answer.getheaders() if k.lower() == "set-cookie")
        return (
            answer.status,
            {"location": answer.getheader("location") or "", "cookies": cookies},
            answer.read().decode(),
        )
    finally:
        connection.close()


def csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF token"
    return found[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drops", type=int, default=28, help="results filed (the 14 seats, again and again)")
    args = parser.parse_args()
    data = shipped_data()
    root = Path(tempfile.mkdtemp(prefix="desk-bench-"))
    try:
        shutil.copy(REPO / "countnight.toml", root / "countnight.toml")
        shutil.copy(REPO / "baseline.csv", root / "baseline.csv")
        (root / "entries").mkdir()
        seats = [row["constituency"] for row in csv.DictReader((REPO / "baseline.csv").open())]
        write_candidates_file(data, select_seats(data, None, seats), root / "candidates.csv")
        declared = {s.name: {c.name: c.votes for c in s.candidates} for s in read_results(data) if s.name in seats}
        standing = read_candidates_file(root)
        command = Path(sys.executable).parent / "countnight"
        watch = subprocess.Popen([str(command), "watch", "-q", "--root", str(root)])
        desk = DeskServer(root, lambda: NIGHT).start()
        try:
            deadline = time.monotonic() + 120
            while not (root / "site" / "index.html").exists():
                if watch.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("the watcher did not build the site")
                time.sleep(0.01)
            token = Reporters(root).add("Bench Reporter", "Bench", True, datetime.now(UTC))
            _, head, page = request(desk.port, "GET", f"/signin/{token}")
            _, head, _ = request(desk.port, "POST", "/signin", {"csrf": csrf(page), "token": token}, head["cookies"])
            cookie = head["cookies"].split("; ")[0]
            _, _, home = request(desk.port, "GET", "/", cookie=cookie)
            form_token = csrf(home)
            sent, live = [], []
            for n in range(args.drops):
                seat = seats[n % len(seats)]
                if seat not in standing:
                    continue
                form = {
                    "csrf": form_token,
                    "action": "send",
                    "constituency": seat,
                    "time": f"{(n // 60) + 3:02d}:{n % 60:02d}",
                }
                form["rows"] = str(len(standing[seat]))
                for row, c in enumerate(standing[seat], 1):
                    form |= {
                        f"name-{row}": c.name,
                        f"party-{row}": c.party,
                        f"votes-{row}": str(declared[seat][c.name]),
                    }
                started = time.perf_counter()
                status, head, body = request(desk.port, "POST", "/new/result", form, cookie)
                sent.append(time.perf_counter() - started)
                assert status == 303, body[-500:]
                ident = head["location"].rsplit("/", 1)[1]
                deadline = time.monotonic() + 60
                while (
                    json.loads(request(desk.port, "GET", f"/entry/{ident}/status", cookie=cookie)[2])["state"] != "live"
                ):
                    if time.monotonic() > deadline:
                        raise SystemExit(f"{ident} never went live")
                    time.sleep(0.005)
                live.append(time.perf_counter() - started)
                time.sleep(0.3)  # let the watcher go idle, as between two declarations
        finally:
            desk.stop()
            watch.terminate()
            watch.wait(30)
    finally:
        shutil.rmtree(root, ignore_errors=True)

    def row(name: str, values: list[float]) -> str:
        ms = sorted(v * 1000 for v in values)
        p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
        return f"| {name} | {statistics.median(ms):.0f} | {p95:.0f} | {ms[0]:.0f} | {ms[-1]:.0f} |"

    print(f"{len(sent)} results filed through the desk; {os.cpu_count()} cores; load {os.getloadavg()[0]:.1f}")
    print("| from Send | median ms | p95 ms | min ms | max ms |\n| --- | --- | --- | --- | --- |")
    print(row("the desk's answer (checked, written)", sent))
    print(row("live (built, written, recorded)", live))


if __name__ == "__main__":
    main()
