"""The desk's walls, tried: no session, a forged or missing CSRF token, a removed reporter, hostile text in
every field, path traversal in every parameter, a storm of sign-in attempts, oversized bodies, and the
headers on every answer. Starlette's TestClient where the server does not matter; a real uvicorn on a free
loopback port where it does (raw paths, the proxy's headers, a thousand requests)."""

from __future__ import annotations

import http.client
import re
import socket
import urllib.parse
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from countnight.desk.drop import read_log
from countnight.desk.reporters import Reporters
from countnight.desk.server import DeskServer
from countnight.markup import _ATTRIBUTES, _TAGS
from desk_support import SIX, add_reporter, clock, csrf_of, official, sign_in
from xss_payloads import PAYLOADS

pytest_plugins = ["desk_fixtures"]
ClientFor = Callable[..., TestClient]
TIMEOUT = 15.0

GET_ROUTES = [
    "/",
    "/new/result",
    "/new/update",
    "/new/result?constituency=Stafford",
    "/entries",
    "/entry/{id}",
    "/entry/{id}/status",
    "/entry/{id}/correct",
]
POST_ROUTES = [
    "/new/update",
    "/preview/update",
    "/entry/{id}/withdraw",
    "/entry/{id}/pin",
    "/entry/{id}/approve",
    "/entry/{id}/correct",
    "/signout",
]
UPDATE = {"time": "03:30", "title": "Counting under way", "body": "Boxes are arriving.", "action": "send"}


@pytest.fixture
def filed(desk_blog: Path, client_for: ClientFor) -> tuple[Path, str]:
    """A blog folder with one entry filed through the desk; returns (root, its id)."""
    client = client_for(desk_blog, "Hannah Birch")
    page = client.get("/new/update")
    done = client.post("/new/update", data=UPDATE | {"csrf": csrf_of(page.text)})
    assert done.status_code == 200 and "/entry/" in str(done.url)
    return desk_blog, str(done.url).rsplit("/", 1)[1]


def entries(root: Path) -> list[str]:
    return sorted(p.name for p in (root / "entries").iterdir())


# -- who may do what -----------------------------------------------------------------------------------


def test_without_a_session_everything_is_refused(filed: tuple[Path, str], client_for: ClientFor) -> None:
    root, ident = filed
    before = entries(root)
    client = client_for(root)
    for route in GET_ROUTES:
        answer = client.get(route.format(id=ident))
        assert answer.status_code == 401, route
        assert "Sign in with the link" in answer.text and "Counting under way" not in answer.text
    for route in POST_ROUTES:
        assert client.post(route.format(id=ident), data=UPDATE).status_code == 401, route
    client.cookies.set("desk_session", "made-up-session-token")
    assert client.get("/").status_code == 401
    assert entries(root) == before


def tampered(token: str) -> str:
    """The token with its last character changed: never the token itself (one in 16 ends in "0")."""
    return token[:-1] + ("1" if token.endswith("0") else "0")


def test_a_forged_or_missing_csrf_token_is_refused(filed: tuple[Path, str], client_for: ClientFor) -> None:
    root, ident = filed
    editor = client_for(root, "Tim Page", editor=True)
    other = client_for(root, "Hannah Birch 2")
    others_token = csrf_of(other.get("/").text)  # a real token, of another session
    before = {p: p.read_bytes() for p in (root / "entries").iterdir()}
    for route in POST_ROUTES:
        for token in (None, "", "0" * 64, others_token, tampered(csrf_of(editor.get("/").text))):
            data = UPDATE | {"note": "x"} | ({"csrf": token} if token is not None else {})
            answer = editor.post(route.format(id=ident), data=data)
            assert answer.status_code == 403, (route, token)
    assert {p: p.read_bytes() for p in (root / "entries").iterdir()} == before
    # and the sign-in form's token is bound to the browser that opened the link
    stranger = client_for(root)
    link = add_reporter(root, "Third")
    form = csrf_of(stranger.get(link).text)
    thief = client_for(root)
    assert thief.post("/signin", data={"csrf": form, "token": link.rsplit("/", 1)[1]}).status_code == 403


def test_a_removed_reporter_is_refused_at_once(filed: tuple[Path, str], client_for: ClientFor) -> None:
    root, ident = filed
    editor = client_for(root, "Tim Page", editor=True)
    assert editor.get(f"/entry/{ident}").status_code == 200
    Reporters(root).remove("Tim Page")  # what `countnight reporter remove` does, from another process
    assert editor.get(f"/entry/{ident}").status_code == 401
    assert editor.get("/").status_code == 401


