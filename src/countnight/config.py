"""The event: ``countnight.toml`` → a frozen, validated ``Event``."""

from __future__ import annotations

import re
import tomllib
import uuid
from datetime import datetime, timedelta
from difflib import get_close_matches
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator, model_validator

from .clock import Window
from .errors import InputError, Problem, describe_os_error
from .fileio import read_file
from .names import CONFIG_NAME


def _text(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _moment(value: Any) -> Any:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"'{value}' is not an ISO 8601 time like 2024-07-04T22:00:00+01:00") from None
    if isinstance(value, datetime) and value.tzinfo is None:
        raise ValueError("needs a UTC offset, like 2024-07-04T22:00:00+01:00")
    return value


Text = Annotated[str, BeforeValidator(_text), Field(min_length=1)]
Moment = Annotated[datetime, BeforeValidator(_moment)]
# Keys people reach for in [publish] that must never be there: credentials and the endpoint come from the
# environment (AWS_* variables, profiles) or --endpoint, so the config can be shared and committed.
_NEVER_IN_CONFIG = {
    "endpoint": "the endpoint comes from AWS_ENDPOINT_URL or --endpoint, never from countnight.toml",
    "endpoint_url": "the endpoint comes from AWS_ENDPOINT_URL or --endpoint, never from countnight.toml",
}
_CREDENTIALS = re.compile(r"(access|secret|key|token|password|credential|profile)", re.IGNORECASE)


