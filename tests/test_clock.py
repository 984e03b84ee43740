"""Short clock times resolve into the coverage window, across midnight and clock changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from countnight.clock import Window, parse_time, show_clock, show_time, zone_abbreviation

LONDON = ZoneInfo("Europe/London")


def window(start: str, hours: int = 24, zone: ZoneInfo = LONDON) -> Window:
    begin = datetime.fromisoformat(start)
    return Window(zone, begin, begin + timedelta(hours=hours))


NIGHT = window("2024-07-04T22:00:00+01:00", 14)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("22:00", "2024-07-04T22:00:00+01:00"),
        ("23:59", "2024-07-04T23:59:00+01:00"),
        ("00:00", "2024-07-05T00:00:00+01:00"),
        ("03:17", "2024-07-05T03:17:00+01:00"),
        ("3:17", "2024-07-05T03:17:00+01:00"),
        ("11:59", "2024-07-05T11:59:00+01:00"),
        ("2024-07-05T03:17:00+01:00", "2024-07-05T03:17:00+01:00"),
        ("2024-07-05T02:17:00Z", "2024-07-05T03:17:00+01:00"),
        ("2024-07-05 03:17", "2024-07-05T03:17:00+01:00"),
    ],
)
def test_times_resolve_across_midnight(typed: str, expected: str) -> None:
    assert parse_time(typed, NIGHT) == datetime.fromisoformat(expected)


def test_outside_the_window_names_it() -> None:
    with pytest.raises(
        ValueError, match=r"21:59 is outside the coverage window \(22:00 BST 4 July to 12:00 BST 5 July\)"
    ):
        parse_time("21:59", NIGHT)


def test_autumn_clock_change_repeated_hour_is_refused() -> None:
    night = window("2024-10-26T22:00:00+01:00")
    with pytest.raises(ValueError, match="happens twice"):
        parse_time("01:30", night)
    assert parse_time("00:59", night).utcoffset() == timedelta(hours=1)
    assert parse_time("02:30", night).utcoffset() == timedelta(0)
    assert show_time(parse_time("02:30", night), LONDON) == "02:30 GMT 27 October"
    assert parse_time("2024-10-27T01:30:00+00:00", night).isoformat() == "2024-10-27T01:30:00+00:00"


def test_spring_clock_change_missing_hour_is_refused() -> None:
    night = window("2024-03-30T22:00:00+00:00")
    with pytest.raises(ValueError, match="does not exist"):
        parse_time("01:30", night)
    assert show_time(parse_time("02:00", night), LONDON) == "02:00 BST 31 March"


def test_a_window_longer_than_a_day_is_ambiguous() -> None:
    with pytest.raises(ValueError, match="could be 4 July or 5 July or 6 July"):
        parse_time("23:00", window("2024-07-04T22:00:00+01:00", 60))


@pytest.mark.parametrize(
    ("moment", "zone", "shown"),
    [
        ("2024-07-05T02:17:00+00:00", "Europe/London", "03:17 BST 5 July"),
        ("2024-12-12T23:05:00+00:00", "Europe/London", "23:05 GMT 12 December"),
        ("2024-11-06T04:00:00+00:00", "America/New_York", "23:00 EST 5 November"),
        ("2024-06-01T10:00:00+00:00", "Asia/Kolkata", "15:30 IST 1 June"),
        ("2024-06-01T10:00:00+00:00", "America/Sao_Paulo", "07:00 UTC-03:00 1 June"),
    ],
)
def test_shown_in_the_event_timezone(moment: str, zone: str, shown: str) -> None:
    assert show_time(datetime.fromisoformat(moment), ZoneInfo(zone)) == shown


@pytest.mark.parametrize("zone_name", ["Europe/London", "America/St_Johns", "Asia/Kolkata", "UTC"])
def test_shown_times_match_strftime_every_quarter_hour_of_a_year(zone_name: str) -> None:
    """show_time and show_clock format by hand (no strftime, English months whatever the locale)."""
    zone = ZoneInfo(zone_name)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    for step in range(366 * 24 * 4):
        moment = start + timedelta(minutes=15 * step)
        local = moment.astimezone(zone)
        assert show_time(moment, zone) == f"{local:%H:%M} {zone_abbreviation(local, zone)} {local.day} {local:%B}"
        assert show_clock(moment, zone) == f"{local:%H:%M}"
