"""The object-store outlet against a real S3-compatible store (SeaweedFS on loopback): what goes up, with which
headers, in which order; a restart, a store emptied or edited by hand, a store that is away."""

from __future__ import annotations

import gzip
import hashlib
import io
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.register_assert_rewrite("store_support")
from conftest import AFTER_THE_NIGHT, DURING_THE_NIGHT, copy_sample  # noqa: E402
from countnight.console import VERBOSE, Console  # noqa: E402
from countnight.objectstore import ObjectStoreOutlet, describe  # noqa: E402
from countnight.s3store import Store, Target  # noqa: E402
from countnight.site import Site  # noqa: E402
from countnight.storerecord import record_path  # noqa: E402
from store_support import (  # noqa: E402
    BUCKET,
    TIMEOUT,
    Seaweed,
    http_get,
    listing,
    unresolved,
)
from tcp_proxy import DelayingProxy  # noqa: E402

pytest_plugins = ["store_support"]

UPDATE = '---\ntime: "{time}"\ntitle: {title}\n---\nWords from the count.\n'


class Night:
    """The sample night built into site/, and outlets publishing it under one prefix of the test store."""

    def __init__(self, root: Path, store: Seaweed, prefix: str) -> None:
        self.root, self.store, self.prefix = root, store, prefix
        self.site = Site(root)
        self.client = store.client()
        self.outlets: list[ObjectStoreOutlet] = []
        self.console = io.StringIO()

    def build(self, now=AFTER_THE_NIGHT):  # type: ignore[no-untyped-def]
        report = self.site.build(now)
        assert report.built, report.problems
        return report

    def outlet(self, *, endpoint: str | None = None, **options: object) -> ObjectStoreOutlet:
        store = Store(Target(BUCKET, self.prefix), endpoint=endpoint or self.store.endpoint)
        record = record_path(self.root, self.store.endpoint, str(store.target))
        console = Console(self.console, verbosity=VERBOSE)
        outlet = ObjectStoreOutlet(self.site.out, store, record, console=console, **options)  # type: ignore[arg-type]
        self.outlets.append(outlet)
        return outlet

    def objects(self) -> dict[str, str]:
        return listing(self.client, BUCKET, self.prefix)

    def local(self) -> dict[str, str]:
        found = {}
        for path in self.site.out.rglob("*"):
            name = path.relative_to(self.site.out).as_posix()
            if path.is_file() and not any(part.startswith(".") for part in name.split("/")):
                found[name] = hashlib.md5(path.read_bytes()).hexdigest()
        return found

    def drop(self, name: str, time: str, title: str) -> None:
        (self.root / "entries" / name).write_text(UPDATE.format(time=time, title=title))

    def stop(self) -> None:
        for outlet in self.outlets:
            outlet.stop(drain=0)


@pytest.fixture
def night(tmp_path: Path, seaweed: Seaweed, aws_env: dict[str, str]) -> Iterator[Night]:
    made = Night(copy_sample(tmp_path / "night"), seaweed, seaweed.new_prefix())
    yield made
    made.stop()


def caught_up(outlet: ObjectStoreOutlet) -> None:
    assert outlet.wait_caught_up(TIMEOUT), f"the store did not catch up: {outlet.state()}"


def put_order(outlet: ObjectStoreOutlet) -> list[tuple[str, str]]:
    """Every PutObject and DeleteObjects the outlet's real client sends, in the order sent: ("put", name)."""
    sent: list[tuple[str, str]] = []
    lock = threading.Lock()
    prefix = outlet.store.target.prefix

    def seen(params: dict, model: object, **_: object) -> None:  # type: ignore[type-arg]
        with lock:
            name = getattr(model, "name", "")
            if name == "PutObject":
                sent.append(("put", params["Key"][len(prefix) :]))
            elif name == "DeleteObjects":
                sent.extend(("delete", o["Key"][len(prefix) :]) for o in params["Delete"]["Objects"])

    outlet.store.client.meta.events.register("provide-client-params.s3.*", seen)
    return sent


