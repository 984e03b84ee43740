"""A journal line is exactly the compact JSON of its record, and reads back as the same record."""

from __future__ import annotations

import hashlib
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from countnight.journal import Journal, Record, _record
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
