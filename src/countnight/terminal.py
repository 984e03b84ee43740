"""Text from files, folders and the command line, made safe to print on an editor's terminal.

A file name, an entry's text or a message quoting either can hold what a terminal obeys rather than shows:
C0 and C1 controls (``ESC[31m`` colours the console, an OSC sequence retitles the window, a carriage return
overwrites the line shown), bidirectional overrides that show a name backwards, line separators, and
bytes that are not UTF-8 (kept as lone surrogates, which would stop the print with an encoding error).
Each is shown as a visible escape (``\\x1b``, ``\\u202e``) instead. The standard library only.
"""

from __future__ import annotations

import re

# DEL and C1, the Bidi_Control characters, the line and paragraph separators, a BOM, and surrogates; with C0.
_OTHERS = "\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff"
_ONE_LINE = re.compile(f"[\x00-\x1f{_OTHERS}]")
_LINES = re.compile(f"[\x00-\x08\x0b-\x1f{_OTHERS}]")  # keeps tab (09) and newline (0a)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape): show the byte
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def one_line(text: object) -> str:
    """``text`` as one printable line: every control (newlines and tabs too) and bidi character escaped."""
    return _ONE_LINE.sub(_escape, str(text))


def lines(text: object) -> str:
    """``text`` printable as lines: newlines and tabs kept (CRLF as a newline), everything else escaped."""
    return _LINES.sub(_escape, str(text).replace("\r\n", "\n"))
