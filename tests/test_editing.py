"""In-place front matter edits: only the value changes, every other byte stays; results always validate."""

from __future__ import annotations

import os
import stat
from datetime import datetime
from pathlib import Path

import pytest

from conftest import DURING_THE_NIGHT, BlogMaker
from countnight.config import load_config
from countnight.editing import (
    correct,
    correction_time,
    edit_entry,
    restore,
    set_fields,
    set_flag,
    withdraw,
    write_entry_file,
    yaml_scalar,
)
from countnight.errors import InputError
from countnight.frontmatter import read_entry
from countnight.listing import UnknownEntry

PATH = "entries/0100-x.md"
ENTRY = """\
---
# the editor's comment stays
title: 'Count under way'   # headline
time: "01:00"
author:   # who wrote it
pinned: yes
---
Body with `status: draft` and
---
a second fence that is not front matter.
"""


def edit(text: str, **changes: str | None) -> str:
    return set_fields(text.encode(), changes, PATH).decode()


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"title": "New"}, ENTRY.replace("'Count under way'", "'New'")),  # quoting style kept, comment kept
        ({"time": "01:05"}, ENTRY.replace('"01:00"', '"01:05"')),
        ({"author": "Ann"}, ENTRY.replace("author:   # who", "author: Ann   # who")),  # empty value filled
        ({"pinned": "false"}, ENTRY.replace("pinned: yes", "pinned: false")),
        ({"pinned": None}, ENTRY.replace("pinned: yes\n", "")),
        ({"author": None}, ENTRY.replace("author:   # who wrote it\n", "")),
        ({"status": "withdrawn"}, ENTRY.replace("pinned: yes\n", "pinned: yes\nstatus: withdrawn\n")),
        ({"status": None}, ENTRY),  # removing what is not there changes nothing
        (
            {"updated": "02:41", "correction": "A note"},
            ENTRY.replace("pinned: yes\n", 'pinned: yes\nupdated: "02:41"\ncorrection: "A note"\n'),
        ),
    ],
)
def test_only_the_value_changes(changes: dict[str, str | None], expected: str) -> None:
    assert edit(ENTRY, **changes) == expected


def test_crlf_bom_and_the_body_survive_byte_for_byte() -> None:
    original = ("\ufeff" + ENTRY).replace("\n", "\r\n").encode()
    result = set_fields(original, {"pinned": "false", "correction": "Fixed"}, PATH)
    expected = ("\ufeff" + ENTRY.replace("pinned: yes\n", "pinned: false\ncorrection: Fixed\n")).replace("\n", "\r\n")
    assert result == expected.encode()


def test_a_block_scalar_is_replaced_and_the_lines_after_it_kept() -> None:
    text = (
        '---\ntitle: T\ntime: "01:00"\ncorrection: >\n  An earlier version\n  said 2,666.\n\n# kept\nkey: true\n---\n'
    )
    assert (
        edit(text, correction="New note")
        == '---\ntitle: T\ntime: "01:00"\ncorrection: "New note"\n\n# kept\nkey: true\n---\n'
    )
    assert edit(text, correction=None) == '---\ntitle: T\ntime: "01:00"\n\n# kept\nkey: true\n---\n'


def test_multi_line_plain_and_quoted_values_keep_the_comment_after_them() -> None:
    text = '---\ntitle: a long\n  headline  # c\ntime: "🗳 é"  # d\n---\n'
    assert edit(text, title="Short") == '---\ntitle: Short  # c\ntime: "🗳 é"  # d\n---\n'
    assert edit(text, time="01:00") == '---\ntitle: a long\n  headline  # c\ntime: "01:00"  # d\n---\n'


def test_an_indented_root_mapping_gets_indented_new_fields() -> None:
    text = "---\n  title: T\n  time: '01:00'\n---\n"
    assert edit(text, key="true") == "---\n  title: T\n  time: '01:00'\n  key: true\n---\n"


@pytest.mark.parametrize(
    "note",
    [
        'He said "2,666": wrong',
        "it's # not a comment",
        "colon: space, - dash, [brackets], {braces}, & * ! | > ' % @ `",
        "Ünïcödé, emoji 🗳️, right-to-left مرحبا",
        "null",
        "true",
        "back\\slash and\ttab",
        "line\nbreak and \u2028 separator and \x85 next line",
        "\ufeffbom inside",
        "  spaces kept  ",
    ],
)
def test_any_note_reads_back_exactly(note: str) -> None:
    result = set_fields(ENTRY.encode(), {"correction": note}, PATH)
    assert read_entry(result, PATH).front["correction"] == note
    assert result.count(b"\n") == ENTRY.count("\n") + 1  # one new line, whatever the note holds


@pytest.mark.parametrize(
    ("value", "like", "shown"),
    [
        ("withdrawn", "new", "withdrawn"),
        ("02:41", "new", '"02:41"'),
        ("02:41", None, "02:41"),  # the reporter wrote it plain: keep it plain
        ("it's", "'", "'it''s'"),
        ("null", None, '"null"'),  # plain null would read as no value
        ("a\nb", "'", '"a\\nb"'),
    ],
)
def test_yaml_scalar(value: str, like: str | None, shown: str) -> None:
    assert yaml_scalar(value, like) == shown


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("title: T\n", 1, "an entry must start with a '---' line"),
        ("---\ntitle: [unclosed\n---\n", 3, "YAML syntax"),
        ("---\ntitle: T\ntitle: U\n---\n", 3, "duplicate field 'title'"),
        ("---\n{title: T, time: '01:00'}\n---\n", 2, "written as { ... }"),
        ("---\ntitle: T\nstatus:\n  - withdrawn\n---\n", 3, "status: is a list"),
        ("---\rtitle: T\r---\r", 1, "old Mac line ends"),
    ],
)
def test_refuses_what_it_cannot_edit_safely(text: str, line: int, message: str) -> None:
    with pytest.raises(InputError) as caught:
        set_fields(text.encode(), {"status": "withdrawn"}, PATH)
    problem = caught.value.problems[0]
    assert (problem.path, problem.line) == (PATH, line)
    assert message in problem.message


