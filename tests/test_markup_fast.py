"""The fast path of ``markup.render_markdown`` gives exactly what Python-Markdown and nh3 give.

``markup._fast`` renders plain paragraphs and flat lists without either library; ``markup._render_slow`` is
the specification. (1) A hypothesis property over bodies built from allowed and forbidden characters and
structures: ``render_markdown`` equals the slow path for every example, and enough examples take the fast path
for the property to mean something. (2) One explicit case per boundary: what the fast path takes and each thing
that sends a body to the slow path. (3) Typical bodies, and every body of the benchmark workload, take the fast
path. Run with ``pytest -s`` to see how many examples took each path.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from countnight import markup

FAST = settings(max_examples=1500, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

TYPICAL = [
    "Counting is under way at the leisure centre, where the first boxes arrived at 23:40.\n\n"
    "Both main parties say it is too close to call.\n\n"
    "- Turnout looks lower than 2019\n"
    "- Postal votes were verified by midnight\n",
    "Candidate A wins Seat 0412 with a majority of 1,234. Candidate B is second. All figures here are synthetic.\n",
    "Turnout in Seat 0412 is 61.25%, against 63.10% last time.\n",
    "Speaking after the declaration.\n",
    'Agents say it\'s "closer than 2019" (Lab +5), with £1,200 spent on pizza & coffee – “a long night” 😀.\n',
    "The count in Cannock & Chase is *slowly* under way.\n\n**Breaking:** a recount has been called!\n",
]


def _expected(text: str) -> str:
    """What render_markdown gave before the fast path: the slow path behind the same two guards."""
    if not text.strip():
        return ""
    if len(text) > markup.MAX_MARKDOWN:
        return markup.plain_text_html(text)
    return markup._render_slow(text)


def _check(text: str) -> bool:
    """Assert the two paths agree on ``text``; say whether the fast path took it."""
    fast = markup._fast(text)
    slow = _expected(text)
    assert markup.render_markdown(text) == slow
    if fast is not None:
        assert fast == slow
    return fast is not None


# -- (1) the property ----------------------------------------------------------------------------------

# Mostly prose the fast path takes, so that many examples exercise it; the rest is everything that must not.
# A body is a flat list of tokens (cheap for hypothesis to draw and to shrink): words, joined by one space, and
# the line breaks, blank lines, markers and indentation around them, which are not.
SAFE_WORDS = [
    "Count", "votes", "the", "a", "2019", "23:40", "1,234", "61.25%", "£5", "€3", "$4", "@desk", "#GE2024", "café",
    "naïve", "–", "—", "“quoted”", "‘single’", "😀", "日本", "(Lab)", "!", "?", ".", ",", ";", ":", "'", '"', "/",
    "-", "+5", "+", "&", "*em*", "**strong**", "*two words*", "**more words**", "*em*.", "**strong**,", "https://e.org/x", "a@b.org", "x",
]  # fmt: skip
HOSTILE_WORDS = [
    "*", "**", "***", "*x", "x*", "a*b*c", "*x**", "_", "__x__", "`", "`code`", "\\", "\\*", "[", "]", "[a](b)",
    "![i](s)", "(", ")", "<", ">", "<b>", "<http://e.org>", "&amp;", "&#106;", "&x", "AT&T", "|", "a|b", "~", "~~",
    "=", "==", "{", "}", "^", "#", "## h", "--", "---", "1.", "1)", "12.", "٣.", "", " ", "  ", "\t", "\r",
    "\u00a0", "\u200b", "\u202e", "\u2028", "\u2029", "\x85", "\x00", "\x02", "\x03", "\x1b", "\ufeff",
    "\u3000", "\ufdd0", "\U0001f468\u200d\U0001f469",
]  # fmt: skip
SAFE_BREAKS = ["\n", "\n\n", "\n\n\n", "- ", "\n- ", "\n\n- ", "\n* ", "\n\n* ", "\n+ "]
HOSTILE_BREAKS = [
    "\n-  ", "\n - ", "\n  - ", "\n    - ", "\n    ", "\n\t", "\n \n", "\r\n", "\r\n\r\n", "\n1. ", "\n2) ",
    "\n# ", "\n---", "\n===", "\n> ", "\n-", "\n*", "\n| ", "  \n",
]  # fmt: skip
BREAKS = frozenset(SAFE_BREAKS + HOSTILE_BREAKS)


def _assemble(tokens: list[str]) -> str:
    """Tokens to a body: a space between two words, nothing around a break."""
    out: list[str] = []
    word_before = False
    for token in tokens:
        is_word = token not in BREAKS
        if is_word and word_before:
            out.append(" ")
        out.append(token)
        word_before = is_word
    return "".join(out)


def _insert(tokens: list[str], token: str, where: int) -> list[str]:
    """One hostile token dropped into clean prose: each trigger on its own, with no other to hide behind."""
    where %= len(tokens) + 1
    return [*tokens[:where], token, *tokens[where:]]


SAFE = SAFE_WORDS * 2 + SAFE_BREAKS + ["\n", "\n\n", "\n- "] * 2
clean = st.lists(st.sampled_from(SAFE), min_size=1, max_size=30)
one_hostile = st.builds(_insert, clean, st.sampled_from(HOSTILE_WORDS + HOSTILE_BREAKS), st.integers(0, 30))
mixed = st.lists(
    st.sampled_from(SAFE_WORDS * 6 + HOSTILE_WORDS + SAFE_BREAKS * 4 + HOSTILE_BREAKS), min_size=1, max_size=30
)
bodies = st.one_of(clean, one_hostile, mixed).map(_assemble)


def _report(name: str, outcomes: Counter[str]) -> None:
    print(f"\n{name}: {dict(outcomes)}")


def test_fast_path_matches_slow_path_on_generated_bodies() -> None:
    """3,000 structured bodies: render_markdown == Python-Markdown + nh3 every time, a good share taken fast."""
    outcomes: Counter[str] = Counter()

    @settings(FAST, max_examples=3000)
    @given(text=bodies)
    def run(text: str) -> None:
        outcomes["fast" if _check(text) else "slow"] += 1

    run()
    _report("structured", outcomes)
    assert outcomes["fast"] >= 0.2 * sum(outcomes.values())  # the property is not vacuous
    assert outcomes["slow"] >= 0.2 * sum(outcomes.values())


def test_fast_path_matches_slow_path_on_raw_characters() -> None:
    """1,000 bodies of characters without structure: every ASCII punctuation mark, whitespace and controls."""
    outcomes: Counter[str] = Counter()
    alphabet = st.sampled_from(list("ab1 .\n*-+#&;") + [chr(c) for c in range(0x21, 0x7F) if not chr(c).isalnum()])
    alphabet |= st.characters(codec="utf-8")

    @settings(FAST, max_examples=1000)
    @given(text=st.lists(alphabet, max_size=40).map("".join))
    def run(text: str) -> None:
        outcomes["fast" if _check(text) else "slow"] += 1

    run()
    _report("raw", outcomes)
    assert outcomes["fast"] >= 50


# -- (2) the boundaries --------------------------------------------------------------------------------

TAKEN = {
    "one line": "a",
    "trailing newline": "a\n",
    "paragraph lines keep their newline": "a\nb",
    "two paragraphs": "a\n\nb",
    "extra blank lines and edges": "\n\na\n\n\n\nb\n\n",
    "list": "- a\n- b",
    "star list": "* a\n* b",
    "plus list": "+ a\n+ b",
    "mixed markers are one list": "- a\n* b\n+ c",
    "paragraph then list": "a\n\n- x\n- y\n",
    "list then paragraph": "- x\n- y\n\na",
    "paragraph, list, paragraph": "a\n\n\n- x\n- y\n\n\nb",
    "quotes pass through nh3": "\"q\" it's 'x'",
    "non-ASCII passes through nh3": "£5 é – “x” 😀 日本",
    "ampersand before a space": "Cannock & Chase",
    "ampersand in a list": "- pizza & coffee",
    "interior double space": "a  b",
    "emphasis": "a *em* b",
    "strong": "a **st** b",
    "emphasis over the line": "*Figures are synthetic.*",
    "emphasis then punctuation": "x *a*. y *b*, z *c*!",
    "emphasis and strong": "*a* **b** c",
    "emphasis on two lines": "*a*\n*b*",
    "emphasis in an item": "- *a* b",
    "emphasis opening an item": "* *a*",
    "hash mid-line": "a #tag",
    "plus mid-line": "Lab +5",
    "dash mid-line": "a - b -5",
    "digits that are not a list": "1.5 million\n2,000 votes",
    "parentheses and bang": "a (b) !c",
    "lone bang": "x !",
    "bare URL and address (no autolink without <>)": "see https://e.org/x or a@b.org",
}
FALLS_BACK = {
    "backslash": "a \\* b",
    "backtick": "a `b` c",
    "underscore": "a _b_ c",
    "link": "[a](b)",
    "image": "![a](b)",
    "lone bracket": "a ] b",
    "angle bracket": "a < b",
    "greater than": "a > b",
    "html": "<b>x</b>",
    "entity": "a &amp; b",
    "numeric entity": "a &#106; b",
    "ampersand before a letter": "AT&T",
    "ampersand at the end": "a &",
    "pipe (tables)": "a | b\n--|--\n1 | 2",
    "tilde": "a ~ b",
    "equals": "a = b",
    "braces": "a {b} c",
    "caret": "a ^ b",
    "tab": "a\tb",
    "carriage return": "a\r\nb",
    "nbsp, which nh3 writes as &nbsp;": "a\u00a0b",
    "zero-width space": "a\u200bb",
    "bidi override": "a\u202eb",
    "line separator": "a\u2028b",
    "next line": "a\x85b",
    "byte-order mark": "\ufeffa",
    "control character": "a\x1bb",
    "placeholder STX": "a\x02b",
    "ideographic space": "a\u3000b",
    "noncharacter": "a\ufdd0b",
    "leading space": " a",
    "trailing space": "a ",
    "two trailing spaces (<br>)": "a  \nb",
    "indented code": "    a",
    "space-only line": "a\n \nb",
    "heading": "# a",
    "heading in an item": "- # a",
    "setext underline": "a\n---",
    "rule": "- - -",
    "star rule": "* * *",
    "ordered list": "1. a",
    "ordered list with )": "1) a",
    "ordered item in a list": "- 1. a",
    "year then full stop": "2019.",
    "nested list": "- a\n  - b",
    "list nested in an item": "- - a",
    "lazy continuation": "- a\nb",
    "list straight after a paragraph": "a\n- x",
    "plus straight after a paragraph": "a\n+ x",
    "blank line between lists (loose)": "- a\n\n- b",
    "two spaces after the marker": "-  a",
    "empty item": "- ",
    "dash starting a line": "-5 degrees",
    "plus starting a line": "+5 swing",
    "intraword emphasis": "a*b*c",
    "emphasis after a bracket": "(*sic*)",
    "unpaired star": "a *b",
    "lone star": "a * b",
    "star run of three": "***a***",
    "nested emphasis": "*a *b* c*",
    "mismatched runs": "*a**",
    "closer before a letter": "*a*b",
    "closer after a space": "*a *",
    "opener before a space": "* a*",
    "emphasis across lines": "*a\nb*",
}


@pytest.mark.parametrize("name", sorted(TAKEN))
def test_fast_path_takes(name: str) -> None:
    assert _check(TAKEN[name]), f"{name!r} fell back"


@pytest.mark.parametrize("name", sorted(FALLS_BACK))
def test_fast_path_falls_back(name: str) -> None:
    assert not _check(FALLS_BACK[name]), f"{name!r} was taken"


def test_exact_html_of_a_typical_body() -> None:
    """The shapes Python-Markdown gives (spelled out, so a change in either library shows up here too)."""
    assert markup.render_markdown(TYPICAL[0]) == (
        "<p>Counting is under way at the leisure centre, where the first boxes arrived at 23:40.</p>\n"
        "<p>Both main parties say it is too close to call.</p>\n"
        "<ul>\n<li>Turnout looks lower than 2019</li>\n<li>Postal votes were verified by midnight</li>\n</ul>"
    )
    assert markup.render_markdown("a\nb & *c*\n\n**d**") == "<p>a\nb &amp; <em>c</em></p>\n<p><strong>d</strong></p>"


def test_safety_guards_come_first() -> None:
    """Blank bodies and bodies over MAX_MARKDOWN behave as before, whatever the fast path would say."""
    assert markup.render_markdown("\n \n") == ""
    long_body = "\n\n".join(["A plain paragraph."] * (markup.MAX_MARKDOWN // 10))
    assert markup._fast(long_body) is not None
    assert markup.render_markdown(long_body) == markup.plain_text_html(long_body)


# -- (3) the fast path is taken for real bodies ----------------------------------------------------------


@pytest.mark.parametrize("index", range(len(TYPICAL)))
def test_typical_bodies_take_the_fast_path(index: int) -> None:
    assert _check(TYPICAL[index])


def test_benchmark_workload_bodies_take_the_fast_path() -> None:
    """Every body of the benchmark night (updates with a list and *emphasis*, results, turnouts, quotes)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    try:
        workload = pytest.importorskip("workload")
    finally:
        sys.path.pop(0)
    items = workload.make_night(400).items
    assert {item.kind for item in items} == {"update", "result", "turnout", "quote"}
    for item in items:
        assert _check(item.body), item.body


def test_an_empty_table_corner_is_a_cell_not_a_nameless_header() -> None:
    """axe-core (empty-table-header) and screen readers want every <th> to say something."""
    html = markup.render_markdown("| | Seats |\n|:--|--:|\n| Lab | 3 |\n")
    assert "<th></th>" not in html and "<td></td>" in html and "<th>Seats</th>" in html
