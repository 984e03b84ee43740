"""The desk's photo field: a photo sent with an entry is checked by its content as the build reads it, stored
beside the entry file (never replacing one), and named by the entry; anything else is refused at the field, and
nothing is written. The limits and the walls as the desk's other tests try them: a real uvicorn where size
matters, Starlette's client elsewhere, and a real watcher for the photo going live."""

from __future__ import annotations

import http.client
import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from countnight.desk.app import make_app
from countnight.desk.drop import read_log
from countnight.desk.photos import MAX_PHOTO
from countnight.desk.server import DeskServer
from countnight.entries import parse_entry
from countnight.listing import load_context
from desk_support import TIMEOUT, Night, add_reporter, clock, csrf_of, sign_in
from picture_files import SVG, heic_with_gps, jpeg_with_gps, png, truncated_jpeg
from test_desk_security import signed_in_cookie

pytest_plugins = ["desk_fixtures"]
ClientFor = Callable[..., TestClient]
UPDATE = {"time": "03:30", "title": "Counting under way", "body": "Boxes are arriving.", "action": "send"}
WORDS = {"alt": "Staff carry ballot boxes into the hall", "caption": "The first boxes", "credit": "Hannah Birch"}


def files_in(root: Path) -> list[str]:
    return sorted(p.name for p in (root / "entries").iterdir())


def send(client: TestClient, data: dict[str, str], photo: tuple[str, bytes, str] | None) -> object:
    token = csrf_of(client.get("/new/update").text)
    return client.post(
        "/new/update", data=UPDATE | data | {"csrf": token}, files={"photo": photo} if photo is not None else None
    )


def test_a_photo_is_stored_beside_its_entry_and_named_by_it(desk_blog: Path, client_for: ClientFor) -> None:
    client = client_for(desk_blog, "Hannah Birch")
    done = send(client, WORDS, ("IMG_4021.HEIC", heic_with_gps(), "image/heic"))
    assert done.status_code == 200 and "/entry/" in str(done.url), done.text  # type: ignore[attr-defined]
    ident = str(done.url).rsplit("/", 1)[1]  # type: ignore[attr-defined]
    assert files_in(desk_blog) == [f"{ident}.heic", f"{ident}.md"]
    text = (desk_blog / "entries" / f"{ident}.md").read_text()
    _event, context = load_context(desk_blog)
    entry = parse_entry(text.encode(), f"entries/{ident}.md", context)  # the build's own reader
    [picture] = entry.image
    assert (picture.file, picture.alt, picture.caption, picture.credit) == (
        f"{ident}.heic",
        WORDS["alt"],
        WORDS["caption"],
        WORDS["credit"],
    )
    assert (desk_blog / "entries" / picture.file).read_bytes() == heic_with_gps()
    assert [line["action"] for line in read_log(desk_blog)][-2:] == ["stored a photo", "filed"]


def test_a_photo_is_stored_as_what_it_is_not_as_it_is_named(desk_blog: Path, client_for: ClientFor) -> None:
    client = client_for(desk_blog, "Hannah Birch")
    done = send(client, WORDS, ("photo.jpg", png(), "image/jpeg"))  # a PNG, named and typed as a JPEG
    ident = str(done.url).rsplit("/", 1)[1]  # type: ignore[attr-defined]
    assert files_in(desk_blog) == [f"{ident}.md", f"{ident}.png"]


@pytest.mark.parametrize(
    ("photo", "says"),
    [
        (("count.svg", SVG, "image/svg+xml"), "The photo is an SVG or another text document"),
        (("count.jpg", SVG, "image/jpeg"), "SVG is refused (it can carry scripts)"),
        (("count.jpg", truncated_jpeg(), "image/jpeg"), "The photo is cut short (truncated)"),
        (("count.jpg", b"MZ\x90\x00 not a photo", "image/jpeg"), "The photo is not a picture countnight can read"),
        (("count.jpg", b"", "image/jpeg"), "The photo is empty: choose the photo again"),
    ],
)
def test_what_is_not_a_photo_is_refused_at_the_field_and_nothing_is_written(
    desk_blog: Path, client_for: ClientFor, photo: tuple[str, bytes, str], says: str
) -> None:
    client = client_for(desk_blog, "Hannah Birch")
    answer = send(client, WORDS, photo)
    assert answer.status_code == 200 and "/new/update" in str(answer.url)  # type: ignore[attr-defined]
    errors = re.search(r'<p class="err" id="err-photo"[^>]*>([^<]*)</p>', answer.text)  # type: ignore[attr-defined]
    assert errors and says in errors[1].replace("&#39;", "'"), answer.text  # type: ignore[attr-defined]
    assert files_in(desk_blog) == []


def test_no_photo_chosen_is_an_entry_without_one(desk_blog: Path, client_for: ClientFor) -> None:
    """A browser sends the empty file field as a part with no name and no bytes."""
    client = client_for(desk_blog, "Hannah Birch")
    done = send(client, {}, ("", b"", "application/octet-stream"))
    assert "/entry/" in str(done.url)  # type: ignore[attr-defined]
    assert [n for n in files_in(desk_blog) if not n.endswith(".md")] == []