def test_a_withdrawal_needs_its_box_ticked(filed: tuple[Path, str], client_for: ClientFor) -> None:
    root, ident = filed
    editor = client_for(root, "Tim Page", editor=True)
    token = csrf_of(editor.get(f"/entry/{ident}").text)
    assert editor.post(f"/entry/{ident}/withdraw", data={"csrf": token}).status_code == 400
    assert "status:" not in (root / "entries" / f"{ident}.md").read_text()
    done = editor.post(f"/entry/{ident}/withdraw", data={"csrf": token, "sure": "yes"})
    assert done.status_code == 200 and "withdrawn" in done.text
    assert "status: withdrawn" in (root / "entries" / f"{ident}.md").read_text()
    log = read_log(root)[-1]
    assert (log["who"], log["action"], log["id"]) == ("Tim Page", "withdrawn", ident)


def test_only_editors_act_on_entries(filed: tuple[Path, str], client_for: ClientFor) -> None:
    root, ident = filed
    reporter = client_for(root, "Reporter Two")
    token = csrf_of(reporter.get("/").text)
    for action in ("withdraw", "pin", "approve", "correct"):
        assert reporter.post(f"/entry/{ident}/{action}", data={"csrf": token, "note": "x"}).status_code == 403
    assert reporter.get("/entries").status_code == 403
    assert "status:" not in (root / "entries" / f"{ident}.md").read_text()


# -- hostile text in every field -----------------------------------------------------------------------

URL_ATTRIBUTES = {"href", "src", "action", "formaction", "srcset", "poster", "data", "xlink:href"}
OURS = {("script", "src", "/static/desk.js"), ("link", "href", "data:,")}


class Scan(HTMLParser):
    """Every element and attribute of a page, and anything that could run or load from elsewhere."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pairs: set[tuple[str, str]] = set()
        self.bad: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.pairs.add((tag, ""))
        for name, value in attrs:
            self.pairs.add((tag, name))
            if name.startswith("on"):
                self.bad.append(f"<{tag} {name}>")
            # as a browser's URL parser reads it: C0 controls and spaces stripped at the ends, tabs and newlines anywhere
            text = re.sub(r"[\t\n\r]", "", (value or "").strip("".join(map(chr, range(33))))).lower()
            if (
                name in URL_ATTRIBUTES
                and re.match(r"(javascript|vbscript|data):", text)
                and (tag, name, value) not in OURS
            ):
                self.bad.append(f"<{tag} {name}={value!r}>")
        if tag == "script" and dict(attrs).get("src") != "/static/desk.js":
            self.bad.append("<script> not ours")


def scan(html: str) -> Scan:
    found = Scan()
    found.feed(html)
    found.close()
    return found


def hostile_forms(text: str) -> dict[str, dict[str, str]]:
    """Every field of every kind holding ``text``: numbers too (their errors repeat what was typed)."""
    rows = {f"{sub}-{n}": text for n in (1, 2) for sub in ("name", "party", "votes")}
    common = {"time": text, "author": text, "role": text, "body": text, "breaking": "true", "key": "true"}
    return {
        "result": common
        | rows
        | {"constituency": text, "electorate": text, "rejected": text, "rows": "2", "listed": text},
        "turnout": common | {"constituency": text, "turnout": text, "ballots": text, "electorate": text},
        "quote": common | {"speaker": text, "speaker_role": text, "quote": text},
        "update": common | {"title": text},
    }


def good_forms(text: str) -> dict[str, dict[str, str]]:
    """Every text field holding ``text`` and every number valid, so the entry is filed and shown."""
    candidates = official(SIX)
    rows = {f"name-{n}": f"{c.name} {text}" for n, c in enumerate(candidates, 1)}
    rows |= {f"party-{n}": c.party for n, c in enumerate(candidates, 1)} | {
        f"votes-{n}": str(c.votes) for n, c in enumerate(candidates, 1)
    }
    common = {"time": "03:30", "author": text, "role": text, "body": text}
    return {
        "result": common | rows | {"constituency": SIX, "rows": str(len(candidates))},
        "quote": common | {"speaker": text, "speaker_role": text, "quote": text},
        "update": common | {"title": text},
    }


ALLOWED_BY_SANITISER = (
    {(tag, "") for tag in _TAGS} | {(tag, a) for tag, names in _ATTRIBUTES.items() for a in names} | {("a", "rel")}
)


def pairs_of_plain_pages(reporter: TestClient, token: str) -> set[tuple[str, str]]:
    """What the desk's pages are made of with harmless words in every field, errors and all."""
    plain: set[tuple[str, str]] = set()
    for kind, form in hostile_forms("plain words").items():
        plain |= scan(reporter.post(f"/new/{kind}", data=form | {"csrf": token, "action": "send"}).text).pairs
    for kind, form in good_forms("plain words").items():
        plain |= scan(reporter.post(f"/new/{kind}", data=form | {"csrf": token, "action": "preview"}).text).pairs
        page = reporter.post(f"/new/{kind}", data=form | {"csrf": token, "action": "send"})
        plain |= scan(page.text).pairs | scan(reporter.get(str(page.url) + "/correct").text).pairs
    return plain | scan(reporter.get("/entries").text).pairs