def test_the_built_site_is_mirrored_with_its_headers_and_every_link_resolves(night: Night) -> None:
    night.build()
    outlet = night.outlet()
    outlet.start()
    caught_up(outlet)
    assert night.objects() == night.local(), "every file, byte for byte (a plain upload's ETag is its MD5)"
    assert unresolved(night.client, BUCKET, night.prefix) == []
    status, headers, data = http_get(night.store.url(night.prefix, "index.html"))
    assert status == 200 and data == (night.site.out / "index.html").read_bytes()
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert headers["cache-control"] == "public, max-age=10, must-revalidate"
    asset = next(name for name in night.local() if name.startswith("assets/style."))
    _, headers, _ = http_get(night.store.url(night.prefix, asset))
    assert (headers["content-type"], headers["cache-control"]) == (
        "text/css; charset=utf-8",
        "public, max-age=31536000, immutable",
    )
    _, headers, _ = http_get(night.store.url(night.prefix, "live.json"))
    assert headers["content-type"] == "application/json; charset=utf-8"
    assert "must-revalidate" in headers["cache-control"]


def test_a_build_sends_only_what_changed_pages_first_index_and_live_json_last(night: Night) -> None:
    night.build(DURING_THE_NIGHT)
    outlet = night.outlet()
    outlet.start()
    caught_up(outlet)
    sent = put_order(outlet)
    night.drop("0329-late-news.md", "03:29", "Late news from Stafford")
    report = night.build(DURING_THE_NIGHT)
    outlet.send(report.changes)
    caught_up(outlet)
    names = [name for _, name in sent]
    assert set(names) == set(report.written), "only what the build changed goes up"
    assert "update/0329-late-news.html" in names
    assert set(names[-2:]) == {"live.json", "index.html"}, "the way in goes last (the two side by side)"
    assert names.index("update/0329-late-news.html") < min(names.index("live.json"), names.index("index.html"))
    assert night.objects() == night.local()
    assert unresolved(night.client, BUCKET, night.prefix) == []


def test_a_withdrawal_reaches_live_json_before_its_share_page_goes(night: Night) -> None:
    night.build(DURING_THE_NIGHT)
    outlet = night.outlet()
    outlet.start()
    caught_up(outlet)
    sent = put_order(outlet)
    entry = night.root / "entries" / "0216-cannock-chase-result.md"
    entry.write_text(entry.read_text().replace("---\n", "---\nstatus: withdrawn\n", 1))
    report = night.build(DURING_THE_NIGHT)
    assert "update/0216-cannock-chase-result.html" in report.changes.deleted
    outlet.send(report.changes)
    caught_up(outlet)
    assert ("delete", "update/0216-cannock-chase-result.html") in sent
    gone = sent.index(("delete", "update/0216-cannock-chase-result.html"))
    assert sent.index(("put", "live.json")) < gone and sent.index(("put", "index.html")) < gone
    assert "update/0216-cannock-chase-result.html" not in night.objects()
    status, _, _ = http_get(night.store.url(night.prefix, "update/0216-cannock-chase-result.html"))
    assert status in (403, 404)
    assert unresolved(night.client, BUCKET, night.prefix) == []


def test_a_restart_resumes_without_uploading_again_even_without_its_record(night: Night) -> None:
    night.build()
    first = night.outlet()
    first.start()
    caught_up(first)
    first.stop()
    again = night.outlet()
    sent = put_order(again)
    again.start()
    caught_up(again)
    assert sent == [] and again.state().uploaded == 0
    again.stop()
    for record in (night.root / ".countnight").glob("objectstore-*.json"):
        record.unlink()
    third = night.outlet()
    sent = put_order(third)
    third.start()
    caught_up(third)
    assert sent == [], "the store's ETags are the MD5 of what was sent: nothing goes up again"


