"""A journal line is exactly the compact JSON of its record, and reads back as the same record."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from countnight.journal import Journal, Record, _record, encode_records
from countnight.jsontext import compact

OPS = st.sampled_from(["shown", "withdrawn", "deleted", "draft"])


@settings(max_examples=800, deadline=None, database=None)
@given(OPS, st.text(), st.text(), st.text(), st.text(), st.text())
def test_a_line_is_the_compact_json_of_its_record(
    op: str, ident: str, at: str, digest: str, text: str, path: str
) -> None:
    record = Record(op, ident, at, digest, text, path)  # type: ignore[arg-type]
    data = {"op": op, "id": ident, "at": at}
    if op == "shown":
        data |= {"hash": digest, "path": path, "text": text}
    line = record.to_json()
    body, _, tail = line.rpartition(',"sum":')
    assert body + "}" == compact(data) and len(tail) == len('"0123456789abcdef"}')
    assert _record(line.encode()) == (record if op == "shown" else Record(op, ident, at))  # type: ignore[arg-type]


@settings(max_examples=1500, deadline=None, database=None)
@given(OPS, st.text(max_size=20), st.text(max_size=200), st.data())
def test_any_changed_byte_of_a_line_is_found(op: str, ident: str, text: str, data: st.DataObject) -> None:
    """Damage that leaves valid JSON (a flipped bit in a time, an op rewritten) is still damage: a line checks
    itself, so a damaged line is never taken for a record."""
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    raw = bytearray(Record(op, ident, "2024-07-05T02:16:00+01:00", digest, text, "entries/x.md").to_json().encode())  # type: ignore[arg-type]
    at = data.draw(st.integers(0, len(raw) - 1))
    raw[at] ^= data.draw(st.integers(1, 255))
    assert isinstance(_record(bytes(raw)), str)


def test_records_read_back_as_written(tmp_path: Path) -> None:
    text = '---\ntitle: "Gain \\"quoted\\""\n---\nTabs\tand “curly” quotes, é, 😀, \x00 and \u2028.\n'
    records = [
        Record(
            "shown",
            "0216-cannock-chase-result",
            "2024-07-05T02:16:00+01:00",
            hashlib.sha256(text.encode()).hexdigest(),  # a version whose text does not match is damage
            text,
            "entries/0216-cannock-chase-result.md",
        ),
        Record("withdrawn", "0216-cannock-chase-result", "2024-07-05T02:20:00+01:00"),
    ]
    journal = Journal(tmp_path / ".countnight" / "journal.jsonl")
    journal.append(records)
    again = Journal.open(tmp_path)
    assert again.records == records
    assert not again.warnings
    assert "0216-cannock-chase-result" not in again.current


def _shown(ident: str, text: str) -> Record:
    digest = hashlib.sha256(text.encode()).hexdigest()
    return Record("shown", ident, "2024-07-05T02:16:00+01:00", digest, text, f"entries/{ident}.md")


def _hidden(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in (tmp_path / ".countnight").iterdir() if p.name.endswith(".first"))


def test_a_first_journal_written_ahead_is_shown_only_once_it_is_put_in_place(tmp_path: Path) -> None:
    """A first build writes its journal whole while the site is made; until ``append`` (once the site is out)
    a reader finds no journal, as if nothing had been written, and then the same bytes an append writes."""
    records = [_shown("0101-a", "First.\n"), _shown("0202-b", "Second, “curly”.\n")]
    payload = encode_records(records)
    journal = Journal.open(tmp_path)
    first = journal.write_first(payload)
    assert first is not None
    assert _hidden(tmp_path) == [".journal-copy.jsonl.first", ".journal.jsonl.first"]
    early = Journal.open(tmp_path)
    assert early.records == [] and not early.warnings and not journal.path.exists()

    journal.append(records, payload=payload, first=first)
    assert journal.path.read_bytes() == journal.copy_path.read_bytes() == payload
    assert journal.path.stat().st_ino != journal.copy_path.stat().st_ino, "the copy must be a file of its own"
    assert _hidden(tmp_path) == []
    again = Journal.open(tmp_path)
    assert again.records == records == journal.records and not again.warnings
    assert set(again.current) == {"0101-a", "0202-b"}


def test_only_a_first_journal_is_written_ahead(tmp_path: Path) -> None:
    payload = encode_records([_shown("0101-a", "First.\n")])
    journal = Journal.open(tmp_path)
    journal.append([_shown("0000-z", "Earlier.\n")])
    assert journal.write_first(payload) is None, "a journal is there: its lines are appended, never replaced"
    journal.path.unlink()
    journal.copy_path.unlink()
    assert journal.write_first(payload) is None, "records are held here: they would be lost"
    fresh = Journal.open(tmp_path)
    fresh.copy_path.write_bytes(b"")
    assert fresh.write_first(payload) is None, "a copy is there (even empty): not a first journal"
    assert fresh.write_first(b"") is None
    assert _hidden(tmp_path) == []


def test_a_journal_that_appeared_since_is_appended_to_never_replaced(tmp_path: Path) -> None:
    """Between writing ahead and putting in place, a journal came (another program): the link refuses to
    replace it, and this build's lines are appended after its records."""
    ours = [_shown("0202-b", "Ours.\n")]
    payload = encode_records(ours)
    journal = Journal.open(tmp_path)
    first = journal.write_first(payload)
    assert first is not None
    theirs = Journal.open(tmp_path)
    theirs.append([_shown("0101-a", "Theirs.\n")])

    journal.append(ours, payload=payload, first=first)
    assert [r.id for r in Journal.open(tmp_path).records] == ["0101-a", "0202-b"]
    assert _hidden(tmp_path) == []


def test_a_copy_that_could_not_be_put_in_place_is_written_by_the_append(tmp_path: Path) -> None:
    records = [_shown("0101-a", "First.\n")]
    payload = encode_records(records)
    journal = Journal.open(tmp_path)
    first = journal.write_first(payload)
    assert first is not None and first.copy is not None
    first.copy.unlink()  # lost before it was put in place
    journal.append(records, payload=payload, first=first)
    assert journal.copy_path.read_bytes() == journal.path.read_bytes() == payload
    assert not Journal.open(tmp_path).warnings


def test_a_first_journal_left_waiting_is_removed_and_never_written_through(tmp_path: Path) -> None:
    """A build killed after writing ahead leaves the hidden files: the next first build writes them anew
    (never through a link a crash left to the journal's own file), and the next append removes them."""
    records = [_shown("0101-a", "First.\n")]
    payload = encode_records(records)
    journal = Journal.open(tmp_path)
    first = journal.write_first(payload)
    assert first is not None
    os.link(first.journal, tmp_path / "elsewhere")  # another name for the file left behind
    again = Journal.open(tmp_path)
    second = again.write_first(encode_records([_shown("0202-b", "Second.\n")]))
    assert second is not None
    assert (tmp_path / "elsewhere").read_bytes() == payload, "written through a file it did not make"
    second.discard()

    first = journal.write_first(payload)  # left waiting again; then the journal is written another way
    assert first is not None
    journal.append(records, payload=payload)
    assert _hidden(tmp_path) == []