@pytest.mark.parametrize("half", [0, 1], ids=["payloads-even", "payloads-odd"])
def test_hostile_text_in_every_field_is_inert_on_every_page(desk_blog: Path, client_for: ClientFor, half: int) -> None:
    reporter = client_for(desk_blog, "Tim Page", editor=True)
    token = csrf_of(reporter.get("/").text)
    # Anything on a page that plain words do not make must come from the sanitiser's allow-list.
    allowed = pairs_of_plain_pages(reporter, token) | ALLOWED_BY_SANITISER
    filed: list[str] = []
    problems: list[str] = []

    def check(where: str, html: str) -> None:
        found = scan(html)
        problems.extend(f"{where}: {b}" for b in [*found.bad, *map(str, found.pairs - allowed)])

    numbered = list(enumerate(PAYLOADS))[half::2]
    for number, payload in numbered:
        for kind, form in hostile_forms(payload.text).items():
            check(
                f"{number} {kind} form",
                reporter.post(f"/new/{kind}", data=form | {"csrf": token, "action": "send"}).text,
            )
        for kind, form in good_forms(payload.text).items():
            preview = reporter.post(f"/preview/{kind}", data=form | {"csrf": token}).json()
            check(f"{number} {kind} preview", preview["preview"])
            if number % 8 in (len(kind) % 8, (len(kind) + 1) % 8):  # file a quarter of them: the entry pages too
                page = reporter.post(f"/new/{kind}", data=form | {"csrf": token, "action": "send"})
                assert "/entry/" in str(page.url), (number, kind, page.text[-2000:])
                filed.append(str(page.url).rsplit("/", 1)[1])
                check(f"{number} {kind} entry", page.text)
                check(f"{number} {kind} correct", reporter.get(f"/entry/{filed[-1]}/correct").text)
    check("entries page", reporter.get("/entries").text)
    assert problems == [], problems[:20]
    assert len(filed) >= len(numbered) * 3 // 4 - 3
    print(
        f"\nRELIABILITY desk-xss[{half}]: {len(numbered)} payloads x 4 kinds, every field; {len(filed)} filed; none ran"
    )


# -- against a real server: raw paths, proxy headers, a storm of sign-ins, big bodies --------------------


@pytest.fixture
def served(filed: tuple[Path, str]) -> Iterator[tuple[DeskServer, Path, str]]:
    root, ident = filed
    desk = DeskServer(root, clock).start()
    yield desk, root, ident
    desk.stop()