class PublishOptions(BaseModel):
    """The ``[publish]`` table: where ``countnight publish`` (and ``watch``/``serve --publish``) mirror the site."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    to: Text | None = None  # s3://BUCKET/PREFIX
    max_age: Annotated[int, Field(ge=0, le=86400)] = 10  # seconds a CDN may keep HTML and live.json
    gzip: bool = False  # store text gzipped, with Content-Encoding: gzip
    purge_url: Text | None = None  # a request after each upload, per changed object: {url} or {path}
    purge_method: Literal["PURGE", "POST", "GET", "PUT", "DELETE"] = "PURGE"
    purge_command: Annotated[list[Text], Field(min_length=1)] | None = None  # run with the changed URLs

    @field_validator("to")
    @classmethod
    def _target(cls, value: str | None) -> str | None:
        if value is not None:
            from .s3store import Target

            Target.parse(value)  # ValueError: its message says what is wrong
        return value

    @field_validator("purge_url")
    @classmethod
    def _purge_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not re.match(r"^(https?://[^/\s]+|\{url\})", value):
            raise ValueError("must be an http:// or https:// address, or start with {url}")
        if "{url}" not in value and "{path}" not in value:
            raise ValueError("must hold {url} (the object's public address) or {path} (its path in the site)")
        return value


class LiveSettings(BaseModel):
    """``[live]``: where the build publishes its live messages (the push engine's publisher endpoint)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    publish_url: Text  # nchan's publisher location, e.g. http://127.0.0.1:8081/live/publish (never public)

    @field_validator("publish_url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an http:// or https:// address, like http://127.0.0.1:8081/live/publish")
        return value


class DeskSettings(BaseModel):
    """``[desk]``: the reporters' desk (see the README's "The reporters' desk")."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    approval: bool = False  # reporters' entries arrive as drafts until an editor approves them
    url: Text | None = None  # the desk's public address, for the sign-in links `reporter add` prints


class Event(BaseModel):
    """What ``countnight.toml`` says about the night; see the README's config reference."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, arbitrary_types_allowed=True)

    title: Text
    timezone: ZoneInfo
    coverage_start: Moment
    coverage_end: Moment | None = None
    editor: Text | None = None
    baseline: Text | None = None
    page_size: Annotated[int, Field(ge=1, le=1000)] = 20
    base_url: Text | None = None
    feed_id: Text | None = None  # a UUID; without it, the one kept in .countnight/blog-id (see blogid.py)
    live: LiveSettings | None = None  # [live]: the push channel
    desk: DeskSettings = DeskSettings()
    publish: PublishOptions | None = None  # [publish]: the object store

    @field_validator("timezone", mode="before")
    @classmethod
    def _zone(cls, value: Any) -> Any:
        if not isinstance(value, str):
            raise ValueError("must be an IANA zone name like Europe/London")
        try:
            return ZoneInfo(value.strip())
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"'{value}' is not an IANA zone name like Europe/London") from None

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an http:// or https:// address")
        return value if value.endswith("/") else value + "/"

    @field_validator("feed_id")
    @classmethod
    def _uuid(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return str(uuid.UUID(value))
        except ValueError:
            raise ValueError(f"'{value[:60]}' is not a UUID like {uuid.UUID(int=0)}") from None

    @field_validator("coverage_end")
    @classmethod
    def _after_start(cls, value: datetime | None, info: Any) -> datetime | None:
        start = info.data.get("coverage_start")
        if value is not None and start is not None and value <= start:
            raise ValueError("must be after coverage_start")
        return value

    @model_validator(mode="after")
    def _purge_needs_address(self) -> Event:
        purge = self.publish
        by_address = purge is not None and (purge.purge_command is not None or "{url}" in (purge.purge_url or ""))
        if by_address and self.base_url is None:
            raise ValueError("publish: purging the CDN by address needs base_url (the public address)")
        return self

    @property
    def window(self) -> Window:
        """The window clock times resolve into: start to end, or 24 hours from the start."""
        end = self.coverage_end or self.coverage_start + timedelta(hours=24)
        return Window(self.timezone, self.coverage_start, end)

    def ended(self, now: datetime) -> bool:
        return self.coverage_end is not None and now >= self.coverage_end


def _key_line(text: str, key: str) -> int:
    for number, line in enumerate(text.split("\n"), 1):
        if re.match(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=", line):
            return number
    return 0


def _table_line(text: str, table: str) -> int:
    for number, line in enumerate(text.split("\n"), 1):
        if re.match(rf"^\s*\[\s*{re.escape(table)}\s*\]", line):
            return number
    return 0


def _publish_unknown(key: str) -> str:
    """What to say of a key [publish] does not know: credentials and the endpoint have their own answer."""
    if key.lower() in _NEVER_IN_CONFIG:
        return _NEVER_IN_CONFIG[key.lower()]
    if _CREDENTIALS.search(key):
        return (
            "credentials never go in countnight.toml: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
            "(or AWS_PROFILE, or --profile) in the environment"
        )
    near = get_close_matches(key, list(PublishOptions.model_fields), n=1)
    return "unknown setting" + (f" (did you mean '{near[0]}'?)" if near else "")


def parse_config(data: bytes, path: str) -> Event:
    """Bytes of ``countnight.toml`` → Event; InputError lists every problem with its line."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError.one(
            path, data[: err.start].count(b"\n") + 1, "not valid UTF-8: save the file as UTF-8"
        ) from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        match = re.search(r"\(at line (\d+), column \d+\)", str(err))
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(err))
        raise InputError.one(path, int(match[1]) if match else 0, f"TOML syntax: {message}") from None
    try:
        return Event.model_validate(raw)
    except ValidationError as err:
        problems = []
        for e in err.errors():
            loc = [str(part) for part in e["loc"] if not str(part).isdigit()]
            key = ".".join(loc)  # live.publish_url, publish.to: a key of a table
            line = _key_line(text, loc[-1]) if loc else 0
            if loc[:1] == ["publish"] and not line:
                line = _table_line(text, "publish")
            if e["type"] == "extra_forbidden" and loc[:1] == ["publish"] and len(loc) == 2:
                message = f"{key}: {_publish_unknown(loc[1])}"
            elif e["type"] == "extra_forbidden":
                tables: dict[str, type[BaseModel]] = {"desk": DeskSettings, "live": LiveSettings}
                known = tables.get(loc[0], Event) if len(loc) > 1 else Event
                near = get_close_matches(loc[-1], list(known.model_fields), n=1)
                hint = f" (did you mean '{near[0]}'?)" if near else ""
                message = f"{key}: unknown setting{hint}"
            elif e["type"] == "model_type":
                message = f"{key}: must be a table, [{key}]"
            elif not loc:  # a check across settings: its message names the table
                message = e["msg"].removeprefix("Value error, ")
                line = _table_line(text, message.partition(":")[0])
            elif e["type"] == "missing":
                message = f"{key}: required"
            else:
                message = f"{key}: {e['msg'].removeprefix('Value error, ')}"
            problems.append(Problem(path, line, message))
        raise InputError(problems) from None


def load_config(root: Path) -> Event:
    """Read ``ROOT/countnight.toml``."""
    path = root / CONFIG_NAME
    try:
        data = read_file(path)
    except FileNotFoundError:
        raise InputError.one(
            CONFIG_NAME, 0, f"not found in {root}: a blog folder needs {CONFIG_NAME} (see the README)"
        ) from None
    except OSError as err:  # a folder in its place, no permission: said, not a traceback
        raise InputError.one(CONFIG_NAME, 0, f"cannot be read: {describe_os_error(err, path)}") from None
    return parse_config(data, CONFIG_NAME)
