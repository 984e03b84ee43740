"""countnight.toml: every problem with its line."""

from __future__ import annotations

import pytest

from conftest import CONFIG
from countnight.config import parse_config
from countnight.errors import InputError


def test_the_sample_config_reads() -> None:
    event = parse_config(CONFIG.encode(), "countnight.toml")
    assert event.title == "Test night"
    assert event.page_size == 20
    assert event.window.end.isoformat() == "2024-07-05T12:00:00+01:00"


def test_without_an_end_the_window_is_a_day() -> None:
    text = CONFIG.replace('coverage_end = "2024-07-05T12:00:00+01:00"\n', "")
    event = parse_config(text.encode(), "countnight.toml")
    assert event.window.end.isoformat() == "2024-07-05T22:00:00+01:00"
    assert event.coverage_end is None


def test_toml_datetimes_and_base_url_slash() -> None:
    text = CONFIG.replace('"2024-07-04T22:00:00+01:00"', "2024-07-04T22:00:00+01:00") + 'base_url = "https://x.org/e"\n'
    event = parse_config(text.encode(), "countnight.toml")
    assert event.base_url == "https://x.org/e/"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (CONFIG + "colour = 'red'\n", ["countnight.toml:6: colour: unknown setting"]),
        (CONFIG + "page_sise = 3\n", ["countnight.toml:6: page_sise: unknown setting (did you mean 'page_size'?)"]),
        (
            CONFIG.replace("Europe/London", "Mars/Olympus"),
            ["countnight.toml:2: timezone: 'Mars/Olympus' is not an IANA zone name like Europe/London"],
        ),
        (
            CONFIG.replace('"2024-07-04T22:00:00+01:00"', '"2024-07-04T22:00:00"'),
            ["countnight.toml:3: coverage_start: needs a UTC offset, like 2024-07-04T22:00:00+01:00"],
        ),
        (
            CONFIG.replace("2024-07-05T12:00:00+01:00", "2024-07-04T12:00:00+01:00"),
            ["countnight.toml:4: coverage_end: must be after coverage_start"],
        ),
        (CONFIG + "page_size = 0\n", ["countnight.toml:6: page_size: Input should be greater than or equal to 1"]),
        (CONFIG + "page_size = '20'\n", ["countnight.toml:6: page_size: Input should be a valid integer"]),
        (CONFIG + "base_url = 'ftp://x'\n", ["countnight.toml:6: base_url: must be an http:// or https:// address"]),
        ('title = "x"\n', ["countnight.toml: coverage_start: required", "countnight.toml: timezone: required"]),
        ('title = "x\n', ["countnight.toml:1: TOML syntax: Illegal character '\\n'"]),
        (CONFIG + "title = 'again'\n", ["countnight.toml:6: TOML syntax: Cannot overwrite a value"]),
    ],
)
def test_bad_config(text: str, expected: list[str]) -> None:
    with pytest.raises(InputError) as caught:
        parse_config(text.encode(), "countnight.toml")
    assert sorted(str(p) for p in caught.value.problems) == sorted(expected)


def test_bad_config_bytes() -> None:
    with pytest.raises(InputError, match=r"countnight.toml:2: not valid UTF-8"):
        parse_config(b'title = "x"\ntimezone = "\xff"\n', "countnight.toml")