def test_a_photo_needs_its_description_and_a_description_its_photo(desk_blog: Path, client_for: ClientFor) -> None:
    client = client_for(desk_blog, "Hannah Birch")
    answer = send(client, {}, ("count.jpg", jpeg_with_gps((800, 600)), "image/jpeg"))
    text = answer.text  # type: ignore[attr-defined]
    assert "required: say what the picture shows" in re.search(r'id="err-alt"[^>]*>([^<]*)<', text)[1]  # type: ignore[index]
    assert "choose the photo again" in re.search(r'id="err-photo"[^>]*>([^<]*)<', text)[1]  # type: ignore[index]
    answer = send(client, WORDS, None)
    assert "choose the photo this describes" in re.search(r'id="err-photo"[^>]*>([^<]*)<', answer.text)[1]  # type: ignore[attr-defined,index]
    assert files_in(desk_blog) == []
    # the live preview (desk.js) says the same, told only that a photo is chosen (the photo goes with Send)
    token = csrf_of(client.get("/new/update").text)
    preview = client.post("/preview/update", data=UPDATE | {"csrf": token, "has_photo": "1"}).json()
    assert preview["errors"]["alt"][0].startswith("required: say what the picture shows")


def test_a_photo_without_the_forms_token_is_refused(desk_blog: Path, client_for: ClientFor) -> None:
    client = client_for(desk_blog, "Hannah Birch")
    photo = {"photo": ("count.jpg", jpeg_with_gps((800, 600)), "image/jpeg")}
    assert client.post("/new/update", data=UPDATE | WORDS, files=photo).status_code == 403
    assert client.post("/new/update", data=UPDATE | WORDS | {"csrf": "forged"}, files=photo).status_code == 403
    stranger = client_for(desk_blog)
    assert stranger.post("/new/update", data=UPDATE | WORDS, files=photo).status_code == 401
    assert files_in(desk_blog) == []


def test_a_photos_form_keeps_its_other_fields_to_64_kb(desk_blog: Path, client_for: ClientFor) -> None:
    client = client_for(desk_blog, "Hannah Birch")
    answer = send(client, WORDS | {"title": "x" * 70_000}, ("count.jpg", png(), "image/jpeg"))
    assert answer.status_code == 400  # type: ignore[attr-defined]
    assert files_in(desk_blog) == []
    # a plain form to the same address is not an upload: 64 KB in all
    token = csrf_of(client.get("/new/update").text)
    assert client.post("/new/update", data=UPDATE | {"csrf": token, "body": "x" * 70_000}).status_code == 413


def test_a_photo_over_the_limit_is_refused_before_it_is_read(desk_blog: Path) -> None:
    desk = DeskServer(desk_blog, clock).start()
    try:
        cookie, token = signed_in_cookie(desk, desk_blog, "Hannah Birch", editor=False)
        boundary = "countnightboundary"
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n{token}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="photo"; filename="big.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        # said by its length: refused at once
        connection = http.client.HTTPConnection("127.0.0.1", desk.port, timeout=TIMEOUT)
        connection.putrequest("POST", "/new/update")
        connection.putheader("Cookie", cookie)
        connection.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
        connection.putheader("Content-Length", str(MAX_PHOTO + 200_000))
        connection.endheaders()
        answer = connection.getresponse()
        assert answer.status == 413 and b"a photo is at most 25 MB" in answer.read()
        connection.close()
        # streamed without a length: cut off once it passes the limit
        connection = http.client.HTTPConnection("127.0.0.1", desk.port, timeout=TIMEOUT)
        connection.putrequest("POST", "/new/update")
        connection.putheader("Cookie", cookie)
        connection.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
        connection.putheader("Transfer-Encoding", "chunked")
        connection.endheaders()
        chunk = b"\xff" * (1 << 20)
        try:
            connection.send(f"{len(head):x}\r\n".encode() + head + b"\r\n")
            for _ in range(MAX_PHOTO // len(chunk) + 2):
                connection.send(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            connection.send(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the desk answered and closed while the rest was still coming
        assert connection.getresponse().status == 413
        connection.close()
        # the other forms keep their 64 KB
        connection = http.client.HTTPConnection("127.0.0.1", desk.port, timeout=TIMEOUT)
        connection.request(
            "POST", "/preview/update", body=b"x" * 70_000, headers={"Cookie": cookie, "Content-Type": "text/plain"}
        )
        assert connection.getresponse().status == 413
        connection.close()
    finally:
        desk.stop()
    assert files_in(desk_blog) == []


def test_a_photo_filed_at_the_desk_goes_live_with_the_entry(night_for: Callable[..., Night]) -> None:
    night = night_for()
    with TestClient(make_app(night.root, clock), follow_redirects=True) as desk:
        sign_in(desk, add_reporter(night.root, "Hannah Birch"))
        done = send(desk, WORDS, ("IMG_4021.jpg", jpeg_with_gps(), "image/jpeg"))
    ident = str(done.url).rsplit("/", 1)[1]  # type: ignore[attr-defined]
    night.wait_live(ident)
    deadline = time.monotonic() + TIMEOUT
    share = night.root / "site" / "update" / f"{ident}.html"
    while not share.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    html = share.read_text()
    assert 'class="entry__figure"' in html and WORDS["alt"] in html and "Image: Hannah Birch" in html
    for address in re.findall(r'src="(\.\./media/[^"]+)"', html):
        assert (share.parent / address).is_file()
