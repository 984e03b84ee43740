"""A journal line is exactly the compact JSON of its record, and reads back as the same record."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from countnight.journal import Journal, Record
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
    assert record.to_json() == compact(data)


def test_records_read_back_as_written(tmp_path: Path) -> None:
    records = [
        Record(
            "shown",
            "0216-cannock-chase-result",
            "2024-07-05T02:16:00+01:00",
            "ab" * 32,
            '---\ntitle: "Gain \\"quoted\\""\n---\nTabs\tand “curly” quotes, é, 😀, \x00 and \u2028.\n',
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