# -- on disk: validated, atomic --------------------------------------------------------------------


GOOD = "---\ntitle: Count under way\ntime: '01:00'\n---\nText.\n"


def test_a_good_entry_is_never_broken(blog: BlogMaker) -> None:
    root = blog({"entries/0100-x.md": GOOD})
    with pytest.raises(InputError) as caught:
        edit_entry(root, "0100-x", {"time": "13:00"})  # outside the coverage window
    assert "entries/0100-x.md:3: time:" in str(caught.value)
    assert "not changed" in str(caught.value)
    assert (root / "entries/0100-x.md").read_text() == GOOD


def test_a_broken_entry_is_refused_but_can_still_be_withdrawn(blog: BlogMaker) -> None:
    broken = GOOD.replace("title: Count under way\n", "title: Count under way\nvotes: 12\n")
    root = blog({"entries/0100-x.md": broken})
    with pytest.raises(InputError) as caught:
        set_flag(root, "0100-x", "pinned", True)
    assert str(caught.value).startswith("entries/0100-x.md:3: votes: unknown field")
    edited = withdraw(root, "0100-x")
    assert edited.changed and edited.entry is None
    assert str(edited.problems[0]).startswith("entries/0100-x.md:3: votes: unknown field")  # still reported
    assert "status: withdrawn\n---" in (root / "entries/0100-x.md").read_text()


def test_an_edit_that_is_already_true_writes_nothing(blog: BlogMaker) -> None:
    root = blog({"entries/0100-x.md": GOOD.replace("---\nText", "pinned: YES\n---\nText")})
    before = (root / "entries/0100-x.md").stat()
    assert not set_flag(root, "0100-x", "pinned", True).changed
    assert (root / "entries/0100-x.md").stat().st_mtime_ns == before.st_mtime_ns


def test_the_file_is_replaced_atomically_keeping_its_mode(blog: BlogMaker) -> None:
    root = blog({"entries/0100-x.md": GOOD})
    path = root / "entries/0100-x.md"
    os.chmod(path, 0o664)
    inode = path.stat().st_ino
    set_flag(root, "0100-x", "key", True)
    assert stat.S_IMODE(path.stat().st_mode) == 0o664
    assert path.stat().st_ino != inode  # a new file renamed over the old one, never rewritten in place
    assert sorted(p.name for p in path.parent.iterdir()) == ["0100-x.md"]  # no temp file left


def test_a_file_changed_during_the_edit_is_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "0100-x.md"
    path.write_text("reporter's newer text")
    with pytest.raises(InputError, match="changed on disk"):
        write_entry_file(path, b"editor's text", expect=b"what the editor read")
    assert path.read_text() == "reporter's newer text"
    assert [p.name for p in tmp_path.iterdir()] == ["0100-x.md"]


def test_a_linked_entry_is_not_edited_through_its_link(blog: BlogMaker) -> None:
    root = blog({"entries/drafts/0100-x.md": GOOD})
    (root / "entries/0100-x.md").symlink_to("drafts/0100-x.md")
    with pytest.raises(InputError, match=r"is a link .*do not write through links"):
        set_flag(root, "0100-x", "key", True)
    assert (root / "entries/0100-x.md").is_symlink()
    assert (root / "entries/drafts/0100-x.md").read_text() == GOOD


def test_unknown_ids_suggest_the_nearest(blog: BlogMaker) -> None:
    root = blog({"entries/0317-burton-result.md": GOOD})
    with pytest.raises(UnknownEntry, match="did you mean '0317-burton-result'"):
        withdraw(root, "0317-burton")
    assert withdraw(root, "entries/0317-burton-result.md").changed  # a path (tab completion) names it too


def test_correct_sets_a_clock_time_inside_the_window_and_iso_outside(blog: BlogMaker) -> None:
    root = blog({"entries/0100-x.md": GOOD})
    event = load_config(root)
    assert correction_time(DURING_THE_NIGHT.replace(second=42), event) == "03:30"
    later = datetime.fromisoformat("2024-07-06T09:15:30+01:00")
    assert correction_time(later, event) == "2024-07-06T09:15+01:00"
    correct(root, "0100-x", ' Majority is 2,266: not "2,666". ', DURING_THE_NIGHT)
    front = read_entry((root / "entries/0100-x.md").read_bytes(), PATH).front
    assert (front["updated"], front["correction"]) == ("03:30", 'Majority is 2,266: not "2,666".')
    with pytest.raises(InputError, match="the note is empty"):
        correct(root, "0100-x", "  ", DURING_THE_NIGHT)


def test_restore_needs_a_version_readers_saw(blog: BlogMaker) -> None:
    root = blog({"entries/0100-x.md": GOOD})
    with pytest.raises(UnknownEntry, match="never shown to readers"):
        restore(root, "0100-x")
