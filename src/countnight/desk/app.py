"""The desk as a Starlette application.

Starlette (with uvicorn) because it is small, well kept and typed (FastAPI is built on it): routing,
forms, cookies, static files and a test client, and nothing the desk does not use; the desk's own logic
stays in plain functions (forms, drop, reporters). Every page works without JavaScript; ``desk.js``
only adds a live preview while typing and follows an entry until it is live.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..editing import correct as correct_entry
from ..editing import correction_time, edit_entry, set_flag, withdraw
from ..errors import InputError
from ..listing import UnknownEntry, list_entries, load_context
from ..render import load_theme
from . import forms
from .candidates import find_constituency, read_candidates_file
from .drop import Found, Shown, entry_status, log_action, read_log, read_one, write_new
from .guard import MAX_BODY, Guard, RateLimit, csrf_ok, csrf_token
from .photos import MAX_PHOTO, Photo, check_photo, store_photo
from .reporters import SESSION_LIFETIME, Reporter, Reporters, now_utc, secret_key

HERE = Path(__file__).parent
SESSION = "desk_session"
PRE = "desk_signin"  # a signing-in browser's cookie, binding the sign-in form's CSRF token
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,200}$")  # the build's id rule (entries.py)
ACTIONS = {
    "approve": "approved",
    "withdraw": "withdrawn",
    "pin": "pinned",
    "unpin": "unpinned",
    "key": "made a key event",
    "unkey": "taken out of the key events",
}


class Desk:
    """One blog folder's desk: its reporters, templates, key and limits, and the request handlers."""

    def __init__(self, root: Path, clock: Callable[[], datetime] = now_utc) -> None:
        self.root = root
        self.clock = clock
        self.reporters = Reporters(root)
        self.key = secret_key(root)
        self.signins = RateLimit()
        self.record = Shown(root)
        self.theme = load_theme(root)
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True, undefined=jinja2.StrictUndefined
        )

    # -- helpers --------------------------------------------------------------------------------------

    def page(
        self, request: Request, name: str, status: int = 200, *, bound: str | None = None, **context: Any
    ) -> HTMLResponse:
        who: Reporter | None = getattr(request.state, "reporter", None)
        bound = bound or (request.cookies.get(SESSION) if who else request.cookies.get(PRE))
        html = self.env.get_template(name).render(
            who=who, csrf=csrf_token(self.key, bound) if bound else "", theme_css=self.theme_css(), **context
        )
        return HTMLResponse(html, status_code=status)

    def theme_css(self) -> list[str]:
        return [f"/theme/{self.theme.url(name)}" for name in ("style.css", "parties.css")]

    def refuse(self, request: Request, status: int, message: str) -> HTMLResponse:
        return self.page(request, "message.html", status, title="Not allowed", message=message)

    def signed_in(self, request: Request) -> Reporter | None:
        reporter = self.reporters.session(request.cookies.get(SESSION), self.clock())
        request.state.reporter = reporter
        return reporter

    async def posted(self, request: Request, *, files: int = 0) -> FormData | None:
        """The form, if its CSRF token is the one this session's pages carry; else None. ``files``: how many
        files it may hold (an entry's form: its photo; every other form: none)."""
        form = await request.form(max_files=files, max_fields=400, max_part_size=MAX_BODY)
        token = form.get("csrf")
        if not csrf_ok(self.key, request.cookies.get(SESSION), token if isinstance(token, str) else None):
            return None
        return form

    def log(self, who: Reporter, action: str, ident: str = "", detail: str = "") -> None:
        log_action(self.root, who.name, action, ident, detail, at=self.clock())

    # -- signing in -----------------------------------------------------------------------------------

    async def signin_page(self, request: Request) -> Response:
        token = request.path_params["token"]
        binding = request.cookies.get(PRE) or _random()
        response = self.page(request, "signin.html", bound=binding, token=token)
        _cookie(response, request, PRE, binding, 15 * 60)
        return response

    async def signin(self, request: Request) -> Response:
        client = request.client.host if request.client else "?"
        if not self.signins.allow(client):
            return self.page(request, "message.html", 429, title="Too many tries", message=_SLOW_DOWN)
        form = await request.form(max_files=0, max_fields=10)
        token = form.get("csrf")
        if not csrf_ok(self.key, request.cookies.get(PRE), token if isinstance(token, str) else None):
            return self.refuse(request, 403, "This sign-in form has expired: open your sign-in link again.")
        link = form.get("token")
        done = self.reporters.sign_in(link if isinstance(link, str) else "", self.clock())
        if done is None:
            return self.refuse(request, 403, _BAD_LINK)
        reporter, session = done
        log_action(self.root, reporter.name, "signed in", at=self.clock())
        response = RedirectResponse("/", status_code=303)
        _cookie(response, request, SESSION, session, int(SESSION_LIFETIME.total_seconds()))
        response.delete_cookie(PRE, path="/")
        return response

    async def signout(self, request: Request, who: Reporter) -> Response:
        if await self.posted(request) is None:
            return self.refuse(request, 403, _STALE)
        self.reporters.sign_out(request.cookies.get(SESSION) or "")
        self.log(who, "signed out")
        response = RedirectResponse("/signed-out", status_code=303)
        response.delete_cookie(SESSION, path="/")
        return response

    async def signed_out(self, request: Request) -> Response:
        return self.page(request, "message.html", title="Signed out", message="Signed out. Use a new link to sign in.")

    # -- pages ----------------------------------------------------------------------------------------

    async def home(self, request: Request, who: Reporter) -> Response:
        mine = [line for line in read_log(self.root) if line.get("who") == who.name and line.get("id")]
        recent = list(dict.fromkeys(line["id"] for line in reversed(mine)))[:10]
        return self.page(request, "home.html", recent=recent, kinds=forms.KINDS)

    async def choose(self, request: Request, who: Reporter) -> Response:
        kind = request.path_params["kind"]
        if kind not in forms.KINDS:
            return self.refuse(request, 404, "There is no such kind of entry.")
        if kind in ("result", "turnout") and not request.query_params.get("constituency"):
            return self.page(request, "choose.html", kind=kind, seats=self.seats())
        return self.form_page(request, who, kind, self.prefill(request, who, kind), {}, None)

    def seats(self) -> list[str]:
        table = read_candidates_file(self.root)
        if table:
            return sorted(table, key=str.casefold)
        _, context = load_context(self.root)
        return context.baseline.names() if context.baseline else []

    def prefill(self, request: Request, who: Reporter, kind: str) -> dict[str, str]:
        event, _ = load_context(self.root)
        values = {"time": correction_time(self.clock(), event), "author": who.name, "role": who.role}
        asked = request.query_params.get("constituency", "")[: forms.MAX_LINE]
        if kind in ("result", "turnout") and asked:
            found = find_constituency(read_candidates_file(self.root), asked)
            values["constituency"] = found[0] if found else asked
            if kind == "result":
                standing = found[1] if found else []
                for row, candidate in enumerate(standing, 1):
                    values[f"name-{row}"], values[f"party-{row}"] = candidate.name, candidate.party
                # one spare row for a candidate the file lacks; a seat it does not list gets rows to fill in
                values["rows"] = str(len(standing) + 1 if standing else 10)
                values["listed"] = str(len(standing))
        return values

    def form_page(
        self,
        request: Request,
        who: Reporter,
        kind: str,
        values: dict[str, str],
        errors: dict[str, list[str]],
        preview: str | None,
    ) -> Response:
        rows = forms.candidate_rows(values)
        listed = min(int(values.get("listed", "0") or 0) if values.get("listed", "").isdigit() else 0, rows)
        # 200 even with errors: the page is the answer, and a 4xx would read as a failure in the phone's console
        return self.page(
            request, "form.html", kind=kind, v=values, errors=errors, preview=preview, rows=rows, listed=listed
        )

    def checked(
        self, kind: str, values: dict[str, str], who: Reporter, photo: str | None = None
    ) -> tuple[forms.Checked, str, bool]:
        event, context = load_context(self.root)
        draft = event.desk.approval and not who.editor
        # The text does not depend on the file's name, so one check serves the preview and the name alike.
        result = forms.check(
            kind, values, event, context, self.theme, draft=draft, stem="desk-preview-entry", photo=photo
        )
        return result, forms.file_stem(kind, result.entry, values, event, self.clock()), draft

    async def send(self, request: Request, who: Reporter) -> Response:
        kind = request.path_params["kind"]
        if kind not in forms.KINDS:
            return self.refuse(request, 404, "There is no such kind of entry.")
        form = await self.posted(request, files=1)
        if form is None:
            return self.refuse(request, 403, _STALE)
        values = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf"}
        upload = form.get("photo")
        photo: Photo | str | None = None
        if isinstance(upload, UploadFile) and (upload.filename or upload.size):
            data = await upload.read(MAX_PHOTO + 1)
            photo = await run_in_threadpool(check_photo, data)  # decoding a photo must not stall other phones
        # Checked with a stand-in name (the file's own is chosen only once it is stored): validation is by name.
        result, stem, draft = self.checked(kind, values, who, "desk-photo.jpg" if photo is not None else None)
        errors = {key: list(messages) for key, messages in result.errors.items()}
        if isinstance(photo, str):
            errors.setdefault("photo", []).append(f"The photo {photo}")
        elif photo is not None and (errors or form.get("action") != "send"):  # a browser never sends it again
            errors.setdefault("photo", []).append("choose the photo again before sending (it is not kept)")
        if not result.ok or errors or form.get("action") != "send":
            return self.form_page(request, who, kind, values, errors, result.preview or None)
        if isinstance(photo, Photo):
            name = store_photo(self.root, stem, photo)  # first: the entry never names a file not yet there
            result, _, _ = self.checked(kind, values, who, name)
            if not result.ok:  # pragma: no cover - the same form, checked a moment ago with a stand-in name
                return self.form_page(request, who, kind, values, result.errors, None)
            self.log(who, "stored a photo", name.rpartition(".")[0], name)
        path = write_new(self.root, stem, result.text.encode("utf-8"))
        ident = path.name.removesuffix(".md")
        self.log(who, "filed a draft" if draft else "filed", ident, kind)
        return RedirectResponse(f"/entry/{ident}", status_code=303)

    async def preview(self, request: Request, who: Reporter) -> Response:
        kind = request.path_params["kind"]
        form = await self.posted(request)
        if form is None or kind not in forms.KINDS:
            return JSONResponse({"error": "refused"}, status_code=403)
        values = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf"}
        photo = "desk-photo.jpg" if values.get("has_photo") else None  # chosen on the phone, sent only with Send
        result, _, _ = self.checked(kind, values, who, photo)
        return JSONResponse({"errors": result.errors, "preview": result.preview})

    # -- an entry: its state, and editors' actions ----------------------------------------------------

    def find(self, ident: str) -> Found | None:
        """The entry (drafts and broken files included), or None; ids only as the build's rule spells them."""
        if not _ID.match(ident):
            return None
        return read_one(self.root, ident)

    async def entry(self, request: Request, who: Reporter) -> Response:
        ident = request.path_params["ident"]
        row = self.find(ident)
        if row is None:
            return self.refuse(request, 404, "There is no such entry.")
        state = entry_status(row, self.record)
        event, _ = load_context(self.root)
        page = f"{event.base_url}update/{ident}.html" if event.base_url else None
        return self.page(request, "entry.html", row=row, state=state, public=page, actions=ACTIONS)

    async def status(self, request: Request, who: Reporter) -> Response:
        ident = request.path_params["ident"]
        row = self.find(ident)
        if row is None:
            return JSONResponse({"state": "gone", "words": "no such entry"}, status_code=404)
        state = entry_status(row, self.record)
        return JSONResponse({"state": state.state, "words": state.words})

    async def entries(self, request: Request, who: Reporter) -> Response:
        if not who.editor:
            return self.refuse(request, 403, "Only editors see every entry.")
        rows = list_entries(self.root, self.clock())
        drafts = [r for r in rows if r.status == "draft"]
        return self.page(request, "entries.html", rows=list(reversed(rows)), drafts=drafts)

    async def act(self, request: Request, who: Reporter) -> Response:
        ident, action = request.path_params["ident"], request.path_params["action"]
        if not who.editor:
            return self.refuse(request, 403, "Only editors can do that.")
        form = await self.posted(request)
        if form is None:
            return self.refuse(request, 403, _STALE)
        if action not in (*ACTIONS, "correct") or self.find(ident) is None:
            return self.refuse(request, 404, "There is no such entry or action.")
        try:
            if action == "approve":
                edit_entry(self.root, ident, {"status": None}, done=lambda e: e.status != "draft")
            elif action == "withdraw":
                if form.get("sure") != "yes":  # one stray tap must not take a result off the page
                    return self.refuse(request, 400, "Tick the box to confirm the withdrawal.")
                withdraw(self.root, ident)
            elif action == "correct":
                return await self.correct(request, who, ident, form)
            else:
                name = "pinned" if action.endswith("pin") else "key"
                set_flag(self.root, ident, name, not action.startswith("un"))
        except (InputError, UnknownEntry) as err:
            return self.refuse(request, 409, str(err))
        self.log(who, ACTIONS[action], ident)
        return RedirectResponse(f"/entry/{ident}", status_code=303)

    async def correct_page(self, request: Request, who: Reporter) -> Response:
        ident = request.path_params["ident"]
        if not who.editor:
            return self.refuse(request, 403, "Only editors can correct entries.")
        if self.find(ident) is None:
            return self.refuse(request, 404, "There is no such entry.")
        return self.page(request, "correct.html", ident=ident, fields=self.correctable(ident), errors={}, note="")

    def correctable(self, ident: str) -> dict[str, tuple[str, str]]:
        """The entry's one-line fields an editor may change here (a result's votes too): name → (label, value)."""
        from ..frontmatter import read_entry

        front = read_entry((self.root / "entries" / f"{ident}.md").read_bytes(), ident).front
        names = ("title", "electorate", "rejected", "turnout", "ballots", "speaker", "speaker_role", "quote")
        fields = {n: (n.replace("_", " ").capitalize(), front[n]) for n in names if isinstance(front.get(n), str)}
        candidates = front.get("candidates")
        for n, item in enumerate(candidates if isinstance(candidates, list) else [], 1):
            if isinstance(item, dict) and isinstance(item.get("votes"), str):
                fields[f"candidates[{n}].votes"] = (f"Votes: {item.get('name')} ({item.get('party')})", item["votes"])
        return fields

    async def correct(self, request: Request, who: Reporter, ident: str, form: FormData) -> Response:
        note = str(form.get("note") or "").strip()[: forms.MAX_TEXT]
        fields = self.correctable(ident)
        changes: dict[str, str] = {}
        shown = dict(fields)
        for name, (label, old) in fields.items():
            new = " ".join(str(form.get(name) or "").split())[: forms.MAX_TEXT]
            if new and new != old:
                changes[name] = new
                shown[name] = (label, new)
        errors: dict[str, list[str]] = {}
        if not note:
            errors = {"note": ["say what was corrected, for readers"]}
        else:
            try:
                correct_entry(self.root, ident, note, self.clock(), changes=changes)
            except InputError as err:
                for problem in err.problems:
                    key = problem.message.split(":", 1)[0]
                    errors.setdefault(key if key in fields else "form", []).append(problem.message)
        if errors:
            return self.page(request, "correct.html", ident=ident, fields=shown, errors=errors, note=note)
        self.log(who, "corrected", ident, note)
        return RedirectResponse(f"/entry/{ident}", status_code=303)

    async def theme_asset(self, request: Request) -> Response:
        wanted = "assets/" + request.path_params["name"]
        for name, (url, data) in self.theme.assets.items():
            if url == wanted:
                kind = "text/css" if name.endswith(".css") else "text/javascript"
                return Response(data, media_type=kind)
        return Response("Not found", status_code=404, media_type="text/plain")