def test_after_a_cut_off_round_an_upload_naming_a_stored_page_waits_for_what_that_page_lacks(night: Night) -> None:
    """Found by the 100-kill run: a killed round can leave in the store a page naming one it never got
    (nothing a reader reached named either yet). After the restart, an upload that names that stored page
    would make the gap reachable: it goes only once the missing page is in."""
    night.build()
    out = night.site.out
    (out / "extra").mkdir()
    (out / "extra" / "a.html").write_text("<p>the oldest</p>")
    (out / "extra" / "b.html").write_text('<a href="a.html">older</a>')
    (out / "extra" / "c.html").write_text('<a href="b.html">older</a>')
    first = night.outlet()
    first.start()
    caught_up(first)
    first.stop()
    night.client.delete_object(Bucket=BUCKET, Key=night.prefix + "extra/a.html")  # b.html names it: as a kill leaves
    (out / "extra" / "c.html").write_text('<a href="b.html">older, now reachable</a>')
    again = night.outlet()
    events: list[tuple[str, str]] = []
    lock = threading.Lock()

    def seen(params: dict, model: object, **_: object) -> None:  # type: ignore[type-arg]
        if getattr(model, "name", "") == "PutObject":
            with lock:
                events.append(("start", params["Key"].removeprefix(night.prefix)))

    def done(http_response: object, parsed: dict, model: object, **_: object) -> None:  # type: ignore[type-arg]
        if getattr(model, "name", "") == "PutObject":
            with lock:
                events.append(("done", parsed.get("ETag", "")))

    again.store.client.meta.events.register("provide-client-params.s3.*", seen)
    again.store.client.meta.events.register("after-call.s3.*", done)
    again.start()
    caught_up(again)
    assert [name for verb, name in events if verb == "start"] == ["extra/a.html", "extra/c.html"]
    assert [verb for verb, _ in events] == ["start", "done", "start", "done"], "c.html only once a.html is in"
    assert night.objects() == night.local()


def test_a_store_emptied_or_edited_by_hand_is_repaired_at_start(night: Night) -> None:
    night.build()
    first = night.outlet()
    first.start()
    caught_up(first)
    first.stop()
    prefix, client = night.prefix, night.client
    client.delete_object(Bucket=BUCKET, Key=prefix + "index.html")
    client.delete_object(Bucket=BUCKET, Key=prefix + "update/0216-cannock-chase-result.html")
    client.put_object(Bucket=BUCKET, Key=prefix + "live.json", Body=b"{}", ContentType="application/json")
    client.put_object(Bucket=BUCKET, Key=prefix + "update/0999-stale.html", Body=b"x", Metadata={"countnight": "x"})
    client.put_object(Bucket=BUCKET, Key=prefix + "someone-elses.txt", Body=b"theirs")
    again = night.outlet()
    sent = put_order(again)
    again.start()
    caught_up(again)
    assert sorted(name for verb, name in sent if verb == "put") == [
        "index.html",
        "live.json",
        "update/0216-cannock-chase-result.html",
    ]
    assert ("delete", "update/0999-stale.html") in sent, "an object countnight put there and the site no longer holds"
    objects = night.objects()
    assert objects.pop("someone-elses.txt"), "an object countnight did not put there is left alone"
    assert objects == night.local()
    assert "leaving 1 object countnight did not put there" in night.console.getvalue()
    # Emptied by hand: everything goes up again.
    for name in list(night.objects()):
        client.delete_object(Bucket=BUCKET, Key=prefix + name)
    again.stop()
    third = night.outlet()
    third.start()
    caught_up(third)
    assert night.objects() == night.local()
    assert unresolved(night.client, BUCKET, night.prefix) == []


def test_gzip_stores_text_compressed_with_its_content_encoding(night: Night) -> None:
    night.build()
    outlet = night.outlet(compress=True)
    outlet.start()
    caught_up(outlet)
    status, headers, data = http_get(night.store.url(night.prefix, "index.html"))
    assert status == 200 and headers.get("content-encoding") == "gzip"
    assert gzip.decompress(data) == (night.site.out / "index.html").read_bytes()
    assert unresolved(night.client, BUCKET, night.prefix) == []


def _dead_endpoint() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"  # closed again: nothing listens there


