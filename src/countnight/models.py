"""Entry kinds as strict, frozen pydantic models: a discriminated union on ``kind``.

Front matter arrives as the text the reporter typed (see ``frontmatter``); the field types below
say what each text means. Validation needs the event's window (for ``03:17``) and the baseline
(for constituency names), passed as pydantic validation context.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from difflib import get_close_matches
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    model_validator,
)

from .clock import Window
from .embeds import Embed, parse_embed
from .names import NAME_MAX, PICTURE_SUFFIXES, SHARE_SUFFIX
from .parties import is_known, near_party, party_code, party_name

if TYPE_CHECKING:
    from .baseline import Baseline

KINDS = ("update", "result", "turnout", "quote", "summary")
STATUSES = ("published", "draft", "withdrawn")


@dataclass(frozen=True)
class Context:
    """What validation needs to know about the night."""

    window: Window
    baseline: Baseline | None = None
    # The longest id the output folder can publish (names.longest_id); the default fits the usual NAME_MAX.
    longest_id: int = NAME_MAX - len(SHARE_SUFFIX)
    # Validating a version readers were already shown (the journal's last good one): the checks added for new
    # versions (a placeholder left by `countnight new`, a slip in a party) do not take down what is on the page.
    shown: bool = False


def _context(info: ValidationInfo) -> Context:
    context = info.context
    if not isinstance(context, Context):  # a programming error, not a reporter's
        raise TypeError("entries are validated with a countnight.models.Context")
    return context


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list | dict):
        raise ValueError("must be a single value, not a list or a set of fields")
    if value is None:
        raise ValueError("is empty: fill it in or remove the line")
    raise ValueError("must be text")


def _text(value: Any) -> str:
    text = _as_text(value).strip()
    if not text:
        raise ValueError("must not be empty")
    return text


def _line(value: Any) -> str:
    if type(value) is str and (line := " ".join(value.split())):  # the usual case, without two more calls
        return line
    return " ".join(_text(value).split())  # not text, or blank: _text says what is wrong


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    word = _as_text(value).strip().lower()
    if word in ("true", "yes"):
        return True
    if word in ("false", "no"):
        return False
    raise ValueError(f"must be true or false, not '{value}'")


_COUNT = re.compile(r"^\d{1,3}(,\d{3})+$|^\d+$")
# Far above any constituency's count. Without a cap a 4,300-digit "votes" validated and then broke the
# whole build (Python refuses to print an int that long). Found by tests/test_fuzz.py.
MAX_COUNT = 10**9


_GROUPED = re.compile(r"^\d{1,3}([. \u00a0\u202f'’_])\d{3}(\1\d{3})*$")  # 13.956, 13 956, 13'956: thousands
_SIGNED = re.compile(r"^[-−–]\s*[\d.,]+$")
_FRACTION = re.compile(r"^\d*[.,]\d+$")


def _count_hint(text: str) -> str:
    """Why ``text`` is not a count, and how to write the reporter's own number (not a stock example)."""
    shown = text if len(text) <= 40 else text[:39] + "…"
    digits = re.sub(r"\D", "", text)
    if _SIGNED.match(text):
        return f"'{shown}' is below zero: a count is 0 or more (check the number)"
    if _GROUPED.match(text) and len(digits) <= 12:
        return f"'{shown}' is not a whole number as written (write {int(digits)} or {int(digits):,})"
    if _FRACTION.match(text):
        return f"'{shown}' has a fraction: a count is a whole number (check the number)"
    if digits and len(digits) <= 12 and re.fullmatch(r"[\d,.\s]+", text):
        number = int(digits)
        return f"'{shown}' is not a whole number as written (if you mean {number:,}, write {number} or {number:,})"
    return f"'{shown}' is not a whole number (write the count in figures: 16222 or 16,222)"


def _count(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"'{value}' is below zero: a count is 0 or more (check the number)")
        number = value
    else:
        text = _as_text(value).strip()
        if not _COUNT.match(text):
            raise ValueError(_count_hint(text))
        if len(text) > 13:  # longer than 999,999,999,999: too big, without converting a huge text
            raise ValueError(f"'{text[:16]}…' is too large to be a count: check the number")
        number = int(text.replace(",", ""))
    if number > MAX_COUNT:
        raise ValueError(f"{number:,} is too large to be a count: check the number")
    return number