_SLOW_DOWN = "Too many sign-in attempts from here: wait a minute, then open your link again."
_BAD_LINK = "This sign-in link is not valid, or has been used already. Ask your editor for a new one."
_STALE = "This form has expired (or did not come from the desk). Go back, reload the page and try again."


def _random() -> str:
    import secrets

    return secrets.token_urlsafe(24)


def _cookie(response: Response, request: Request, name: str, value: str, seconds: int) -> None:
    """HttpOnly, SameSite=Strict, and Secure whenever the request came over TLS (as the proxy says)."""
    secure = request.url.scheme == "https"
    response.set_cookie(name, value, max_age=seconds, path="/", httponly=True, samesite="strict", secure=secure)


Handler = Callable[[Request, Reporter], Awaitable[Response]]


def make_app(root: Path, clock: Callable[[], datetime] = now_utc) -> Starlette:
    """The desk for the blog folder ``root``."""
    desk = Desk(root, clock)

    def signed(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            who = desk.signed_in(request)
            if who is None:
                message = "Sign in with the link your editor sent you."
                return desk.page(request, "message.html", 401, title="Sign in", message=message)
            return await handler(request, who)

        return endpoint

    routes = [
        Route("/", signed(desk.home)),
        Route("/signin/{token}", desk.signin_page),
        Route("/signin", desk.signin, methods=["POST"]),
        Route("/signout", signed(desk.signout), methods=["POST"]),
        Route("/signed-out", desk.signed_out),
        Route("/new/{kind}", signed(desk.choose)),
        Route("/new/{kind}", signed(desk.send), methods=["POST"]),
        Route("/preview/{kind}", signed(desk.preview), methods=["POST"]),
        Route("/entries", signed(desk.entries)),
        Route("/entry/{ident}", signed(desk.entry)),
        Route("/entry/{ident}/status", signed(desk.status)),
        Route("/entry/{ident}/correct", signed(desk.correct_page)),
        Route("/entry/{ident}/{action}", signed(desk.act), methods=["POST"]),
        Route("/theme/assets/{name}", desk.theme_asset),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]

    async def not_found(request: Request, exc: Exception) -> Response:
        request.state.reporter = None
        return desk.page(request, "message.html", 404, title="Not found", message="There is nothing here.")

    async def problem(request: Request, exc: Exception) -> Response:
        request.state.reporter = None
        message = str(exc) if isinstance(exc, InputError) else "The desk could not do that."
        return desk.page(request, "message.html", 500, title="Something is wrong", message=message)

    app = Starlette(routes=routes, exception_handlers={404: not_found, 405: not_found, InputError: problem})
    app.add_middleware(Guard, uploads=("/new/",), max_upload=MAX_PHOTO + 64 * 1024)
    return app