def raw(
    desk: DeskServer, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """Send ``path`` exactly as written (http.client does not normalise it)."""
    connection = http.client.HTTPConnection("127.0.0.1", desk.port, timeout=TIMEOUT)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        answer = connection.getresponse()
        headers: dict[str, str] = {}
        for name, value in answer.getheaders():  # several Set-Cookie headers: one a line
            headers[name.lower()] = f"{headers[name.lower()]}\n{value}" if name.lower() in headers else value
        return answer.status, headers, answer.read()
    finally:
        connection.close()


def cookie_named(headers: dict[str, str], name: str) -> str:
    """The ``Set-Cookie`` line of cookie ``name``."""
    return next(line for line in headers["set-cookie"].split("\n") if line.startswith(f"{name}="))


def signed_in_cookie(desk: DeskServer, root: Path, name: str, *, editor: bool = True) -> tuple[str, str]:
    """(Cookie header, CSRF token) of a session signed in over the real server."""
    link = add_reporter(root, name, editor=editor)
    status, headers, body = raw(desk, "GET", link)
    pre = headers["set-cookie"].split(";", 1)[0]
    form = urllib.parse.urlencode({"csrf": csrf_of(body.decode()), "token": link.rsplit("/", 1)[1]}).encode()
    status, headers, _ = raw(
        desk, "POST", "/signin", form, {"Cookie": pre, "Content-Type": "application/x-www-form-urlencoded"}
    )
    assert status == 303
    cookie = cookie_named(headers, "desk_session").split(";", 1)[0]
    _, _, home = raw(desk, "GET", "/", headers={"Cookie": cookie})
    return cookie, csrf_of(home.decode())


TRAVERSALS = [
    "../../../../etc/passwd",
    "..%2f..%2f..%2fetc%2fpasswd",
    "%2e%2e%2f%2e%2e%2fcountnight.toml",
    "..\\..\\countnight.toml",
    "....//....//etc/passwd",
    "%252e%252e%252fetc%252fpasswd",
    ".countnight%2fdesk-reporters.json",
    "..%00.md",
    "%c0%ae%c0%ae/etc/passwd",
]


def test_path_traversal_in_every_parameter_is_refused(served: tuple[DeskServer, Path, str]) -> None:
    desk, root, ident = served
    (root.parent / "secret.txt").write_text("TOP SECRET")
    cookie, token = signed_in_cookie(desk, root, "Tim Page")
    before = sorted(str(p.relative_to(root.parent)) for p in root.parent.rglob("*") if "site" not in p.parts)
    form = urllib.parse.urlencode({"csrf": token, "note": "x", **UPDATE}).encode()
    post = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}
    for bad in TRAVERSALS:
        gets = [
            f"/entry/{bad}",
            f"/entry/{bad}/status",
            f"/entry/{bad}/correct",
            f"/new/{bad}",
            f"/new/result?constituency={bad}",
            f"/static/{bad}",
            f"/theme/assets/{bad}",
            f"/signin/{bad}",
            f"/{bad}",
        ]
        for path in gets:
            status, _, body = raw(desk, "GET", path, headers={"Cookie": cookie})
            assert status in (200, 400, 401, 403, 404), (path, status)
            assert (
                b"root:" not in body
                and b"TOP SECRET" not in body
                and b"coverage_start" not in body
                and b'"sessions"' not in body
            ), path
            if status == 200:  # only the constituency form answers, with the text shown back, escaped, as a seat name
                assert path.startswith("/new/result?constituency=") or path.startswith("/signin/"), path
        for path in [f"/entry/{bad}/withdraw", f"/entry/{ident}/{bad}", f"/new/{bad}", f"/preview/{bad}"]:
            status, _, body = raw(desk, "POST", path, form, post)
            assert status in (400, 403, 404, 405), (path, status)
    after = sorted(str(p.relative_to(root.parent)) for p in root.parent.rglob("*") if "site" not in p.parts)
    assert [p for p in after if p not in before and "desk-log" not in p] == []
    assert "status: withdrawn" not in (root / "entries" / f"{ident}.md").read_text()


def test_a_thousand_rapid_sign_in_attempts_are_throttled(served: tuple[DeskServer, Path, str]) -> None:
    desk, root, _ = served
    link = add_reporter(root, "Late Reporter")
    _, headers, body = raw(desk, "GET", link)
    pre = headers["set-cookie"].split(";", 1)[0]
    csrf = csrf_of(body.decode())
    connection = http.client.HTTPConnection("127.0.0.1", desk.port, timeout=TIMEOUT)
    connection.connect()
    connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no 40 ms Nagle waits per request
    statuses: list[int] = []
    try:
        for n in range(1000):
            guess = urllib.parse.urlencode({"csrf": csrf, "token": f"guess{n:04d}" + "x" * 38}).encode()
            connection.request(
                "POST",
                "/signin",
                body=guess,
                headers={"Cookie": pre, "Content-Type": "application/x-www-form-urlencoded"},
            )
            answer = connection.getresponse()
            answer.read()
            statuses.append(answer.status)
    finally:
        connection.close()
    assert statuses.count(403) == 10 and statuses.count(429) == 990, sorted(set(statuses))
    assert statuses[:10] == [403] * 10
    # a forged X-Forwarded-For buys another ten from the same machine at most, then the overall cap holds
    more = []
    for n in range(100):
        form = urllib.parse.urlencode({"csrf": csrf, "token": "y" * 43}).encode()
        status, _, _ = raw(
            desk,
            "POST",
            "/signin",
            form,
            {"Cookie": pre, "Content-Type": "application/x-www-form-urlencoded", "X-Forwarded-For": f"10.0.{n}.1"},
        )
        more.append(status)
    assert more.count(403) <= 50 and more.count(429) >= 50, more
    # the real link, meanwhile, waits its turn rather than being spent
    form = urllib.parse.urlencode({"csrf": csrf, "token": link.rsplit("/", 1)[1]}).encode()
    status, _, _ = raw(
        desk, "POST", "/signin", form, {"Cookie": pre, "Content-Type": "application/x-www-form-urlencoded"}
    )
    assert status == 429
    assert Reporters(root).all()[-1][1] == 0  # no session was made
    print(
        f"\nRELIABILITY desk-signin-storm: 1000 attempts, {statuses.count(429)} throttled, {statuses.count(403)} answered"
    )


