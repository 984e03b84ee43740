"""The live channel's benchmark (issue 20): bytes per update, fan-out to 1,000 subscribers, drop → visible.

    .venv/bin/python benchmarks/live_channel.py [--data ../shared/data/ge2024] [--subscribers 1000]
        [--updates 100] [--drops 20] [--only bytes,wire,fanout,visible]

Needs nginx with the nchan module and Chromium (``make test`` installs both). Everything runs on loopback,
on free ports, in a temporary folder; the results are printed as Markdown (BENCHMARKS.md has them).

1. **bytes**: the real 2024 night (``countnight replay``'s plan: 650 turnouts and 650 results) fed to the
   build in order; after the 1st and after the 650th result, what a polling page downloads for that one
   change (live/head.json and live/N.json, gzipped as deploy/nginx.conf sends them), what the channel
   pushes (the message as it is), and what a poll cost before the channel (the whole live.json, gzipped);
   **wire**: those two results' messages published through nginx + nchan, and the bytes a subscriber
   reads for each: the event stream of deploy/nginx.conf, the same with ``text/event-stream`` added to
   ``gzip_types``, and nchan's WebSocket subscriber with ``nchan_deflate_message_for_websocket`` (each
   message compressed once, when published) read by a client offering permessage-deflate, as browsers do;
2. **fanout**: nginx + nchan with deploy/nginx.conf; N asyncio event-stream subscribers; M messages
   published one by one (one POST each, whatever N is), each stamped with the time it was published;
   every subscriber must receive every message, in order; latency = received − published;
3. **visible**: the national night served by nginx + nchan, ``countnight``'s watcher and channel running;
   two Chromium pages open on it, one listening to the channel, one that cannot reach it (its channel
   requests refused by the browser), which polls every 10 s as every page did before; K update entries
   dropped into entries/ (written, then renamed in) at random moments; for each, the time until it is in
   each page's stream (a MutationObserver in the page stamps it).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import gzip
import http.client
import io
import json
import os
import random
import socket
import statistics
import struct
import sys
import tempfile
import time
import zlib
from datetime import datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "tests"))

from browser_support import CHROMIUM, CHROMIUM_ARGS, start_nginx  # noqa: E402
from countnight.channel import CHANNEL_PATH, HEAD, LiveChannel  # noqa: E402
from countnight.console import QUIET, Console  # noqa: E402
from countnight.replay import make_drops, night_clock, plan_for, prepare_folder, select_seats  # noqa: E402
from countnight.site import Site  # noqa: E402
from countnight.watch import Watcher  # noqa: E402

SEED = 2024
LEVEL = 5  # deploy/nginx.conf's gzip_comp_level
NOW = datetime.fromisoformat("2024-07-05T21:00:00+01:00")  # after the whole replayed night, inside its window


def gz(data: bytes) -> int:
    return len(gzip.compress(data, LEVEL))


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


# -- 1. bytes ----------------------------------------------------------------------------------------


def national_folder(data: Path, root: Path) -> list[tuple[str, str, str]]:
    """The national night's folder (config, baseline) and its drops in order: (kind, file name, text)."""
    rows = select_seats(data, None, None)
    plan = plan_for(data, rows, SEED)
    prepare_folder(root, rows, None)
    return [(d.kind, d.name, d.text) for d in make_drops(plan, night_clock(root))]


def bytes_per_update(data: Path, work: Path) -> list[dict[str, object]]:
    root = work / "bytes"
    drops = national_folder(data, root)
    results = [i for i, (kind, _, _) in enumerate(drops) if kind == "result"]
    channel = LiveChannel(root / "site", publish_url=None)
    site = Site(root, long_lived=True, outlets=[channel])
    rows: list[dict[str, object]] = []
    written = 0
    for nth in (1, len(results)):
        at = results[nth - 1]
        for _, name, text in drops[written:at]:  # everything before this result, in one build
            (root / "entries" / name).write_text(text)
        written = at
        site.build(NOW)
        channel.flush()
        _, name, text = drops[at]
        (root / "entries" / name).write_text(text)
        written = at + 1
        started = time.perf_counter()
        before = channel.seq
        report = site.build(NOW)
        channel.flush()
        seconds = time.perf_counter() - started
        seq = channel.seq
        assert seq == before + 1 and not report.problems, report.problems
        message = (channel.folder / f"{seq}.json").read_bytes()
        head = (channel.folder / HEAD).read_bytes()
        live = (site.out / "live.json").read_bytes()
        panels = json.loads(message)["panels"]
        rows.append(
            {
                "after": f"{nth} result{'s' if nth > 1 else ''}",
                "poll_gz": gz(head) + gz(message),
                "head_gz": gz(head),
                "message_gz": gz(message),
                "push_raw": len(message),
                "live_json_raw": len(live),
                "live_json_gz": gz(live),
                "panels": {
                    k: next((f"{f} {len(v[f])}" for f in ("rows", "lines") if f in v), "whole")
                    for k, v in panels.items()
                },
                "build_and_send_s": seconds,
                "message": message,
            }
        )
    channel.close()
    return rows


