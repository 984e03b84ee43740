"""Entry files that must be read correctly: YAML never changes what a reporter typed."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest

from conftest import CONFIG
from countnight.config import parse_config
from countnight.entries import parse_entry
from countnight.frontmatter import MAX_BYTES, read_entry
from countnight.models import Context, QuoteEntry, ResultEntry, TurnoutEntry, UpdateEntry
from countnight.names import is_entry_name
from countnight.reading import read_regular

EVENT = parse_config(CONFIG.encode(), "countnight.toml")
CONTEXT = Context(EVENT.window)


def parse(text: str | bytes, name: str = "0317-x.md"):
    data = text.encode() if isinstance(text, str) else text
    return parse_entry(data, f"entries/{name}", CONTEXT)


@pytest.mark.parametrize("typed", ["NO", "yes", "23:45", "0123", "1e3", "null", "~", "true", "0x1F", ".inf"])
def test_text_fields_keep_what_was_typed(typed: str) -> None:
    entry = parse(f"---\ntitle: Fine\ntime: '01:00'\nauthor: {typed}\n---\n")
    if typed in ("null", "~"):
        assert entry.author is None  # YAML's own words for "nothing"
    else:
        assert entry.author == typed


def test_the_raw_reader_keeps_scalars_as_text() -> None:
    source = read_entry(b"---\na: NO\nb: 23:45\nc: 0123\nd: 1e3\ne: 'quoted'\nf:\n---\nbody\n", "x.md")
    assert source.front == {"a": "NO", "b": "23:45", "c": "0123", "d": "1e3", "e": "quoted", "f": None}
    assert source.line_of(("c",)) == 4
    assert source.body == "body\n"
    assert source.body_line == 9


def test_byte_order_mark_and_crlf_are_read() -> None:
    entry = parse(b"\xef\xbb\xbf---\r\ntitle: Counting starts\r\ntime: '23:10'\r\n---\r\nBoxes are in.\r\n")
    assert isinstance(entry, UpdateEntry)
    assert entry.title == "Counting starts"
    assert entry.body == "Boxes are in."


def test_unquoted_clock_time_is_read_as_a_time() -> None:
    entry = parse("---\ntitle: x\ntime: 03:17\n---\n")  # YAML 1.1 would make this 11,837 (sexagesimal)
    assert entry.time == datetime.fromisoformat("2024-07-05T03:17:00+01:00")


def test_flags_accept_yes_and_no() -> None:
    entry = parse("---\ntitle: x\ntime: '01:00'\nbreaking: yes\nkey: No\npinned: TRUE\n---\n")
    assert (entry.breaking, entry.key, entry.pinned) == (True, False, True)


def test_counts_with_commas_and_parties_by_name() -> None:
    entry = parse(
        "---\nkind: Result\ntime: '02:16'\nconstituency: Cannock Chase\nelectorate: '74,000'\ncandidates:\n"
        '  - {name: Josh Newbury, party: labour, votes: "15,671"}\n'
        "  - {name: Amanda Milling, party: Conservative Party, votes: 12546}\n"
        "  - {name: Someone, party: Yorkshire Independence Movement, votes: 12}\n---\n"
    )
    assert isinstance(entry, ResultEntry)
    assert [(c.party, c.votes) for c in entry.candidates] == [
        ("Lab", 15671),
        ("Con", 12546),
        ("Yorkshire Independence Movement", 12),  # unknown parties are kept as written
    ]
    assert entry.electorate == 74000


def test_turnout_percent_with_sign_and_precision() -> None:
    entry = parse(
        "---\nkind: turnout\ntime: '02:23'\nconstituency: Stafford\nturnout: \"65.39%\"\nballots: 46169\n"
        "electorate: 70608\n---\n"
    )
    assert isinstance(entry, TurnoutEntry)
    assert str(entry.turnout) == "65.39"


@pytest.mark.parametrize(("written", "ballots", "electorate", "fits"), [
    ("56", 5596, 10000, True),       # 56 fits 55.96
    ("65.39", 65392, 100000, True),  # 65.39 fits 65.392
    ("80", 65390, 100000, False),    # 80 does not fit 65.39
    ("65.4", 65449, 100000, True),
    ("65.4", 65451, 100000, False),
])  # fmt: skip
def test_turnout_agrees_to_the_precision_written(written: str, ballots: int, electorate: int, fits: bool) -> None:
    text = (
        f"---\nkind: turnout\ntime: '02:23'\nconstituency: Stafford\nturnout: {written}\nballots: {ballots}\n"
        f"electorate: {electorate}\n---\n"
    )
    if fits:
        assert parse(text).turnout is not None
    else:
        with pytest.raises(Exception, match="does not fit"):
            parse(text)


def test_quote_and_body_markdown_is_kept_verbatim() -> None:
    entry = parse("---\nkind: quote\ntime: '02:21'\nspeaker: Josh Newbury\nquote: 'Thank you: all of you'\n---\n# Hi\n")
    assert isinstance(entry, QuoteEntry)
    assert entry.quote == "Thank you: all of you"
    assert entry.body == "# Hi"


@pytest.mark.parametrize(
    ("name", "is_entry"),
    [
        ("0317-burton.md", True),
        (".0317-burton.md.swp", False),
        (".#0317-burton.md", False),
        ("_draft.md", False),
        ("0317-burton.md~", False),
        ("0317-burton.md.tmp", False),
        ("0317-burton.swp", False),
        ("notes.txt", False),
        ("4913", False),
    ],
)
def test_which_files_are_entries(name: str, is_entry: bool) -> None:
    assert is_entry_name(name) is is_entry


def test_read_regular_reads_whole_files_up_to_the_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    small = tmp_path / "small.md"
    small.write_bytes(b"---\ntime: 01:00\n---\nHello.\n")
    assert read_regular(str(small)) == small.read_bytes()
    big = tmp_path / "big.md"
    big.write_bytes(b"x" * (MAX_BYTES + 10))
    assert read_regular(str(big)) == b"x" * (MAX_BYTES + 1)  # enough to say it is too big, no more
    empty = tmp_path / "empty.md"
    empty.write_bytes(b"")
    assert read_regular(str(empty)) == b""
    fifo = tmp_path / "fifo.md"
    os.mkfifo(fifo)
    assert read_regular(str(fifo)) is None  # and it did not wait for a writer

    # A file that grew after its size was taken (a reporter's editor still writing) is read to its end.
    real_fstat = os.fstat

    def stale(fd: int) -> os.stat_result:
        info = real_fstat(fd)
        return os.stat_result((info.st_mode, *info[1:6], 3, *info[7:]))

    grown = tmp_path / "grown.md"
    grown.write_bytes(b"0123456789" * 20_000)
    monkeypatch.setattr(os, "fstat", stale)
    assert read_regular(str(grown)) == grown.read_bytes()
