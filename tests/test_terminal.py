"""No terminal escape from a file name, an entry or a message reaches the editor's console (issue 17, item 9).

A file named with ``ESC[31m`` coloured the console red, and an OSC sequence retitled the window. Every C0
and C1 control, DEL, every bidirectional control and the line separators are tried, in file names and in
entries' titles and bodies, through the watcher's console and every command that prints (``check``,
``build``, ``list``, ``history``, the editor's commands); what is printed holds none of them, only their
visible escapes.
"""

from __future__ import annotations

import subprocess
from io import StringIO
from pathlib import Path

import pytest

from conftest import AFTER_THE_NIGHT, run_countnight, write_blog
from countnight.console import Console
from countnight.errors import Problem
from countnight.site import BuildReport, Site
from countnight.terminal import lines, one_line

C0 = [chr(c) for c in range(0x20) if c not in (0x0, 0x2F)]
C1 = [chr(0x7F), *(chr(c) for c in range(0x80, 0xA0))]
BIDI = ["\u061c", "\u200e", "\u200f", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067"]
BIDI += ["\u2068", "\u2069", "\u2028", "\u2029", "\ufeff"]
DANGEROUS = C0 + C1 + BIDI
ESC = DANGEROUS.index("\x1b")  # the entries named for it: bad26, e26
SEQUENCES = ["\x1b[31m", "\x1b]0;owned\x07", "\x1b]8;;http:x\x1b\\", "\x9b31m", "\r", "\x1bc", "\u202egnp.exe"]


def _clean(text: str) -> list[str]:
    """The dangerous characters in printed ``text`` (newlines end its lines and tabs indent an entry's own
    lines in ``history``: both are harmless; ``one_line`` escapes them too)."""
    return sorted({f"U+{ord(c):04X}" for c in text if c in DANGEROUS and c not in "\n\t"})


@pytest.mark.parametrize("char", DANGEROUS, ids=lambda c: f"U+{ord(c):04X}")
def test_one_line_and_lines_escape_every_dangerous_character(char: str) -> None:
    text = f"a{char}b"
    assert not _clean(one_line(text)) and "\n" not in one_line(text) and "\t" not in one_line(text)
    assert not _clean(lines(text))
    assert one_line(text) != text or char == "\n"


def test_bytes_that_are_not_utf8_in_a_name_are_shown_not_fatal() -> None:
    name = b"0100-\xff\xfe.md".decode("utf-8", "surrogateescape")
    assert one_line(name) == "0100-\\xff\\xfe.md"
    one_line(name).encode("utf-8")  # printable on any UTF-8 terminal (a lone surrogate raised here)


def test_the_console_escapes_names_headlines_and_problems() -> None:
    stream = StringIO()
    console = Console(stream, colour=True)
    report = BuildReport(built=True)
    for i, seq in enumerate(SEQUENCES):
        report.problems.append(Problem(f"entries/x{seq}.md", 1, f"title: {seq}"))
        console.entry("published", f"id{seq}", f"headline {seq}")
        console.warning(f"warning {seq} {i}")
        console.error(f"error {seq}")
        console.info(f"info {seq}")
    console.build(report, None)
    printed = stream.getvalue()
    own = printed.replace("\x1b[0m", "").replace("\x1b[2m", "").replace("\x1b[32m", "").replace("\x1b[31m", "")
    own = own.replace("\x1b[33m", "").replace("\x1b[31;1m", "")  # the console's own colours
    assert "owned" in own and not _clean(own.replace("\x1b[31m", "")), _clean(own)
    assert printed.count("\n") == len(printed.splitlines())


NIGHT = '---\ntime: "01:{minute:02d}"\ntitle: "{title}"\n---\n{body}\n'


def _hostile_blog(tmp_path: Path) -> Path:
    """Names with every dangerous character (each refused as that file's error), and entries whose title and
    body hold them (each published: the title is the reporter's own words)."""
    files: dict[str, str | bytes] = {}
    for i, char in enumerate(DANGEROUS):
        files[f"entries/bad{i:02d}{char}x.md"] = NIGHT.format(minute=1, title="t", body="b")
        escaped = f"\\u{ord(char):04x}" if ord(char) > 0xFF else f"\\x{ord(char):02x}"
        files[f"entries/e{i:02d}.md"] = NIGHT.format(minute=i % 60, title=f"T{escaped}x", body=f"B{char}y")
    for j, seq in enumerate(SEQUENCES):
        files[f"entries/seq{j}{seq}.md"] = NIGHT.format(minute=2, title="t", body="b")
    return write_blog(tmp_path / "blog", files)


def _run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_countnight(*args, "--root", str(root))


def test_no_command_prints_a_dangerous_character(tmp_path: Path) -> None:
    root = _hostile_blog(tmp_path)
    Site(root).build(AFTER_THE_NIGHT)  # so that history has versions
    runs = [
        ["check"],
        ["build"],
        ["list"],
        ["history", f"e{ESC:02d}"],  # U+001B in its body
        ["history", "nothing\x1b[31m"],
        ["withdraw", f"bad{ESC:02d}\x1b"],
        ["pin", f"e{ESC:02d}"],
        ["restore", f"e{ESC:02d}", "--force"],
        ["correct", f"e{ESC:02d}", "--note", "fixed \x1b]0;owned\x07"],
    ]
    for args in runs:
        done = _run(root, *args)
        assert "Traceback" not in done.stderr, (args, done.stderr)
        assert not _clean(done.stdout + done.stderr), (args, _clean(done.stdout + done.stderr))
    listed = _run(root, "list").stdout
    assert f"bad{ESC:02d}\\x1bx" in listed and len(listed.splitlines()) == 1 + len(list((root / "entries").iterdir()))