def _percent(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        return value
    text = _as_text(value).strip().removesuffix("%").strip()
    try:
        number = Decimal(text)
    except InvalidOperation:
        if re.fullmatch(r"\d{1,3},\d+", text):  # a decimal comma: the reporter's own figure, with a point
            raise ValueError(f"'{value}' is not a percentage as written (write {text.replace(',', '.')})") from None
        raise ValueError(f"'{value}' is not a percentage (write 65.39 or \"65.39%\")") from None
    if not number.is_finite() or not 0 <= number <= 100 or "e" in text.lower():
        raise ValueError(f"'{value}' is not a percentage from 0 to 100")
    return number


def _party(value: Any, info: ValidationInfo) -> str:
    written = _line(value)
    code = party_code(written)
    if not is_known(code) and not _context(info).shown:  # not a party we know: a slip of one?
        near = near_party(written)
        if near is not None:
            raise ValueError(
                f"'{written}' is not a party countnight knows: did you mean {party_name(near)}? "
                f"(write {near} or {party_name(near)})"
            )
    return code


def _choice(options: tuple[str, ...]) -> Any:
    def check(value: Any) -> str:
        word = _as_text(value).strip().lower()
        if word not in options:
            near = get_close_matches(word, options, n=1, cutoff=0.6)
            hint = f" (did you mean {near[0]}?)" if near else ""
            raise ValueError(f"'{value}' is not one of {', '.join(options)}{hint}")
        return word

    return check


def _moment(inside: bool) -> Any:
    """A time on the night (``inside``: in the coverage window; else not before it opens, as a correction's)."""

    def check(value: Any, info: ValidationInfo) -> datetime:
        if isinstance(value, datetime):
            return value
        from .clock import parse_time

        return parse_time(_as_text(value), _context(info).window, inside=inside)

    return check


Text = Annotated[str, BeforeValidator(_text)]
Line = Annotated[str, BeforeValidator(_line)]
Flag = Annotated[bool, BeforeValidator(_flag)]
Count = Annotated[int, BeforeValidator(_count)]
Percent = Annotated[Decimal, BeforeValidator(_percent)]
Party = Annotated[str, BeforeValidator(_party)]
Moment = Annotated[datetime, BeforeValidator(_moment(inside=True))]
Later = Annotated[datetime, BeforeValidator(_moment(inside=False))]  # a correction may come after the night
Status = Annotated[Literal["published", "draft", "withdrawn"], BeforeValidator(_choice(STATUSES))]


def _embeds(value: Any) -> Any:
    """``embed:`` takes one address or a list of them; each is read by parse_embed (as ``embed`` or ``embed[N]``)."""
    if value is None:
        raise ValueError("is empty: give the address of the post or video, or remove the line")
    return [value] if isinstance(value, str) else value


def _embed(value: Any) -> Embed:
    return value if isinstance(value, Embed) else parse_embed(_as_text(value))


MAX_EMBEDS = 10  # a live entry with more is a mistake (a pasted list), and each one is a card to scroll past
_EmbedList = Annotated[list[Annotated[Embed, BeforeValidator(_embed)]], Field(min_length=1, max_length=MAX_EMBEDS)]
# The check runs before None is let through: `embed:` left blank is a mistake to say, not "no embed".
Embeds = Annotated[_EmbedList | None, BeforeValidator(_embeds)]


def _known_constituency(name: str, info: ValidationInfo) -> str:
    baseline = _context(info).baseline
    if baseline is None:
        return name
    row = baseline.get(name)
    if row is None:
        near = [f"'{n}'" for n in baseline.suggestions(name)]
        if near:
            hint = f" (did you mean {near[0] if len(near) == 1 else ', '.join(near[:-1]) + ' or ' + near[-1]}?)"
        else:
            hint = (
                f": check the spelling, or add a row for it to the baseline (it has {len(baseline):,} constituencies)"
            )
        raise ValueError(f"'{name}' is not in the baseline{hint}")
    return row.constituency


Constituency = Annotated[str, BeforeValidator(_line), AfterValidator(_known_constituency)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as its class, its values and the fields it was given: a cold build's worker sends back every
        entry it read. BaseModel's own ``__getstate__`` / ``__setstate__`` (Python, with its extra and private
        values, which these models never have) made an entry 28 µs to pickle and unpickle, against 8 as dicts."""
        return _restore, (type(self), self.__dict__, self.__pydantic_fields_set__)


def _restore(cls: type[_Strict], values: dict[str, Any], fields_set: set[str]) -> _Strict:
    model = cls.__new__(cls)
    _set(model, "__dict__", values)
    _set(model, "__pydantic_fields_set__", fields_set)
    _set(model, "__pydantic_extra__", None)
    _set(model, "__pydantic_private__", None)
    return model


_set = object.__setattr__  # the models are frozen: their own __setattr__ refuses


MAX_PICTURES = 20  # an entry's pictures: a gallery of the count, not the night's whole camera roll
_LOOSE = ("alt", "caption", "credit")


def _picture_file(value: Any) -> str:
    name = _text(value)
    lower = name.lower()
    if "/" in name or "\\" in name or name in (".", ".."):
        raise ValueError(
            f"'{name}' is a path: name a picture file dropped beside the entry in entries/ (just its name, no folders)"
        )
    if name.startswith((".", "_")) or not name.isprintable():
        raise ValueError(f"'{name}' is not a picture file's name countnight reads (no leading '.' or '_')")
    if lower.endswith((".svg", ".svgz")):
        raise ValueError(f"'{name}': SVG pictures are refused (an SVG can carry scripts): export it as PNG or JPEG")
    if not lower.endswith(PICTURE_SUFFIXES):
        raise ValueError(f"'{name}' is not a picture countnight takes (JPEG, PNG, WebP, GIF, HEIC or AVIF)")
    return name


PictureFile = Annotated[str, BeforeValidator(_picture_file)]


class Picture(_Strict):
    """A picture dropped beside the entry: its file, what it shows (``alt``, required), caption and credit."""

    file: PictureFile
    alt: Text
    caption: Line | None = None
    credit: Line | None = None


def _pictures(data: Any) -> Any:
    """``image: NAME`` with ``alt``, ``caption`` and ``credit`` beside it, a single ``{file, alt, …}``, or a
    list of them: always a list of pictures, each with its own alt."""
    if not isinstance(data, dict) or ("image" not in data and data.keys().isdisjoint(_LOOSE)):
        return data
    data = dict(data)
    loose = {key: data.pop(key) for key in _LOOSE if key in data}
    image = data.get("image")
    if "image" in data and image is None:
        raise ValueError("image: is empty: name the picture file beside the entry (image: NAME), or remove the line")
    if isinstance(image, str):
        data["image"] = [{"file": image, **loose}]
        return data
    if loose:
        first = next(iter(loose))
        if image is None:
            raise ValueError(f"{first}: describes a picture: add image: NAME (a picture file beside the entry)")
        raise ValueError(f"{first}: with image as a list, give each picture its own: - {{file: NAME, alt: TEXT}}")
    if isinstance(image, dict):
        data["image"] = [image]
    elif isinstance(image, list):  # a bare name in a list: read as {file: NAME}, so its missing alt is said
        data["image"] = [{"file": item} if isinstance(item, str) else item for item in image]
    return data


class EntryBase(_Strict):
    """Fields every kind has. ``id`` comes from the file name and ``body`` from below the front matter."""

    id: str
    body: str = ""
    time: Moment
    title: Line | None = None
    author: Line | None = None
    role: Line | None = None
    breaking: Flag = False
    key: Flag = False
    pinned: Flag = False
    status: Status = "published"
    updated: Later | None = None
    correction: Text | None = None
    constituency: Constituency | None = None
    # A factory, not ``= []``: pydantic deep-copies a mutable default for every entry validated (~1 µs each).
    image: Annotated[list[Picture], Field(default_factory=list, max_length=MAX_PICTURES)]
    embed: Embeds = None  # posts and videos from social and video services, shown after the body

    @model_validator(mode="before")
    @classmethod
    def _loose_pictures(cls, data: Any) -> Any:
        return _pictures(data)

    def live_at(self, now: datetime) -> bool:
        """Published and its time has come (a future time is an embargo)."""
        return self.status == "published" and self.time <= now


class UpdateEntry(EntryBase):
    kind: Literal["update"] = "update"
    title: Line


class Candidate(_Strict):
    name: Line
    party: Party
    votes: Count


class ResultEntry(EntryBase):
    kind: Literal["result"]
    constituency: Constituency
    candidates: Annotated[list[Candidate], Field(min_length=1)]
    electorate: Count | None = None
    rejected: Count | None = None
    recount: Flag = False
    winner: Line | None = None

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> ResultEntry:
        # Namesakes do stand (two Greg Smiths in Mid Buckinghamshire, 2024), so only the same name for the
        # same party is a copy-and-paste slip.
        seen = [(c.name.casefold(), c.party) for c in self.candidates]
        for i, pair in enumerate(seen):
            if pair in seen[:i]:
                raise ValueError(
                    f"candidates: '{self.candidates[i].name}' ({pair[1]}) is listed twice: delete one of the two lines"
                )
        top = max(c.votes for c in self.candidates)
        tied = [c.name for c in self.candidates if c.votes == top]
        if self.winner is not None:
            # What elections.compute_result refuses must be refused here, with the file's line: it used to
            # pass validation and then break the build (tests/test_fuzz.py found a clear winner named here).
            named = [n for n in tied if n.casefold() == self.winner.casefold()]
            if not named:
                raise ValueError(
                    f"winner: '{self.winner}' is not tied for the most votes; "
                    "`winner` is only for a tie (leave it out and the votes decide)"
                )
            if len(tied) == 1:
                raise ValueError(
                    f"winner: there is no tie: '{tied[0]}' has the most votes ({top:,}); "
                    "`winner` is only for a tie (leave it out and the votes decide)"
                )
            if len(named) > 1:
                raise ValueError(
                    f"winner: two candidates named '{self.winner}' are tied for the most votes; "
                    "the name cannot tell them apart"
                )
        elif len(tied) > 1:
            raise ValueError(
                f"candidates: a tie between {' and '.join(tied)} on {top:,} votes: "
                "add `winner:` with the name of the one declared elected"
            )
        if top == 0:  # shares and turnout divide by the votes: this broke the build
            raise ValueError("candidates: no candidate has any votes: give each candidate's votes as counted")
        ballots = sum(c.votes for c in self.candidates) + (self.rejected or 0)
        if self.electorate is not None and ballots > self.electorate:
            raise ValueError(
                f"electorate: {self.electorate:,} is fewer than the {ballots:,} ballots counted "
                "(check the electorate, the votes and the rejected ballots)"
            )
        register = _baseline_electorate(info, self.constituency) if self.electorate is None else None
        if register is not None and ballots > register:  # a mistyped count: this broke the build
            raise ValueError(
                f"candidates: the {ballots:,} ballots counted are more than the baseline's electorate of "
                f"{register:,} (check the votes, or add electorate: if the register has changed)"
            )
        return self


class TurnoutEntry(EntryBase):
    kind: Literal["turnout"]
    constituency: Constituency
    turnout: Percent | None = None
    ballots: Count | None = None
    electorate: Count | None = None
    previous: Percent | None = None

    @model_validator(mode="after")
    def _agree(self, info: ValidationInfo) -> TurnoutEntry:
        if self.turnout is None and self.ballots is None:
            raise ValueError("turnout: give the percent (turnout: 65.39) or the ballots counted (ballots: 46169)")
        if self.electorate == 0:  # the turnout divides by the electorate an entry gives: this broke the build
            raise ValueError("electorate: must be more than 0")
        electorate = self.electorate or _baseline_electorate(info, self.constituency)
        if self.ballots is not None and electorate is not None:
            if self.ballots > electorate:
                raise ValueError(
                    f"ballots: {self.ballots:,} is more than the electorate of {electorate:,} "
                    "(check the ballots, or give electorate: if the register has changed)"
                )
            if self.turnout is not None:
                exact = Decimal(self.ballots) * 100 / Decimal(electorate)
                exponent = self.turnout.as_tuple().exponent
                tolerance = Decimal(5).scaleb(int(exponent) - 1 if isinstance(exponent, int) else -1)
                if abs(exact - self.turnout) > tolerance:
                    raise ValueError(
                        f"turnout: {self.turnout}% does not fit {self.ballots:,} ballots of an electorate of "
                        f"{electorate:,} ({exact:.2f}%)"
                    )
        elif self.turnout is None:
            raise ValueError("ballots: an electorate is needed to turn ballots into a turnout (add electorate:)")
        return self

    def electorate_used(self, baseline: Baseline | None) -> int | None:
        if self.electorate is not None:
            return self.electorate
        row = baseline.get(self.constituency) if baseline else None
        return row.electorate if row else None


def _baseline_electorate(info: ValidationInfo, constituency: str) -> int | None:
    baseline = _context(info).baseline
    row = baseline.get(constituency) if baseline else None
    return row.electorate if row else None


class QuoteEntry(EntryBase):
    kind: Literal["quote"]
    speaker: Line
    speaker_role: Line | None = None
    quote: Text


class SummaryEntry(EntryBase):
    kind: Literal["summary"]
    body: Text

    @model_validator(mode="after")
    def _text_only(self) -> SummaryEntry:
        if self.embed:  # the summary box shows the body alone: an embed there would be published nowhere
            raise ValueError("embed: the summary box shows its text only: put the post in an update of its own")
        return self


Entry = Annotated[
    UpdateEntry | ResultEntry | TurnoutEntry | QuoteEntry | SummaryEntry,
    Field(discriminator="kind"),
]