def test_headers_cookies_behind_tls_and_size_limits(served: tuple[DeskServer, Path, str]) -> None:
    desk, root, _ = served
    for path in ("/", "/signin/x", "/static/desk.css", "/nowhere"):
        _, headers, _ = raw(desk, "GET", path)
        csp = headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp, path
        assert headers["x-content-type-options"] == "nosniff" and headers["referrer-policy"] == "no-referrer"
        assert headers["x-frame-options"] == "DENY" and headers["cache-control"] == "no-store"
        assert "strict-transport-security" not in headers and "server" not in headers
    # Behind the TLS proxy (on this machine, so trusted): Secure cookies and HSTS.
    link = add_reporter(root, "Over TLS")
    proxy = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    _, headers, body = raw(desk, "GET", link, headers=proxy)
    assert "; secure" in headers["set-cookie"].lower() and "httponly" in headers["set-cookie"].lower()
    assert headers["strict-transport-security"].startswith("max-age=")
    pre = headers["set-cookie"].split(";", 1)[0]
    form = urllib.parse.urlencode({"csrf": csrf_of(body.decode()), "token": link.rsplit("/", 1)[1]}).encode()
    status, headers, _ = raw(
        desk, "POST", "/signin", form, proxy | {"Cookie": pre, "Content-Type": "application/x-www-form-urlencoded"}
    )
    assert status == 303
    session = cookie_named(headers, "desk_session").lower()
    assert (
        "desk_session=" in session and "; secure" in session and "httponly" in session and "samesite=strict" in session
    )
    # Too big: refused before the form is read, by its length or as it streams in.
    cookie, token = signed_in_cookie(desk, root, "Big Sender")
    big = urllib.parse.urlencode({"csrf": token, "title": "x" * 70_000, "time": "03:30", "action": "send"}).encode()
    status, _, _ = raw(
        desk, "POST", "/new/update", big, {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}
    )
    assert status == 413
    connection = http.client.HTTPConnection("127.0.0.1", desk.port, timeout=TIMEOUT)
    try:
        connection.putrequest("POST", "/new/update")
        connection.putheader("Cookie", cookie)
        connection.putheader("Content-Type", "application/x-www-form-urlencoded")
        connection.putheader("Transfer-Encoding", "chunked")
        connection.endheaders()
        for _ in range(20):
            chunk = b"title=" + b"x" * 8000
            connection.send(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
        connection.send(b"0\r\n\r\n")
        assert connection.getresponse().status == 413
    finally:
        connection.close()
    assert [p.name for p in (root / "entries").iterdir() if "xxxx" in p.name] == []


def test_a_sign_in_link_is_not_spent_by_a_link_preview(desk_blog: Path, client_for: ClientFor) -> None:
    """Messaging apps fetch links to preview them: opening the link only shows a button; signing in is a POST."""
    link = add_reporter(desk_blog, "Hannah Birch")
    bot = client_for(desk_blog)
    for _ in range(3):
        assert bot.get(link).status_code == 200
    sign_in(client_for(desk_blog), link)  # still good
    again = client_for(desk_blog)
    page = again.get(link)
    assert again.post("/signin", data={"csrf": csrf_of(page.text), "token": link.rsplit("/", 1)[1]}).status_code == 403


def test_files_and_floods_of_fields_are_refused_cleanly(filed: tuple[Path, str], client_for: ClientFor) -> None:
    root, ident = filed
    reporter = client_for(root, "Tim Page", editor=True)
    token = csrf_of(reporter.get("/").text)
    before = entries(root)
    # A photo goes only with an entry's form (tests/test_desk_photos.py); every other form takes no file.
    for route in ("/preview/update", f"/entry/{ident}/pin", f"/entry/{ident}/correct", "/signout"):
        photo = reporter.post(route, data={"csrf": token, "note": "x"}, files={"photo": ("a.png", b"\x89PNG" * 10)})
        assert photo.status_code == 400 and "files" in photo.text, route
    flood = reporter.post("/new/update", data={f"f{n}": "x" for n in range(500)} | {"csrf": token})
    assert flood.status_code == 400 and "fields" in flood.text
    assert "content-security-policy" in flood.headers
    assert entries(root) == before
