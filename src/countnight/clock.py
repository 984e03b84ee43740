"""Times on count night: ``03:17`` resolved into the coverage window, and shown as "03:17 BST 5 July"."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_CLOCK = re.compile(r"^(\d{1,2})[:.](\d{2})(?::(\d{2}))?$")


@dataclass(frozen=True)
class Window:
    """The coverage window that times on the night fall in, in the event's timezone: half-open, [start, end).

    Half-open so that a window of exactly 24 hours (no ``coverage_end``) holds each clock time once: closed,
    22:00 was both its first and its last moment and "could be 4 July or 5 July".
    """

    zone: ZoneInfo
    start: datetime
    end: datetime

    def describe(self) -> str:
        return f"{show_time(self.start, self.zone)} to {show_time(self.end, self.zone)}"

    def holds(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


def parse_time(text: str, window: Window, *, inside: bool = True) -> datetime:
    """``03:17`` or an ISO 8601 time → an aware datetime; ValueError with a reporter-friendly message.

    A full time must fall in the window as a clock time must (``inside``): a 2023 time, or the date a
    reporter ran ``new`` on the day before, is a slip, and published it sorts to the bottom or the top of
    the night. ``inside=False`` (a correction's ``updated``, which may come the morning after) only refuses
    a time before the window opens.
    """
    text = text.strip()
    match = _CLOCK.match(text)
    if match:
        hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
        if hour > 23 or minute > 59 or second > 59:
            raise ValueError(f"'{text}' is not a clock time (use 24-hour HH:MM, like 03:17)")
        return _resolve_clock(time(hour, minute, second), window)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"'{text}' is not a time: write a clock time like 03:17 or a full time like 2024-07-05T03:17:00+01:00"
        ) from None
    if moment.tzinfo is None:
        moment = _localise(moment, window.zone, text)
    try:  # pages show it in the event's zone, feeds in UTC: year 1 at +14:00 has neither (it broke the build)
        moment.astimezone(UTC)
        moment.astimezone(window.zone)
    except OverflowError:
        raise ValueError(f"'{text}' is out of range: write a time on the night") from None
    if moment < window.start or (inside and moment >= window.end):
        raise ValueError(f"{text} is outside the coverage window ({window.describe()})")
    return moment


def _localise(naive: datetime, zone: ZoneInfo, text: str) -> datetime:
    """A wall-clock time in ``zone``; refuses the hour skipped and the hour repeated at a clock change."""
    first = naive.replace(tzinfo=zone, fold=0)
    second = naive.replace(tzinfo=zone, fold=1)
    if first.utcoffset() != second.utcoffset():
        # fold=0 and fold=1 disagree either when the time happens twice or when it never happens
        roundtrip = first.astimezone(ZoneInfo("UTC")).astimezone(zone).replace(tzinfo=None)
        if roundtrip != naive:
            raise ValueError(f"{text} does not exist in {zone.key}: the clocks went forward past it")
        raise ValueError(
            f"{text} happens twice in {zone.key} (the clocks went back): write the offset, "
            f"like {first.isoformat()} or {second.isoformat()}"
        )
    return first


@functools.lru_cache(maxsize=4096)  # a night has at most 86,400 clock times; 10,000 entries share ~1,400
def _resolve_clock(clock: time, window: Window) -> datetime:
    """The one moment in the window that a wall-clock time means (a pure function: cached, ~35 µs a call)."""
    start_day = window.start.astimezone(window.zone).date()
    end_day = window.end.astimezone(window.zone).date()
    local_start = window.start.astimezone(window.zone).replace(tzinfo=None)
    local_end = window.end.astimezone(window.zone).replace(tzinfo=None)
    found: list[datetime] = []
    day: date = start_day
    while day <= end_day:
        naive = datetime.combine(day, clock)
        try:
            moment = _localise(naive, window.zone, clock.strftime("%H:%M") + f" on {day:%-d %B}")
        except ValueError:
            if local_start <= naive < local_end:  # a clock change inside the window: say so
                raise
        else:
            if window.holds(moment):
                found.append(moment)
        day += timedelta(days=1)
    shown = clock.strftime("%H:%M")
    if not found:
        raise ValueError(f"{shown} is outside the coverage window ({window.describe()})")
    if len(found) > 1:
        days = " or ".join(f"{m:%-d %B}" for m in found)
        raise ValueError(f"{shown} could be {days}: the window is longer than a day, so write the full date and time")
    return found[0]


def zone_abbreviation(moment: datetime, zone: ZoneInfo) -> str:
    """BST/GMT for London, otherwise the zone's own abbreviation (or the UTC offset when it has none)."""
    name = moment.astimezone(zone).tzname() or ""
    if name and name[0] not in "+-":
        return name
    offset = moment.astimezone(zone).strftime("%z")
    return f"UTC{offset[:3]}:{offset[3:]}"


# English month names whatever the machine's locale (strftime's %B follows LC_TIME), and without strftime's
# cost: every entry's time is shown this way.
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")  # fmt: skip


def show_time(moment: datetime, zone: ZoneInfo) -> str:
    """'03:17 BST 5 July': the way the page shows a time to readers."""
    local = moment.astimezone(zone)
    return f"{local.hour:02d}:{local.minute:02d} {zone_abbreviation(local, zone)} {local.day} {MONTHS[local.month - 1]}"


def show_clock(moment: datetime, zone: ZoneInfo) -> str:
    """'03:17': the short form, for "Updated 03:17" and lists."""
    local = moment.astimezone(zone)
    return f"{local.hour:02d}:{local.minute:02d}"