# -- 1b. on the wire ----------------------------------------------------------------------------------

GZIP_STREAM = ("gzip_types text/css", "gzip_types text/event-stream text/css")
SOCKET = ("nchan_subscriber eventsource;", "nchan_subscriber eventsource websocket;")
DEFLATE = (
    "nchan_message_timeout 12h;",
    "nchan_message_timeout 12h;\n            nchan_deflate_message_for_websocket on;",
)


def wire_subscriber(port: int, websocket: bool) -> socket.socket:
    """A raw subscriber to the channel: an event stream asking for gzip, or a WebSocket offering
    permessage-deflate (as Chromium does); its response's head read."""
    client = socket.create_connection(("127.0.0.1", port), timeout=10)
    if websocket:
        key = base64.b64encode(os.urandom(16)).decode()
        ask = (
            f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
        )
    else:
        ask = "Accept: text/event-stream\r\nAccept-Encoding: gzip\r\n"
    client.sendall(f"GET {CHANNEL_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\n{ask}\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += client.recv(1)
    assert b" 101 " in head if websocket else b" 200 " in head, head
    if websocket:
        assert b"permessage-deflate" in head, head
    client.settimeout(1.0)
    return client


def read_quiet(client: socket.socket) -> bytes:
    """What the subscriber is sent until it has been quiet for a second."""
    got = b""
    with contextlib.suppress(TimeoutError):
        while chunk := client.recv(1 << 16):
            got += chunk
    return got


def inflate_frame(frame: bytes) -> bytes:
    """A WebSocket text frame from the server (unmasked), inflated when compressed (RSV1)."""
    size, at = frame[1] & 0x7F, 2
    if size == 126:
        size, at = struct.unpack(">H", frame[2:4])[0], 4
    elif size == 127:
        size, at = struct.unpack(">Q", frame[2:10])[0], 10
    payload = frame[at : at + size]
    return zlib.decompressobj(-15).decompress(payload + b"\x00\x00\xff\xff") if frame[0] & 0x40 else payload


def on_the_wire(work: Path, messages: list[bytes]) -> list[dict[str, int]]:
    """Each message published once; the bytes each kind of subscriber read for it."""
    site = work / "wire-site"
    site.mkdir(parents=True)
    (site / "index.html").write_text("wire")
    sizes: list[dict[str, int]] = [{} for _ in messages]
    variants = {
        "eventsource": lambda text: text,
        "eventsource_gzip_types": lambda text: text.replace(*GZIP_STREAM),
        "websocket_deflate": lambda text: text.replace(*SOCKET).replace(*DEFLATE),
    }
    for n, (name, edit) in enumerate(variants.items()):
        server = start_nginx(site, work / f"wire-nginx-{n}", edit=edit)
        try:
            client = wire_subscriber(server.port, name.startswith("websocket"))
            time.sleep(0.3)  # let nchan register it
            for i, message in enumerate(messages):
                connection = http.client.HTTPConnection("127.0.0.1", server.publish_port, timeout=10)
                connection.request("POST", "/live/publish", body=message, headers={"Content-Type": "application/json"})
                response = connection.getresponse()
                response.read()
                connection.close()
                got = read_quiet(client)
                if name.startswith("websocket"):
                    assert inflate_frame(got) == message, "the frame is not the message"
                else:
                    assert message in got, "the event is not the message"
                sizes[i][name] = len(got)
            client.close()
        finally:
            server.stop()
    return sizes


# -- 2. fan-out --------------------------------------------------------------------------------------


async def subscribe(port: int, updates: int, ready: asyncio.Event, counter: list[int], total: int) -> list[tuple]:
    """One EventSource-like subscriber: the received (seq, published at, received at), in order."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
    writer.write(f"GET {CHANNEL_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n".encode("ascii"))
    await writer.drain()
    status = await reader.readline()
    assert b" 200 " in status, status
    while (await reader.readline()) not in (b"\r\n", b""):
        pass  # headers
    counter[0] += 1
    if counter[0] == total:
        ready.set()
    got: list[tuple] = []
    while len(got) < updates:
        line = await reader.readline()
        if not line:
            break
        at = line.find(b"data: ")
        if at >= 0:  # chunked framing puts sizes on lines of their own; the event's data line is whole
            message = json.loads(line[at + 6 :])
            got.append((message["seq"], message["t"], time.time()))
    writer.close()
    return got


def publish_all(port: int, updates: int, gap: float) -> list[float]:
    """POST the messages one by one (the build's one request per update); the seconds each POST took."""
    took = []
    for seq in range(1, updates + 1):
        body = json.dumps({"seq": seq, "t": time.time(), "pad": "x" * 1500}).encode()  # ~a result's message
        started = time.perf_counter()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("POST", "/live/publish", body=body, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
        connection.close()
        assert response.status in (201, 202), response.status
        took.append(time.perf_counter() - started)
        time.sleep(gap)
    return took


async def fan_out(port: int, publish_port: int, subscribers: int, updates: int) -> dict[str, object]:
    ready = asyncio.Event()
    counter = [0]
    tasks = [asyncio.create_task(subscribe(port, updates, ready, counter, subscribers)) for _ in range(subscribers)]
    await asyncio.wait_for(ready.wait(), 60)
    await asyncio.sleep(0.5)  # let nchan register the last ones
    posts = await asyncio.to_thread(publish_all, publish_port, updates, 0.05)
    received = await asyncio.wait_for(asyncio.gather(*tasks), 120)
    complete = sum(1 for got in received if [g[0] for g in got] == list(range(1, updates + 1)))
    latencies = [(r - t) * 1000 for got in received for _, t, r in got]
    return {
        "subscribers": subscribers,
        "updates": updates,
        "complete": complete,
        "delivered": len(latencies),
        "p50_ms": pct(latencies, 50),
        "p95_ms": pct(latencies, 95),
        "p99_ms": pct(latencies, 99),
        "max_ms": max(latencies),
        "post_p50_ms": statistics.median(posts) * 1000,
    }


def fanout(work: Path, subscribers: int, updates: int) -> dict[str, object]:
    site = work / "fanout-site"
    site.mkdir(parents=True)
    (site / "index.html").write_text("fan-out")
    server = start_nginx(site, work / "fanout-nginx")
    try:
        return asyncio.run(fan_out(server.port, server.publish_port, subscribers, updates))
    finally:
        server.stop()


# -- 3. drop → visible ---------------------------------------------------------------------------------

SEEN = """
window.__seen = {};
new MutationObserver(() => {
  for (const el of document.querySelectorAll("[data-stream] > article[id^='bench-']")) {
    if (!(el.id in window.__seen)) window.__seen[el.id] = Date.now();
  }
}).observe(document, {subtree: true, childList: true});
"""


def visible(data: Path, work: Path, drops: int) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    root = work / "visible"
    for _, name, text in national_folder(data, root):
        (root / "entries" / name).write_text(text)
    server = start_nginx(root / "site", work / "visible-nginx")
    channel = LiveChannel(root / "site", publish_url=server.publish_url)
    site = Site(root, long_lived=True, outlets=[channel])
    console = Console(io.StringIO(), verbosity=QUIET, colour=False)
    watcher = Watcher(site, console=console, clock=lambda: NOW)
    watcher.start()
    times: dict[str, list[float]] = {"push": [], "poll": []}
    rng = random.Random(SEED)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            pages = {}
            for mode in ("push", "poll"):
                page = browser.new_context().new_page()
                page.add_init_script(SEEN)
                if mode == "poll":  # as before the channel: this page cannot reach it, so it polls every 10 s
                    page.route(f"**{CHANNEL_PATH}", lambda route: route.abort())
                page.goto(f"{server.url}index.html")
                page.wait_for_selector(f"main[data-live-mode={mode}]", timeout=60_000)
                pages[mode] = page
            for n in range(drops):
                time.sleep(rng.uniform(0.0, 10.0))  # a random moment in the polling page's 10 s cycle
                ident = f"bench-{n:03d}"
                moment = NOW - timedelta(minutes=30) + timedelta(seconds=n)
                text = f'---\ntime: "{moment.isoformat()}"\ntitle: Benchmark update {n}\n---\nDropped.\n'
                temp = root / f".{ident}.md.tmp"
                temp.write_text(text)
                dropped = time.time()
                temp.replace(root / "entries" / f"{ident}.md")
                deadline = time.monotonic() + 60
                for mode, page in pages.items():
                    while (seen := page.evaluate(f"window.__seen['{ident}']")) is None:
                        assert time.monotonic() < deadline, f"{ident} never reached the {mode} page"
                        page.wait_for_timeout(5)
                    times[mode].append(seen / 1000 - dropped)
            browser.close()
    finally:
        watcher.stop()
        channel.close()
        server.stop()
    return times


# -- the report --------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "ge2024")
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--updates", type=int, default=100)
    parser.add_argument("--drops", type=int, default=20)
    parser.add_argument("--only", default="bytes,wire,fanout,visible")
    args = parser.parse_args()
    parts = set(args.only.split(","))
    with tempfile.TemporaryDirectory(prefix="countnight-live-") as folder:
        work = Path(folder)
        if parts & {"bytes", "wire"}:
            rows = bytes_per_update(args.data, work)
        if "bytes" in parts:
            print("\n### Bytes per update (national replay, 650 seats)\n")
            print("| after | a poll (head + message, gzip) | pushed (raw) | live.json (raw / gzip): a poll before |")
            print("| --- | ---: | ---: | ---: |")
            for row in rows:
                print(
                    f"| {row['after']} | {row['poll_gz']:,} B ({row['head_gz']} + {row['message_gz']:,}) | "
                    f"{row['push_raw']:,} B | {row['live_json_raw']:,} / {row['live_json_gz']:,} B |"
                )
                print(f"<!-- panels sent: {row['panels']}; build and send {row['build_and_send_s'] * 1000:.0f} ms -->")
        if "wire" in parts:
            print("\n### Pushed: bytes a subscriber reads per message (national replay)\n")
            print("| after | event stream | the same, `text/event-stream` gzipped | WebSocket, permessage-deflate |")
            print("| --- | ---: | ---: | ---: |")
            sizes = on_the_wire(work, [row["message"] for row in rows])  # type: ignore[misc]
            for row, size in zip(rows, sizes, strict=True):
                print(
                    f"| {row['after']} | {size['eventsource']:,} B | {size['eventsource_gzip_types']:,} B | "
                    f"{size['websocket_deflate']:,} B |"
                )
        if "fanout" in parts:
            result = fanout(work, args.subscribers, args.updates)
            print(f"\n### Fan-out: {result['subscribers']:,} subscribers, {result['updates']} updates\n")
            print("| complete subscribers | delivered | p50 | p95 | p99 | max | one POST (p50) |")
            print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
            print(
                f"| {result['complete']:,} of {result['subscribers']:,} | {result['delivered']:,} | "
                f"{result['p50_ms']:.0f} ms | {result['p95_ms']:.0f} ms | {result['p99_ms']:.0f} ms | "
                f"{result['max_ms']:.0f} ms | {result['post_p50_ms']:.1f} ms |"
            )
        if "visible" in parts:
            times = visible(args.data, work, args.drops)
            print(f"\n### Drop → visible in Chromium ({args.drops} drops, national night)\n")
            print("| page | median | p95 | min | max |")
            print("| --- | ---: | ---: | ---: | ---: |")
            for mode, label in (("push", "listening to the channel"), ("poll", "polling every 10 s (before)")):
                values = times[mode]
                print(
                    f"| {label} | {statistics.median(values):.2f} s | {pct(values, 95):.2f} s | "
                    f"{min(values):.2f} s | {max(values):.2f} s |"
                )


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