def test_an_absent_store_never_holds_up_the_build_and_the_console_says_how_far_behind(night: Night) -> None:
    night.build(DURING_THE_NIGHT)
    outlet = night.outlet(endpoint=_dead_endpoint(), backoff=0.05, backoff_max=0.2)
    outlet.start()
    took: list[float] = []  # how long handing each build's changes to the outlet takes
    for n in range(3):
        night.drop(f"032{n}-news.md", f"03:2{n}", f"News {n}")
        report = night.build(DURING_THE_NIGHT)
        started = time.perf_counter()
        outlet.send(report.changes)
        took.append(time.perf_counter() - started)
    # Only queued: a send that waited on the store would wait for ever, as nothing listens there. The bound
    # leaves a loaded machine room for a turn of the interpreter lock held by the outlet's thread.
    assert max(took) < 0.5, f"send() must only queue the paths: {took}"
    deadline = time.monotonic() + TIMEOUT
    while "3 builds behind" not in night.console.getvalue():
        assert time.monotonic() < deadline, night.console.getvalue()
        time.sleep(0.02)
    assert "cannot reach the store" in night.console.getvalue()
    state = outlet.state()
    assert state.behind == 3 and state.failures >= 1 and state.error
    line = describe(state)  # what the preview server's banner shows
    assert line is not None and line.startswith("store 3 builds behind, retrying in ") and "cannot reach" in line


def test_uploads_keep_the_order_through_failures_and_catch_up_when_the_store_answers(night: Night) -> None:
    """A store whose every connection is cut for a while: nothing is lost, and the catch-up keeps the order."""
    night.build(DURING_THE_NIGHT)
    proxy = DelayingProxy(int(night.store.endpoint.rsplit(":", 1)[1])).start()
    try:
        outlet = night.outlet(endpoint=proxy.url, backoff=0.05, backoff_max=0.2)
        outlet.start()
        caught_up(outlet)
        sent = put_order(outlet)
        proxy.cutting = True
        for n in range(4):
            night.drop(f"032{n}-news.md", f"03:2{n}", f"News {n}")
            report = night.build(DURING_THE_NIGHT)
            outlet.send(report.changes)
        deadline = time.monotonic() + TIMEOUT
        while outlet.state().failures < 2:
            assert time.monotonic() < deadline, f"{outlet.state()}\n{night.console.getvalue()}"
            time.sleep(0.02)
        assert outlet.state().behind == 4
        sent.clear()
        proxy.cutting = False
        caught_up(outlet)
    finally:
        proxy.stop()
    assert "store caught up after" in night.console.getvalue()
    names = [name for verb, name in sent if verb == "put"]
    assert set(names[-2:]) == {"live.json", "index.html"}, "the way in last, the two side by side"
    assert night.objects() == night.local()
    assert unresolved(night.client, BUCKET, night.prefix) == []


def test_a_file_naming_one_not_written_yet_waits_for_it_then_goes_up_after_it(
    night: Night, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The build writes files one by one: a page read before the file it names is written waits for it. A
    page whose link stays broken in the site itself still goes out, after a few seconds."""
    night.build()
    outlet = night.outlet()
    outlet.start()
    caught_up(outlet)
    sent = put_order(outlet)
    out = night.site.out
    (out / "extra.html").write_text('<a href="update/not-yet.html">soon</a>')
    outlet.take(["extra.html"], [])
    deadline = time.monotonic() + TIMEOUT
    while outlet.state().rounds < 3:  # it is looked at again, and waits
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert "extra.html" not in night.objects()
    (out / ".not-yet.tmp").write_text("<p>here</p>")  # whole, as the build writes: a temporary file renamed
    (out / ".not-yet.tmp").replace(out / "update" / "not-yet.html")
    outlet.take(["update/not-yet.html"], [])
    caught_up(outlet)
    assert [name for _, name in sent] == ["update/not-yet.html", "extra.html"]
    monkeypatch.setattr("countnight.objectstore._HOLD_MAX", 0.2)
    (out / "broken.html").write_text('<a href="update/never.html">never</a>')
    outlet.take(["broken.html"], [])
    caught_up(outlet)
    assert "broken.html" in night.objects(), "a link to nothing in the site itself does not hold a page back for ever"
