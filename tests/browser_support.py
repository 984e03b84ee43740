"""Fixtures for the browser tests: one headless Chromium per test session (Debian's, driven by Playwright)
and nginx from Debian serving an output folder with ``deploy/nginx.conf`` on a loopback port.

Where Chromium, nginx, Playwright or axe-core cannot be had the tests skip, unless
``COUNTNIGHT_REQUIRE_BROWSER=1`` (CI, ``.ci/run``): then they fail, naming what is missing.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Request

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path(os.environ.get("COUNTNIGHT_CHROMIUM", "/usr/bin/chromium"))
NGINX = Path(os.environ.get("COUNTNIGHT_NGINX", "/usr/sbin/nginx"))
NGINX_CONF = REPO / "deploy" / "nginx.conf"
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = REPO / "test-artifacts"
TIMEOUT = 15.0  # seconds: generous, the suite runs two workers on a loaded two-core machine
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def required() -> bool:
    return os.environ.get("COUNTNIGHT_REQUIRE_BROWSER", "") not in ("", "0")


def need(ok: bool, what: str) -> None:
    """Skip (or, where the environment requires the browser tests, fail) when ``what`` is missing."""
    if ok:
        return
    message = f"{what} (run `make test`, which installs it)"
    if required():
        pytest.fail(f"COUNTNIGHT_REQUIRE_BROWSER is set but {message}", pytrace=False)
    pytest.skip(message)


# -- Chromium --------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the whole session (each test gets its own context)."""
    need(CHROMIUM.exists(), f"Chromium is not installed at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - the test extra installs it
        need(False, "the playwright package is not installed")
        raise
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Watched:
    """A page with what it logged and asked for, so tests can assert no errors and no third parties."""

    page: Page
    origin: str = ""
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    def on_request(self, request: Request) -> None:
        self.requests.append(request.url)

    def third_party(self) -> list[str]:
        return [u for u in self.requests if not u.startswith((self.origin, "data:"))]


@pytest.fixture
def open_page(browser: Browser) -> Iterator[Callable[..., Watched]]:
    """``open_page(origin, width=1280, **context_options)`` → a fresh context and page, closed afterwards.

    Every page is checked at the end: nothing in the console at error level (unless the test took the
    errors away), no page errors, and no request outside ``origin``.
    """
    contexts: list[tuple[BrowserContext, Watched]] = []

    def make(origin: str, width: int = 1280, height: int = 900, **options: Any) -> Watched:
        context = browser.new_context(viewport={"width": width, "height": height}, **options)
        context.set_default_timeout(TIMEOUT * 1000)
        page = context.new_page()
        watched = Watched(page, origin)
        page.on("console", watched.on_console)
        page.on("pageerror", lambda error: watched.errors.append(f"page error: {error}"))
        page.on("request", watched.on_request)
        contexts.append((context, watched))
        return watched

    yield make
    problems: list[str] = []
    for context, watched in contexts:
        problems += [f"console: {e}" for e in watched.errors]
        problems += [f"third-party request: {u}" for u in watched.third_party()]
        context.close()
    assert not problems, "\n".join(problems)


def save_screenshot(page: Page, name: str, *, full_page: bool = True) -> Path:
    """Save a screenshot under test-artifacts/ (git-ignored), for people to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=full_page)
    return path


# -- nginx -----------------------------------------------------------------------------------------


def _modules_left_out() -> set[str]:
    """The http modules this nginx was built without (their *_temp_path directives would be errors)."""
    built = subprocess.run([str(NGINX), "-V"], capture_output=True, text=True, timeout=10)
    return set(re.findall(r"--without-http_(\w+)_module", built.stderr + built.stdout))


def nginx_config(site: Path, listen: str, runtime: Path, publish: str) -> str:
    """``deploy/nginx.conf`` with its placeholders filled in, as a deployer would with sed."""
    text = NGINX_CONF.read_text()
    text = text.replace("@SITE@", str(site.resolve())).replace("@LISTEN@", listen).replace("@PUBLISH@", publish)
    text = text.replace("@RUNTIME@", str(runtime.resolve()))
    for module in _modules_left_out():
        text = re.sub(rf"^\s*{module}_temp_path .*$", "", text, flags=re.MULTILINE)
    return text


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Reply:
    """An HTTP response, read whole."""

    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass
class Nginx:
    """A running nginx: its base URL, and a small HTTP client for checking what it sends."""

    url: str
    port: int
    process: subprocess.Popen[bytes]
    runtime: Path
    publish_port: int = 0  # the live channel's publisher (loopback)

    @property
    def publish_url(self) -> str:
        """Where a build POSTs its live messages (countnight.toml's [live] publish_url)."""
        return f"http://127.0.0.1:{self.publish_port}/live/publish"

    def get(self, path: str, headers: dict[str, str] | None = None) -> Reply:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)
        try:
            connection.request("GET", "/" + path.lstrip("/"), headers=headers or {})
            response = connection.getresponse()
            body = response.read()
        finally:
            connection.close()
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, body)

    def body(self, path: str) -> bytes:
        reply = self.get(path)
        assert reply.status == 200, f"{path}: HTTP {reply.status}"
        return reply.body

    def kill(self) -> None:
        """SIGKILL the master and its workers (a crash: no goodbye to open connections). Killing the master
        alone would leave its worker serving the connections it holds."""
        pid = self.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children")
        workers = [int(p) for p in children.read_text().split()] if children.exists() else []
        self.process.kill()
        for worker in workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker, signal.SIGKILL)
        self.process.wait(TIMEOUT)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # SIGTERM: fast shutdown of the master and its worker
            try:
                self.process.wait(TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(TIMEOUT)


def start_nginx(
    site: Path,
    runtime: Path,
    *,
    port: int | None = None,
    publish_port: int | None = None,
    edit: Callable[[str], str] | None = None,
) -> Nginx:
    """nginx in the foreground as the current user, serving ``site`` (and the live channel) on free loopback
    ports, or on the given ones (a restart of the same server). ``edit`` changes the filled-in configuration
    (a benchmark trying a variant of deploy/nginx.conf)."""
    runtime.mkdir(parents=True, exist_ok=True)
    directives = "daemon off;" + (" user root;" if os.geteuid() == 0 else "")  # root's workers would be nobody
    fixed = port is not None
    for _attempt in range(5 if not fixed else 50):  # another process may take a free port between probe and bind
        port = port if fixed and port is not None else free_port()
        publish_port = publish_port if fixed and publish_port is not None else free_port()
        conf = runtime / "nginx.conf"
        text = nginx_config(site, f"127.0.0.1:{port}", runtime, f"127.0.0.1:{publish_port}")
        conf.write_text(edit(text) if edit is not None else text)
        log = runtime / "error.log"
        command = [str(NGINX), "-p", str(runtime), "-c", str(conf), "-e", str(log), "-g", directives]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline and process.poll() is None:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                return Nginx(f"http://127.0.0.1:{port}/", port, process, runtime, publish_port)
            time.sleep(0.02)
        if process.poll() is None:
            process.kill()
        _, stderr = process.communicate(timeout=TIMEOUT)
        text = stderr.decode(errors="replace") + (log.read_text(errors="replace") if log.exists() else "")
        if "Address already in use" not in text:
            pytest.fail(f"nginx did not start:\n{text}")
        if fixed:  # the old server's sockets are still closing: try the same ports again shortly
            time.sleep(0.1)
    pytest.fail("nginx: no free port after 5 tries")


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[[Path], Nginx]]:
    """``serve(site_folder)`` → nginx serving it with deploy/nginx.conf; stopped after the test."""
    need(NGINX.exists(), f"nginx is not installed at {NGINX}")
    started: list[Nginx] = []

    def start(site: Path) -> Nginx:
        server = start_nginx(site, tmp_path / f"nginx-{len(started)}")
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
