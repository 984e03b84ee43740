"""``countnight publish --to``, ``watch --publish``, the ``[publish]`` table and the CDN purge, against a real
S3-compatible store (SeaweedFS on loopback)."""

from __future__ import annotations

import http.server
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

pytest.register_assert_rewrite("store_support")
from conftest import copy_sample  # noqa: E402
from countnight.cli import main  # noqa: E402
from countnight.config import parse_config  # noqa: E402
from countnight.errors import InputError  # noqa: E402
from store_support import BUCKET, TIMEOUT, Seaweed, http_get, listing, unresolved  # noqa: E402

pytest_plugins = ["store_support"]

HEAD = 'title = "x"\ntimezone = "Europe/London"\ncoverage_start = "2024-07-04T22:00:00+01:00"\n'


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        (
            '[publish]\nto = "http://bucket/x"\n',
            "countnight.toml:5: publish.to: 'http://bucket/x' is not an s3://BUCKET/PREFIX address",
        ),
        (
            '[publish]\nto = "s3://Bad_Bucket/x"\n',
            "countnight.toml:5: publish.to: 's3://Bad_Bucket/x': 'Bad_Bucket' is not a bucket name (lower-case letters, digits, '-', '.')",
        ),
        (
            '[publish]\nto = "s3://night/a/../b"\n',
            "countnight.toml:5: publish.to: 's3://night/a/../b': the prefix may not hold empty, '.' or '..' parts",
        ),
        (
            '[publish]\nto = "s3://night/2024?live"\n',
            "countnight.toml:5: publish.to: 's3://night/2024?live': the prefix may not hold '?', '#', '%', '\\' or control characters",
        ),
        (
            '[publish]\nto = "s3://night/a\\u001b[31m"\n',
            "countnight.toml:5: publish.to: 's3://night/a\\x1b[31m': the prefix may not hold '?', '#', '%', '\\' or control characters",
        ),
        (
            '[publish]\nto = "s3://Night\\u001b/x"\n',
            "countnight.toml:5: publish.to: 's3://Night\\x1b/x': 'Night\\x1b' is not a bucket name (lower-case letters, digits, '-', '.')",
        ),
        (
            f'[publish]\nto = "s3://night/{"x" * 513}"\n',
            f"countnight.toml:5: publish.to: 's3://night/{'x' * 513}': the prefix is 513 bytes; at most 512, to leave the site's names room in the store's keys (1,024 bytes)",
        ),
        (
            '[publish]\naws_secret_access_key = "abc"\n',
            "countnight.toml:5: publish.aws_secret_access_key: credentials never go in countnight.toml: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE, or --profile) in the environment",
        ),
        (
            '[publish]\nendpoint = "http://127.0.0.1:9000"\n',
            "countnight.toml:5: publish.endpoint: the endpoint comes from AWS_ENDPOINT_URL or --endpoint, never from countnight.toml",
        ),
        ('[publish]\ntoo = "s3://night"\n', "countnight.toml:5: publish.too: unknown setting (did you mean 'to'?)"),
        ('publish = "s3://night"\n', "countnight.toml:4: publish: must be a table, [publish]"),
        ("[publish]\nmax_age = -1\n", "countnight.toml:5: publish.max_age: Input should be greater than or equal to 0"),
        ("[publish]\ngzip = 1\n", "countnight.toml:5: publish.gzip: Input should be a valid boolean"),
        (
            '[publish]\npurge_url = "https://api.example/purge"\n',
            "countnight.toml:5: publish.purge_url: must hold {url} (the object's public address) or {path} (its path in the site)",
        ),
        (
            '[publish]\npurge_url = "https://api.fastly.com/purge/{url}"\n',
            "countnight.toml:4: publish: purging the CDN by address needs base_url (the public address)",
        ),
        (
            '[publish]\npurge_method = "FETCH"\npurge_url = "https://cdn/{path}"\n',
            "countnight.toml:5: publish.purge_method: Input should be 'PURGE', 'POST', 'GET', 'PUT' or 'DELETE'",
        ),
    ],
)
def test_a_bad_publish_table_is_refused_with_its_line(table: str, expected: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_config((HEAD + table).encode(), "countnight.toml")
    assert [str(p) for p in caught.value.problems] == [expected]


def test_a_good_publish_table_is_read() -> None:
    text = HEAD + 'base_url = "https://night.example/"\n[publish]\nto = "s3://night/2024"\nmax_age = 5\ngzip = true\n'
    text += 'purge_command = ["./purge.sh", "--zone", "z"]\n'
    options = parse_config(text.encode(), "countnight.toml").publish
    assert options is not None
    assert (options.to, options.max_age, options.gzip, options.purge_command) == (
        "s3://night/2024",
        5,
        True,
        ["./purge.sh", "--zone", "z"],
    )


@pytest.fixture
def night(tmp_path: Path, aws_env: dict[str, str]) -> Path:
    return copy_sample(tmp_path / "night")


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.output


def test_publish_builds_then_mirrors_and_a_second_run_sends_nothing(night: Path, seaweed: Seaweed) -> None:
    prefix = seaweed.new_prefix()
    code, output = run(
        "publish", "--root", str(night), "--to", f"s3://{BUCKET}/{prefix}", "--endpoint", seaweed.endpoint
    )
    assert code == 0, output
    assert "published 47" in output and "uploaded, 0 deleted" in output
    objects = listing(seaweed.client(), BUCKET, prefix)
    assert len(objects) == len([p for p in (night / "site").rglob("*") if p.is_file() and not p.name.startswith(".")])
    assert unresolved(seaweed.client(), BUCKET, prefix) == []
    before = _digests(night / "site")
    code, output = run(
        "publish", "--root", str(night), "--to", f"s3://{BUCKET}/{prefix}", "--endpoint", seaweed.endpoint
    )
    # A build from nothing dates live.json and the live messages anew: those go up again, nothing else.
    changed = {name for name, digest in _digests(night / "site").items() if before.get(name) != digest}
    assert code == 0 and f"s3://{BUCKET}/{prefix}: up to date ({len(changed)} uploaded, 0 deleted)" in output, output


def test_publish_takes_its_target_from_the_publish_table_and_the_endpoint_from_the_environment(
    night: Path, seaweed: Seaweed
) -> None:
    prefix = seaweed.new_prefix()
    with (night / "countnight.toml").open("a") as config:
        config.write(f'\n[publish]\nto = "s3://{BUCKET}/{prefix}"\nmax_age = 30\n')
    code, output = run("publish", "--root", str(night), env={"AWS_ENDPOINT_URL": seaweed.endpoint})
    assert code == 0, output
    status, headers, _ = http_get(seaweed.url(prefix, "index.html"))
    assert status == 200 and headers["cache-control"] == "public, max-age=30, must-revalidate"


def test_publish_without_a_target_or_with_wrong_credentials_says_what_to_do(night: Path, seaweed: Seaweed) -> None:
    code, output = run("publish", "--root", str(night), "--endpoint", seaweed.endpoint)
    assert code == 1 and "no target: give s3://BUCKET/PREFIX, or set `to` in the [publish] table" in output
    code, output = run("publish", "--root", str(night), "--to", "https://night", "--endpoint", seaweed.endpoint)
    assert code == 1 and "'https://night' is not an s3://BUCKET/PREFIX address" in output
    assert not (night / "site").exists()  # a mistyped target is said before any build, not after one
    started = time.monotonic()
    code, output = run(
        "publish",
        "--root",
        str(night),
        "--to",
        f"s3://{BUCKET}/x/",
        "--endpoint",
        seaweed.endpoint,
        env={"AWS_SECRET_ACCESS_KEY": "wrong"},
    )
    assert code == 1 and "the store refused the credentials" in output and "run it again to carry on" in output, output
    assert time.monotonic() - started < TIMEOUT / 2, "a refusal that lasts is not tried again and again"
    assert "Traceback" not in output


@pytest.mark.parametrize(
    ("endpoint", "said"),
    [
        ("notaurl", "Invalid endpoint: notaurl"),
        ("http://", "Invalid endpoint: http://"),
        ("http://[::1", "Invalid IPv6 URL"),
        ("ftp://store.example", "'ftp://store.example' is not an http:// or https:// address"),
    ],
)
@pytest.mark.parametrize("how", ["option", "environment"])
def test_a_store_address_that_is_no_web_address_is_said_at_once(
    night: Path, endpoint: str, said: str, how: str
) -> None:
    """botocore raised a ValueError (a traceback) for some; it took others and failed every request, retrying."""
    given = ["--endpoint", endpoint] if how == "option" else []
    env = {"AWS_ENDPOINT_URL": endpoint} if how == "environment" else None
    code, output = run("publish", "--root", str(night), "--to", f"s3://{BUCKET}/x/", *given, env=env)
    assert code == 1, output
    assert f"the store's address (--endpoint or AWS_ENDPOINT_URL): {said}" in output, output
    assert "Traceback" not in output and "tries" not in output
    assert not (night / "site").exists()


class _Purges(http.server.BaseHTTPRequestHandler):
    seen: list[tuple[str, str, str | None]]

    def _any(self) -> None:
        self.seen.append((self.command, self.path, self.headers.get("Fastly-Key")))
        self.send_response(200)
        self.end_headers()

    do_PURGE = do_POST = _any

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def purge_server() -> Iterator[tuple[str, list[tuple[str, str, str | None]]]]:
    seen: list[tuple[str, str, str | None]] = []
    handler = type("Handler", (_Purges,), {"seen": seen})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()


def test_a_purge_request_per_changed_object_fastly_style_with_headers_from_the_environment(
    night: Path, seaweed: Seaweed, purge_server: tuple[str, list[tuple[str, str, str | None]]]
) -> None:
    address, seen = purge_server
    prefix = seaweed.new_prefix()
    with (night / "countnight.toml").open("a") as config:
        config.write(f'\n[publish]\nto = "s3://{BUCKET}/{prefix}"\npurge_url = "{address}/purge/{{path}}"\n')
    env = {"AWS_ENDPOINT_URL": seaweed.endpoint, "COUNTNIGHT_PURGE_HEADERS": "Fastly-Key: sekrit"}
    code, output = run("publish", "--root", str(night), env=env)
    assert code == 0, output
    paths = {path for _, path, _ in seen}
    assert {"/purge/index.html", "/purge/live.json", "/purge/"} <= paths, "the folder's own address too"
    assert {method for method, _, _ in seen} == {"PURGE"} and {key for _, _, key in seen} == {"sekrit"}


def test_a_purge_command_gets_every_changed_public_address(night: Path, seaweed: Seaweed, tmp_path: Path) -> None:
    prefix = seaweed.new_prefix()
    said = tmp_path / "purged.json"
    script = tmp_path / "purge.py"
    script.write_text(f"import json, sys\nopen({str(said)!r}, 'a').write(json.dumps(sys.argv[1:]) + '\\n')\n")
    with (night / "countnight.toml").open("a") as config:
        config.write(f'\n[publish]\nto = "s3://{BUCKET}/{prefix}"\npurge_command = ["{sys.executable}", "{script}"]\n')
    code, output = run("publish", "--root", str(night), env={"AWS_ENDPOINT_URL": seaweed.endpoint})
    assert code == 0, output
    urls = [url for line in said.read_text().splitlines() for url in json.loads(line)]
    assert "https://example.org/election/index.html" in urls and "https://example.org/election/" in urls
    assert "https://example.org/election/update/0216-cannock-chase-result.html" in urls


def test_watch_publish_sends_a_dropped_entry_to_the_store(
    night: Path, seaweed: Seaweed, aws_env: dict[str, str]
) -> None:
    prefix = seaweed.new_prefix()
    command = [sys.executable, "-c", "from countnight.launch import main; main()", "watch", "--root", str(night)]
    command += ["--publish", f"s3://{BUCKET}/{prefix}", "--endpoint", seaweed.endpoint]
    log = (night.parent / "watch.log").open("wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env={**_env(), **aws_env})
    try:
        _wait(lambda: http_get(seaweed.url(prefix, "index.html"))[0] == 200, "the first publish")
        (night / "entries" / "0701-after-hours.md").write_text(
            '---\ntime: "07:01"\ntitle: After hours\n---\nStill here.\n'
        )
        _wait(lambda: b"After hours" in http_get(seaweed.url(prefix, "index.html"))[2], "the new entry in the store")
        assert http_get(seaweed.url(prefix, "update/0701-after-hours.html"))[0] == 200
        assert unresolved(seaweed.client(), BUCKET, prefix) == []
        # The live channel's files (which pages polling the store read first) follow every message, not only
        # what the first upload found: the head as the folder has it, and the message it names.
        head = night / "site" / "live" / "head.json"
        _wait(lambda: http_get(seaweed.url(prefix, "live/head.json"))[2] == head.read_bytes(), "the channel's head")
        _, headers, _ = http_get(seaweed.url(prefix, "live/head.json"))
        assert headers["cache-control"] == "public, max-age=10, must-revalidate"
        seq = json.loads(head.read_bytes())["seq"]
        assert seq >= 2, "the drop's message, after the first build's"
        message = (night / "site" / "live" / f"{seq}.json").read_bytes()
        assert http_get(seaweed.url(prefix, f"live/{seq}.json"))[2] == message
        assert b"0701-after-hours" in message
    finally:
        process.terminate()
        process.wait(TIMEOUT)
        log.close()
    text = (night.parent / "watch.log").read_text()
    assert f"publishing to s3://{BUCKET}/{prefix}" in text and "Traceback" not in text


def _digests(out: Path) -> dict[str, str]:
    import hashlib

    return {
        p.relative_to(out).as_posix(): hashlib.md5(p.read_bytes()).hexdigest()
        for p in out.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(out).parts)
    }


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}


def _wait(predicate: object, what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
