"""The fast path of ``frontmatter.read_entry`` gives exactly what PyYAML's events and ``yamlread``'s builder give.

``frontmatter._fast`` reads simple front matter line by line; ``yamlread.parse_yaml`` is the specification.
(1) Hypothesis properties: front matter built from a grammar of the accepted shapes and of near misses of each
(indicators, quotes, colons, hashes, indentation, unicode, empty values, duplicate keys...), and single values
made of raw characters: whenever the fast path answers, its values (keys, their order, values and their types)
and lines equal the slow path's, and every example built only from accepted shapes takes the fast path, so the
property cannot hold by declining everything. (2) One explicit case per boundary: what the fast path takes and
each thing that sends front matter to the slow path. (3) Every sample entry and a benchmark night take the fast
path, and ``read_entry`` uses it. Run with ``pytest -s`` to see how many examples took each path.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from countnight import frontmatter, yamlread
from countnight.errors import InputError

REPO = Path(__file__).resolve().parents[1]
FAST = settings(max_examples=1000, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


def _exact(value: Any) -> Any:
    """A value with its types and its dicts' key order spelled out, so == compares all of them."""
    if isinstance(value, dict):
        return ("dict", [(_exact(k), _exact(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [_exact(v) for v in value])
    return (type(value).__name__, value)


def _slow(front: str, first: int = 2) -> Any:
    """The slow path's answer, or the name of what it raised."""
    try:
        root, lines = yamlread.parse_yaml(front, first, "x.md")
    except InputError:
        return "InputError"
    except Exception as err:  # a str no UTF-8 file decodes to (a lone surrogate) is not the fast path's business
        return type(err).__name__
    return _exact(root), _exact(lines)


def _check(front: str, first: int = 2) -> bool:
    """Assert the fast path, when it answers, agrees with the slow path on ``front``; say whether it answered."""
    fast = frontmatter._fast(front, first)
    if fast is None:
        return False
    assert (_exact(fast[0]), _exact(fast[1])) == _slow(front, first), front
    return True


def _report(name: str, outcomes: Counter[str]) -> None:
    print(f"\n{name}: {dict(sorted(outcomes.items()))}")


# -- (1) the properties ----------------------------------------------------------------------------------

# Every token has a safe form, which the fast path must take, and near misses, which it may take only if it gets
# them exactly right. A front is drawn in one of three modes: only safe tokens (must be fast), mostly safe with an
# occasional near miss (each trigger on its own, nothing else to hide behind), or a free mix.
KEYS = ["kind", "time", "title", "constituency", "author", "role", "name", "party", "votes", "speaker_role", "a", "_x", "x-y", "B2", "tags", "yes", "true", "No"]  # fmt: skip
NEAR_KEYS = [
    "null", "Null", "NULL", "~", "", " a", "1a", "a b", "-a", "a.b", "ké", '"a"', "'a'", "?a", "? a", "&a a", "*a",
    "!a", "[a]", "{a}", "a:b", "a#", "#a", "a\t", "a" * 129, "a" * 1100, "<<", "---", "...", "- a", "%a", "@a",
]  # fmt: skip
PLAIN = [
    "result", "Seat 0412", "Reporter 07", "BBC Radio Stoke", "true", "71234", "9,512", "61.25", "23:45", "0123", "1e3",
    "~", "null", "Null", "NULL", "NO", "a:b", "a#b", "a,b", "O'Brien", 'say "hi"', "x!&*%@`|>?", "Lab+5", "a, b",
    "a  b", "...", "a ---", "é😀日本", "http://e.org/x?a=1#top", "a\\b", "b]", "a[b", "a}", "x-", "~x", "=", "<<",
]  # fmt: skip
QUOTED = ['"03:17"', '"9,512"', '""', "''", "'single'", '"a: b # c"', "'a: b'", '"  padded  "', '"it\'s"', "'say \"hi\"'", '"null"', "'~'", '"- x"', '"[a]"', '"#"', '"é😀"']  # fmt: skip
VALUES = PLAIN + QUOTED
NEAR_VALUES = [
    "-5", "- x", "-", "?x", "? x", ":x", ": x", ",x", "[a, b]", "[]", "{a: b}", "{}", "#c", "&a x", "*a", "!x",
    "!!str x", "|", "|-", ">", "'", '"', '"a', 'a"', "'a''b'", '"a\\"b"', '"a\\nb"', '"a\\\\b"', "'a\\b'", '"a"b"',
    '"a" x', "'a' #c", "%x", "@x", "`x`", "a: b", "a:", "a :", "a #c", "a\tb", "\t", " a", "a\u00a0b", "a\u2028b",
    "a\u2029b", "a\x85b", "\ufeffa", "a\x1bb", "a\x7fb", "a\x9fb", "a\ufffeb", "a\ud800b", "a\u200bb", "a\rb", "---",
    "a\n b", "a\n  b", "a\n    b", '"a\n  b"', "'a\n  b'", "a\n# c", "a\n-", "a\n--- b", "a\n... b", "a" * 1100,
]  # fmt: skip
FLOW_VALUES = [
    "Candidate A", "Lab", "15745", '"9,512"', '"A, B"', '""', "~", "null", "O'Brien", "a!b", "x y z", "é😀", '"a: b"',
    '"{x}"', "a\\b", "a;b", "a=b",
]  # fmt: skip
NEAR_FLOW_VALUES = [
    "", " ", "a ", " a", "a,b", "a:b", "a: b", "a]", "a}", "[a]", "{a: b}", "'a'", '"a\\"', '"a"b', 'a"b', "a #c",
    "a#b", "#a", "-a", "?a", "*a", "&a", "!a", "|", ">", "%a", "@a", "`a", "a\tb", "a\u00a0b", "a\u2028b", "a\x85b",
]  # fmt: skip
SEPARATORS = [": ", ":  "]
NEAR_SEPARATORS = [":", " : ", ":\t", "::", ": \t", ":\u00a0", " :"]
FLOW_SEPARATORS = [", "]
NEAR_FLOW_SEPARATORS = [",", " , ", ",  ", ",\t", "; "]
FILLERS = ["", "   ", "# note", "  # note", "#", "#: x", "# - a"]
NEAR_FILLERS = ["\t", " \t", "--- x", "... x", "%YAML 1.1", "? x", "  x", "- x", "x", "---", "\u2028", "\ufeff# c", "  #\tc", "a: b"]  # fmt: skip
TRAILING = ["", "", "", " ", "  "]
NEAR_TRAILING = ["\t", " #", " # c", "\u00a0", ":", " :"]
INDENTS = [0, 2, 4]
NEAR_INDENTS = [1, 3, 6, 8]


class _Pick:
    """Choices read from hypothesis's bytes (one draw per example: hundreds of ``draw`` calls took 6 ms an example).

    Each choice is a safe token, or a near miss: at a rate (percent), or (percent < 0) exactly one of the first 40
    choices. Shrinking the bytes towards zero shrinks towards the first safe token of every list."""

    def __init__(self, data: bytes, percent: int, duplicates: bool) -> None:
        self.data = data
        self.at = 0
        self.percent = percent
        self.duplicates = duplicates
        self.calls = 0
        self.target = self.number(40) if percent < 0 else -1  # in "one near miss" mode, which choice it is

    def number(self, below: int) -> int:
        value = int.from_bytes(self.data[self.at : self.at + 2], "big")
        self.at += 2
        return value % below

    def __call__(self, safe: list[Any], near: list[Any]) -> Any:
        self.calls += 1
        if self.calls - 1 == self.target or (self.percent > 0 and self.number(100) < self.percent):
            return near[self.number(len(near))]
        return safe[self.number(len(safe))]

    def choose(self, options: list[Any]) -> Any:
        """A structural choice, never a near miss."""
        return options[self.number(len(options))]

    def keys(self, low: int, high: int) -> list[str]:
        """Distinct keys (or, in some examples, any keys), each possibly replaced by a near miss."""
        pool = list(KEYS)
        keys = []
        for _ in range(low + self.number(high - low + 1)):
            key = pool[self.number(len(pool))]
            if not self.duplicates:
                pool.remove(key)
            keys.append(self([key], NEAR_KEYS))
        return keys

    def value(self) -> str:
        return self(VALUES, NEAR_VALUES)

    def line(self, text: str) -> str:
        return text + self(TRAILING, NEAR_TRAILING)


def _flow(pick: _Pick) -> str:
    keys = pick.keys(1, 4)
    pairs = [f"{k}{pick([': '], [':', ':  ', ' : '])}{pick(FLOW_VALUES, NEAR_FLOW_VALUES)}" for k in keys]
    text = pick(FLOW_SEPARATORS, NEAR_FLOW_SEPARATORS).join(pairs)
    return pick(["{%s}"], ["{ %s }", "{%s }", "{%s,}", "{%s} x", "{%s} #c", "[%s]", "{%s", "{{%s}}"]) % text


def _items(pick: _Pick, key: str) -> list[str]:
    """A field with nothing after its colon, then a list of scalars, flow mappings and block mappings."""
    lines = [pick.line(f"{key}:")]
    column = pick(INDENTS, NEAR_INDENTS)
    for _ in range(pick.number(5)):
        indent = column if pick([True], [False]) else pick(INDENTS, NEAR_INDENTS)
        dash = " " * indent + pick(["- "], ["-", "-  ", "- - ", "? ", "-\t"])
        kind = pick.choose(["scalar", "flow", "mapping"])
        if kind == "scalar":
            lines.append(pick.line(dash + pick.value()))
        elif kind == "flow":
            lines.append(pick.line(dash + _flow(pick)))
        else:
            keys = pick.keys(1, 4)
            lines.append(pick.line(f"{dash}{keys[0]}{pick(SEPARATORS, NEAR_SEPARATORS)}{pick.value()}"))
            for k in keys[1:]:
                indent = column + 2 if pick([True], [False]) else pick(INDENTS, NEAR_INDENTS)
                rest = pick([": ", ":  "], NEAR_SEPARATORS) + pick.value() if pick.choose([True, False]) else ":"
                lines.append(pick.line(f"{' ' * indent}{k}{rest}"))
    return lines


def _front(pick: _Pick) -> str:
    """Fields: with a value, with none, or with a list; fillers (blank lines, comments) between and after them."""
    lines: list[str] = []
    for key in pick.keys(1, 7):
        if pick.choose([True, False]):
            lines.append(pick(FILLERS, NEAR_FILLERS))
        shape = pick.choose(["value", "value", "empty", "list"])
        if shape == "value":
            lines.append(pick.line(f"{key}{pick(SEPARATORS, NEAR_SEPARATORS)}{pick.value()}"))
        elif shape == "empty":
            lines.append(pick.line(f"{key}:"))
        else:
            lines += _items(pick, key)
    if pick.choose([True, False]):
        lines.insert(pick.number(len(lines) + 1), pick(FILLERS, NEAR_FILLERS))
    return "\n".join(lines)


RATES = {"safe": 0, "one near miss": -1, "mixed": 20}  # percent of tokens that are near misses


def fronts(mode: str) -> st.SearchStrategy[str]:
    """Front matter in one mode: only safe tokens, one near miss among them, or a free mix."""
    data = st.binary(min_size=800, max_size=800)
    duplicates = st.just(False) if mode == "safe" else st.booleans()
    return st.builds(lambda d, dup: _front(_Pick(d, RATES[mode], dup)), data, duplicates)


def test_fast_path_matches_slow_path_on_safe_shapes() -> None:
    """1,000 fronts built only from accepted shapes: every one takes the fast path, and agrees with YAML."""
    outcomes: Counter[str] = Counter()

    @FAST
    @given(front=fronts("safe"), first=st.sampled_from([2, 2, 2, 1, 40]))
    def run(front: str, first: int) -> None:
        assert _check(front, first), f"declined: {front!r}"
        outcomes["fast"] += 1

    run()
    _report("safe", outcomes)


def test_fast_path_matches_slow_path_on_near_misses() -> None:
    """3,000 fronts with near misses mixed in: the fast path, when it answers, agrees with YAML."""
    outcomes: Counter[str] = Counter()

    @settings(FAST, max_examples=3000)
    @given(front=st.one_of(fronts("one near miss"), fronts("mixed")))
    def run(front: str) -> None:
        taken = _check(front)
        slow = _slow(front)
        outcomes[("fast" if taken else "slow") + (" (error)" if isinstance(slow, str) else "")] += 1

    run()
    _report("near misses", outcomes)
    total = sum(outcomes.values())
    assert outcomes["fast"] >= 0.1 * total  # near misses the fast path reads right, checked against YAML
    assert outcomes["slow"] >= 0.1 * total  # and ones YAML reads, but differently or not surely so


# Single values made of characters: every ASCII punctuation mark, whitespace, controls and any Unicode, in each
# place a value can stand.
CHARACTERS = st.sampled_from([*"ab1 :#-'\"\\,[]{}&*!|>%@`?~=\n\t", " #", ": ", "  ", "\u00a0", "\x85", "\u2028"])
CHARACTERS |= st.characters(codec="utf-8")
PLACES = [
    "kind: result\ntitle: {}\nrole: x",
    "title:{}",
    "title: {}",
    "title: '{}'",
    'title: "{}"',
    "tags:\n  - {}\n  - x",
    "list:\n- {}",
    "candidates:\n  - name: {}\n    votes: 1",
    "candidates:\n  - name: A\n    votes: {}\nkind: x",
    "candidates:\n  - {{name: {}, votes: 1}}",
    "candidates:\n  - {{name: A, votes: {}}}",
    'candidates:\n  - {{name: "{}"}}',
    "{}: x",
    "a: b\n{}\nc: d",
    "a:\n{}\n  - x",
]


def test_fast_path_matches_slow_path_on_raw_characters() -> None:
    """1,500 values of raw characters, each in one of the places a value stands."""
    outcomes: Counter[str] = Counter()

    @settings(FAST, max_examples=1500)
    @given(place=st.sampled_from(PLACES), value=st.lists(CHARACTERS, max_size=12).map("".join))
    def run(place: str, value: str) -> None:
        outcomes["fast" if _check(place.format(value)) else "slow"] += 1

    run()
    _report("raw", outcomes)
    assert outcomes["fast"] >= 150


# -- (2) the boundaries ----------------------------------------------------------------------------------

TYPICAL = """\
kind: result
time: "03:17"
constituency: Seat 0412
author: Reporter 07
role: BBC Radio Stoke
breaking: true
electorate: 71234
rejected: 150
candidates:
  - name: Candidate A
    party: Lab
    votes: 16222
  - name: Candidate B
    party: Con
    votes: "9,512"
"""

TAKEN = {
    "typical result": TYPICAL,
    "flow mapping items": 'candidates:\n  - {name: Josh Newbury, party: Lab, votes: 15671}\n  - {name: A, votes: "15,671"}',
    "one field": "kind: update",
    "plain keeps what was typed": "a: NO\nb: 23:45\nc: 0123\nd: 1e3\ne: true\nf: .inf\ng: 0x1F",
    "plain nulls": "a: ~\nb: null\nc: Null\nd: NULL",
    "nothing after the colon is None": "a:\nb: x",
    "nothing after the colon at the end": "b: x\na:",
    "quoted empty stays empty": "a: \"\"\nb: ''",
    "quoted nulls stay text": "a: \"null\"\nb: '~'",
    "double quoted": 'title: "Reform UK: strong thirds, and a second place # 2"',
    "single quoted": "title: 'Stafford: \"colour\"'",
    "quoted padding is kept": 'a: "  x  "',
    "several spaces after the colon": "a:    b",
    "spaces at line ends": "a: b  \nc:  \nlist:   \n  - x   \n  - {a: b}  ",
    "interior spaces kept": "a: b   c",
    "plain with commas and brackets": "a: Stone, Great Wyrley and Penkridge\nb: x[1]\nc: y}",
    "plain with a colon not before a space": "a: http://e.org/x\nb: 23:45",
    "plain with a hash not after a space": "a: C#\nb: 1#a",
    "plain with indicators inside": 'a: AT&T\nb: Lab!\nc: 5*\nd: 50%\ne: a@b.org\nf: it\'s\ng: say "hi"',
    "plain backslash is literal": "a: C:\\path",
    "dots": "a: ...",
    "non-ASCII": "a: é 😀 日本 – “x”",
    "keys with dash and underscore": "speaker_role: x\nx-y: z\n_a: b\nB2: c",
    "keys YAML 1.1 would read as booleans": "yes: 1\nNo: 2\ntrue: 3",
    "scalar list": 'tags:\n  - Lab\n  - "Con"\n  - ~',
    "list at the key's column": "candidates:\n- name: A\n  votes: 1\n- name: B\nkind: x",
    "list at column four": "candidates:\n    - name: A\n      votes: 1",
    "list at column one": "tags:\n - a\n - b",
    "empty field in an item": "candidates:\n  - name:\n    votes: 1\n  - a:",
    "mixed items": "list:\n  - x\n  - {a: b}\n  - c: d\n    e: f",
    "plain item with a colon": "list:\n  - a:b",
    "two lists": "a:\n  - x\nb:\n- y\nc: z",
    "blank lines": "\n\na: b\n\n\nlist:\n\n  - x\n\n  - c: d\n\n    e: f\n\n",
    "whitespace-only lines": "  \na: b\n     \nc: d",
    "comments": "# top\na: b\n# between\nlist:\n  # before items\n  - x\n# at column zero\n  - c: d\n        # deep\n    e: f",
    "comment lines start the root at the first field": "# c\n\n# d\nkind: x",
    "flow nulls and quoted empty": 'list:\n  - {a: ~, b: null, c: ""}',
    "flow with quoted commas and colons": 'list:\n  - {a: "x, y: z", b: "{}"}',
    "long key": "a" * 128 + ": b",
}
DECLINED = {
    "nothing at all": "",
    "only comments": "# a\n\n# b",
    "tab in a value": "a: b\tc",
    "tab after the colon": "a:\tb",
    "tab in a comment": "a: b\n#\tc",
    "flow sequence value": "a: [b, c]",
    "flow mapping value": "a: {b: c}",
    "literal block scalar": "a: |\n  x",
    "folded block scalar": "a: >\n  x",
    "anchor": "a: &x b",
    "alias": "a: *x",
    "tag": "a: !!str b",
    "local tag": "a: !x b",
    "directive": "%YAML 1.1",
    "reserved @": "a: @b",
    "reserved backtick": "a: `b`",
    "explicit key": "? a\n: b",
    "leading dash": "a: -5",
    "leading colon": "a: :b",
    "leading question mark": "a: ?b",
    "leading comma": "a: ,b",
    "leading pipe": "a: |b",
    "leading hash (a comment)": "a: #b",
    "colon space inside": "a: b: c",
    "trailing colon": "a: b:",
    "comment after a value": "a: b # c",
    "comment after a quoted value": 'a: "b" # c',
    "comment after a key": "a: # c",
    "comment after a list key": "a: # c\n  - x",
    "backslash in double quotes": 'a: "b\\n"',
    "backslash in single quotes": "a: 'b\\c'",
    "doubled single quote": "a: 'it''s'",
    "unclosed quote": 'a: "b',
    "text after a quote": 'a: "b" c',
    "quote inside quotes": 'a: "b"c"',
    "lone quote": 'a: "',
    "continued plain scalar": "a: b\n  c",
    "continued quoted scalar": 'a: "b\n  c"',
    "continued item": "list:\n  - a\n    b",
    "indented first field": "  a: b",
    "indented field": "a: b\n c: d",
    "nested mapping": "a:\n  b: c",
    "list after a value": "a: b\n  - c",
    "item without a list": "- a",
    "items at two columns": "list:\n  - a\n   - b",
    "item field at the wrong column": "list:\n  - a: b\n   c: d",
    "item field too deep": "list:\n  - a: b\n      c: d",
    "field after a scalar item": "list:\n  - x\n    c: d",
    "field after a flow item": "list:\n  - {a: b}\n    c: d",
    "nested list in an item": "list:\n- a:\n  - b",
    "list in a list": "list:\n  - - a",
    "empty item": "list:\n  -\n  - x",
    "item with two spaces": "list:\n  -  a",
    "plain null key": "null: x",
    "tilde key": "~: x",
    "quoted key": '"a": b',
    "key with a dot": "a.b: c",
    "key with a space": "a b: c",
    "key starting with a digit": "1a: b",
    "non-ASCII key": "ké: b",
    "key longer than 128": "a" * 129 + ": b",
    "no space after the colon": "a:b",
    "space before the colon": "a : b",
    "duplicate field": "a: b\na: c",
    "duplicate field in an item": "list:\n  - a: b\n    a: c",
    "duplicate field in a flow mapping": "list:\n  - {a: b, a: c}",
    "null key in a flow mapping": "list:\n  - {null: b}",
    "document start inside": "a: b\n--- c",
    "document end inside": "a: b\n... c",
    "no-break space": "a: b\u00a0c",
    "zero-width space": "a: b\u200bc",
    "next line": "a: b\x85c",
    "line separator": "a: b\u2028c",
    "paragraph separator": "a: b\u2029c",
    "byte-order mark": "\ufeffa: b",
    "escape": "a: b\x1bc",
    "delete": "a: b\x7fc",
    "C1 control": "a: b\x9fc",
    "noncharacter": "a: b\ufffec",
    "surrogate": "a: b\ud800c",
    "carriage return": "a: b\rc",
    "flow mapping with spaces inside the braces": "list:\n  - { a: b }",
    "flow mapping without spaces": "list:\n  - {a: b,c: d}",
    "flow mapping without a space after the colon": "list:\n  - {a:b}",
    "empty flow mapping": "list:\n  - {}",
    "flow mapping with an empty value": "list:\n  - {a: , b: c}",
    "flow mapping with a trailing comma": "list:\n  - {a: b,}",
    "text after a flow mapping": "list:\n  - {a: b} c",
    "comment after a flow mapping": "list:\n  - {a: b} # c",
    "flow mapping over two lines": "list:\n  - {a: b,\n    c: d}",
    "flow sequence item": "list:\n  - [a, b]",
    "single-quoted flow value": "list:\n  - {a: 'b'}",
    "flow value with a colon": "list:\n  - {a: b:c}",
    "flow value with a hash": "list:\n  - {a: b#c}",
    "flow value ending in a space": "list:\n  - {a: b , c: d}",
    "flow value with an indicator first": "list:\n  - {a: -1}",
}


@pytest.mark.parametrize("name", sorted(TAKEN))
def test_fast_path_takes(name: str) -> None:
    assert _check(TAKEN[name]), f"{name!r} was declined"


@pytest.mark.parametrize("name", sorted(DECLINED))
def test_fast_path_declines(name: str) -> None:
    assert frontmatter._fast(DECLINED[name], 2) is None, f"{name!r} was taken"


def test_exact_values_and_lines_of_a_typical_result() -> None:
    """Spelled out, so a change in PyYAML or _Builder shows up here as well as in the comparison."""
    root, lines = frontmatter._fast(TYPICAL, 2) or ({}, {})
    assert root == {
        "kind": "result",
        "time": "03:17",
        "constituency": "Seat 0412",
        "author": "Reporter 07",
        "role": "BBC Radio Stoke",
        "breaking": "true",
        "electorate": "71234",
        "rejected": "150",
        "candidates": [
            {"name": "Candidate A", "party": "Lab", "votes": "16222"},
            {"name": "Candidate B", "party": "Con", "votes": "9,512"},
        ],
    }
    assert lines[()] == 2
    assert lines[("candidates",)] == 10
    assert lines[("candidates", 1)] == 14
    assert lines[("candidates", 1, "votes")] == 16
    assert _check(TYPICAL)


def test_declined_front_matter_keeps_the_slow_paths_errors() -> None:
    """Declining changes nothing: a duplicate field is still reported by _Builder, at its line."""
    with pytest.raises(InputError) as caught:
        frontmatter.read_entry(b"---\nkind: x\nkind: y\n---\nbody\n", "x.md")
    assert str(caught.value) == "x.md:3: duplicate field 'kind' (first at line 2)"
    with pytest.raises(InputError) as caught:
        frontmatter.read_entry(b"---\nkind: x\ntitle: a: b\n---\n", "x.md")
    assert str(caught.value) == (
        "x.md:3: YAML syntax: mapping values are not allowed in this context "
        '(a ": " inside a value: put the whole value in double quotes)'
    )


# -- (3) the fast path is taken for real entries ---------------------------------------------------------


def _front_of(data: bytes, path: str) -> tuple[str, int]:
    front, first, _, _ = frontmatter.split(frontmatter.decode(data, path), path)
    return front, first


def test_read_entry_uses_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the slow path made to fail, a typical entry still reads, with the body and lines it always had."""
    slow = frontmatter.read_entry(f"---\n{TYPICAL}---\nbody\n".encode(), "x.md")

    def refuse(*args: object) -> None:
        raise AssertionError("the slow path was used")

    monkeypatch.setattr(yamlread, "parse_yaml", refuse)
    fast = frontmatter.read_entry(f"---\n{TYPICAL}---\nbody\n".encode(), "x.md")
    assert fast == slow
    assert (fast.body, fast.body_line, fast.line_of(("candidates", 0, "party"))) == ("body\n", 18, 12)


def test_sample_entries_take_the_fast_path() -> None:
    paths = sorted((REPO / "entries").glob("*.md"))
    assert len(paths) > 40
    for path in paths:
        assert _check(*_front_of(path.read_bytes(), str(path))), path.name


def test_benchmark_workload_entries_take_the_fast_path() -> None:
    """Every entry of a 300-entry benchmark night (updates, results, turnouts, quotes) and the drops."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        workload = pytest.importorskip("workload")
    finally:
        sys.path.pop(0)
    night = workload.make_night(300)
    items = [*night.items, *(workload.drop_item(night, k, "t") for k in range(8))]
    assert {item.kind for item in items} == {"update", "result", "turnout", "quote"}
    for item in items:
        assert _check(*_front_of(workload.countnight_text(item).encode(), item.id)), item.id


def test_a_build_of_the_sample_night_never_imports_pyyaml() -> None:
    """Every sample entry takes the line reader, so a build's process need not load PyYAML (~14 ms a start)."""
    code = (
        "import sys; from pathlib import Path; from countnight.site import Site;"
        f"Site(Path({str(REPO)!r}), Path(sys.argv[1])).check();"
        "print('yaml' in sys.modules)"
    )
    with tempfile.TemporaryDirectory() as out:
        found = subprocess.run([sys.executable, "-c", code, out], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "False", found.stderr
