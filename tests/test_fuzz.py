"""Fuzzing entry files: whatever bytes a reporter's editor, a sync tool or a cat on the keyboard leaves in
entries/, parsing gives an ``Entry`` or ``InputError`` (with a file and a line) and nothing else, a
valid entry renders, and a build over a folder of such files never raises.

Strategies: (a) random bytes; (b) YAML-ish text built from YAML's own syntax, real field names and
the values YAML 1.1 likes to reinterpret, between ``---`` fences, in several encodings and line ends;
(c) front matter as data — real and unknown fields, right and wrong types, nested lists and maps, huge
numbers, NaN, unicode, control characters — dumped to YAML, with or without a BOM and CRLF. Each test
prints how many cases it ran (``pytest -s``); RELIABILITY.md has the counts and the command.
"""

from __future__ import annotations

import os
import shutil
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import AFTER_THE_NIGHT, BASELINE, CONFIG, DURING_THE_NIGHT, write_blog
from countnight import markup
from countnight.baseline import load_baseline
from countnight.config import parse_config
from countnight.entries import parse_entry
from countnight.errors import InputError, Problem
from countnight.frontmatter import MAX_BYTES
from countnight.models import KINDS, Context
from countnight.render import load_theme, render_entry
from countnight.site import Site
from countnight.views import make_view

PATH = "entries/0317-fuzz.md"
EVENT = parse_config(CONFIG.encode(), "countnight.toml")
FIELDS = [
    "kind", "time", "title", "author", "role", "breaking", "key", "pinned", "status", "updated", "correction",
    "constituency", "candidates", "electorate", "rejected", "recount", "winner", "turnout", "ballots",
    "previous", "speaker", "speaker_role", "quote", "id", "body",
]  # fmt: skip
CANDIDATE_FIELDS = ["name", "party", "votes"]
# Values YAML 1.1 would turn into something else, times in and out of range, numbers as reporters type them.
TRICKY = [
    "", " ", "~", "null", "NULL", "yes", "NO", "on", "Off", "true", "y", "0123", "0x1F", "0o17", "1e3", "1_000",
    "16,222", "1,2,3", ",", "-1", "-0", "+5", "65.39", "65.39%", "100.0001", "NaN", ".nan", ".inf", "-.inf",
    "1e400", "9" * 5000, "03:17", "3.17", "23:45", "24:00", "00:00:60", "22:00", "12:00", "2024-07-05T03:17:00+01:00",
    "2024-07-05T03:17:00", "2024-07-05 03:17", "2024-10-27T01:30:00", "2024-03-31T01:30:00",
    "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00", "9999-12-31T23:59:59",
    "2024-07-05T03:17:00+23:59", "2024-07-05T03:17:00Z", "Lab", "con", "Reform UK", "Labour", "Ind", "Spk",
    "Stafford", "cannock  CHASE", "Cannock & Chase", "result", "RESULT", " quote ", "draft", "withdrawn",
    "published", "\ufeff", "\u202e", "\u2028", "\x85", "\x1b[31m", "a\x00b", "\ud7ff", "😀" * 10, "<b>x</b>",
]  # fmt: skip
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-32", "latin-1", "cp1252", "shift_jis"]


@pytest.fixture(scope="module")
def contexts(tmp_path_factory: pytest.TempPathFactory) -> list[Context]:
    """The night without a baseline (free constituency names) and with one (names must match)."""
    folder = tmp_path_factory.mktemp("baseline")
    (folder / "baseline.csv").write_text(BASELINE)
    baseline = load_baseline(folder / "baseline.csv", "baseline.csv")
    return [Context(EVENT.window), Context(EVENT.window, baseline)]


@pytest.fixture(scope="module")
def theme(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return load_theme(tmp_path_factory.mktemp("theme-root"))


def check(data: bytes, context: Context, theme: Any, outcomes: Counter[str]) -> None:
    """The property: an Entry that renders, or InputError naming this file; any other exception fails."""
    try:
        entry = parse_entry(data, PATH, context)
    except InputError as err:
        assert err.problems, "an InputError with no problem in it"
        for problem in err.problems:
            assert isinstance(problem, Problem) and problem.path == PATH
            assert isinstance(problem.line, int) and problem.line >= 0
            assert problem.message and isinstance(problem.message, str)
        outcomes["refused"] += 1
        return
    view = make_view(entry, context.baseline, EVENT.timezone)
    html = render_entry(theme, view)
    assert f'id="{entry.id}"' in html
    entry.model_dump_json()
    outcomes[f"valid {entry.kind}"] += 1


def _report(name: str, outcomes: Counter[str]) -> None:
    print(f"\nRELIABILITY fuzz-{name}: {dict(sorted(outcomes.items()))}")


# -- strategies ----------------------------------------------------------------------------------

YAML_BITS = [
    "-", ":", ": ", "- ", "? ", "[", "]", "{", "}", "#", "&a ", "*a", "!", "!!str ", "!!python/object ", "|", ">",
    "'", '"', "%YAML 1.1", "@", "`", ",", "\\", "\t", "  ", "\n", "\n  ", "---", "...", "<<: ", "=", "\r", "\x00",
]  # fmt: skip
token = st.one_of(
    st.sampled_from(YAML_BITS),
    st.sampled_from(FIELDS + CANDIDATE_FIELDS),
    st.sampled_from(TRICKY),
    st.text(max_size=6),
)
yaml_line = st.lists(token, max_size=8).map("".join)
line_ends = st.sampled_from(["\n", "\r\n", "\r"])


@st.composite
def yamlish_files(draw: st.DrawFn) -> bytes:
    front = "\n".join(draw(st.lists(yaml_line, max_size=12)))
    opening = draw(st.sampled_from(["---", "--- ", "---\t", "----", "", "+++"]))
    closing = draw(st.sampled_from(["---", "...", "--- # end", "", "---\n---"]))
    body = draw(st.text(max_size=120))
    text = f"{opening}\n{front}\n{closing}\n{body}".replace("\n", draw(line_ends))
    return _encode(draw, text)


def _encode(draw: st.DrawFn, text: str) -> bytes:
    encoding = draw(st.sampled_from(ENCODINGS))
    # surrogatepass writes lone surrogates as (invalid) UTF-8/16/32; other codecs replace what they lack.
    errors = draw(st.sampled_from(["surrogatepass", "replace"])) if encoding.startswith("utf") else "replace"
    data = text.encode(encoding, errors=errors)
    if draw(st.booleans()) and encoding == "utf-8":
        data = b"\xef\xbb\xbf" + data
    return data


scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(),
    st.text(max_size=20),
    st.sampled_from(TRICKY),
    st.datetimes(),
    st.dates(),
)
value = st.recursive(
    scalar,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(FIELDS + CANDIDATE_FIELDS) | st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=6,
)
good_time = st.sampled_from(["03:17", "22:05", "2024-07-05T03:17:00+01:00", "04:59:59", "11:59"])
candidate = st.dictionaries(
    st.sampled_from([*CANDIDATE_FIELDS, "extra"]),
    st.sampled_from(["Ann Smith", "Lab", "Reform UK", "Monster Raving Loony", "", 16222, "16,222", 0, -5]) | value,
    max_size=4,
)
field_value = {
    "kind": st.sampled_from([*KINDS, "Result", "bogus", None, 5]) | value,
    "time": good_time | value,
    "candidates": st.lists(candidate, max_size=4) | value,
    "constituency": st.sampled_from(["Stafford", "Cannock Chase", "Nowhere"]) | value,
}


@st.composite
def front_matter(draw: st.DrawFn) -> dict[str, Any]:
    """Real and unknown fields with values of any shape, the kind and time usually present."""
    front: dict[str, Any] = {}
    for name in ("kind", "time"):
        if draw(st.integers(0, 4)):
            front[name] = draw(field_value[name])
    for name in draw(st.lists(st.sampled_from([*FIELDS, "unknown_field"]) | st.text(max_size=10), max_size=5)):
        front[name] = draw(field_value.get(name, value))
    return front


# A valid entry of each kind, for mutations that reach the models' checks, the arithmetic and the template.
VALID: dict[str, dict[str, Any]] = {
    "update": {"time": "03:17", "title": "Polls closed"},
    "result": {
        "time": "03:17",
        "constituency": "Stafford",
        "candidates": [
            {"name": "Ann Smith", "party": "Lab", "votes": "16,222"},
            {"name": "Bob Jones", "party": "Con", "votes": 12000},
        ],
    },
    "turnout": {"time": "03:17", "constituency": "Stafford", "turnout": "65.39%"},
    "quote": {"time": "03:17", "speaker": "Ann Smith", "quote": "Thank you, Stafford."},
    "summary": {"time": "03:17"},
}


@st.composite
def mutated_valid(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(sorted(VALID)))
    front: dict[str, Any] = {"kind": kind, **VALID[kind]}
    front = {**front, "candidates": [dict(c) for c in front["candidates"]]} if "candidates" in front else front
    for name, new in draw(st.lists(st.tuples(st.sampled_from(FIELDS), value), max_size=3)):
        front[name] = new
    for name in draw(st.lists(st.sampled_from(sorted(front)), max_size=1)):
        del front[name]
    if isinstance(front.get("candidates"), list) and front["candidates"] and draw(st.booleans()):
        first = front["candidates"][0]
        if isinstance(first, dict):
            first[draw(st.sampled_from([*CANDIDATE_FIELDS, "extra"]))] = draw(value)
    return front


@st.composite
def structured_files(draw: st.DrawFn) -> bytes:
    front = draw(front_matter() | mutated_valid())
    text = yaml.dump(
        front,
        Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper),
        allow_unicode=draw(st.booleans()),
        default_flow_style=draw(st.sampled_from([False, True, None])),
        sort_keys=False,
        width=draw(st.sampled_from([40, 80, 1 << 20])),
    )
    body = draw(
        st.sampled_from(
            ["", "Some text.", "Some text.", "Some text.", "**bold** [link](https://example.org)", "# Head\n\n- a\n- b"]
        )
    )
    text = f"---\n{text}---\n{body}\n".replace("\n", draw(st.sampled_from(["\n", "\r\n"])))
    data = text.encode("utf-8", errors="surrogatepass")
    return (b"\xef\xbb\xbf" + data) if draw(st.booleans()) else data


FAST = settings(max_examples=1500, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


# -- the properties ------------------------------------------------------------------------------


def _fuzz(
    strategy: st.SearchStrategy[bytes], contexts: list[Context], theme: Any, label: str, examples: int
) -> Counter[str]:
    """Every generated file through every context (check), then the tally printed under ``label``."""
    outcomes: Counter[str] = Counter()

    @settings(FAST, max_examples=examples)
    @given(data=strategy)
    def run(data: bytes) -> None:
        outcomes["examples"] += 1
        for context in contexts:
            check(data, context, theme, outcomes)

    run()
    _report(label, outcomes)
    return outcomes


def test_random_bytes(contexts: list[Context], theme: Any) -> None:
    strategy = st.binary(max_size=2048) | st.binary(max_size=512).map(lambda b: b"---\n" + b + b"\n---\n")
    _fuzz(strategy, contexts, theme, "bytes", 1500)


def test_yamlish_text(contexts: list[Context], theme: Any) -> None:
    _fuzz(yamlish_files(), contexts, theme, "yaml-text", 1000)


def test_structured_front_matter(contexts: list[Context], theme: Any) -> None:
    outcomes = _fuzz(structured_files(), contexts, theme, "structured", 1000)
    assert any(k.startswith("valid") for k in outcomes), "the strategy never reached a valid entry"


BIG = [
    pytest.param(b"---\ntitle: x\ntime: 03:17\n---\n" + b"a" * (MAX_BYTES - 28), id="just-under-1MiB"),
    pytest.param(b"---\ntitle: x\ntime: 03:17\n---\n" + b"a" * MAX_BYTES, id="over-1MiB"),
    pytest.param(b"---\ntitle: " + b"[" * 100_000 + b"\n---\n", id="100k-open-brackets"),
    pytest.param(b"---\ntitle: " + b"[" * 5_000 + b"]" * 5_000 + b"\ntime: 03:17\n---\n", id="5k-nested-lists"),
    pytest.param(b"---\n" + b"".join(b"  " * i + b"a:\n" for i in range(700)) + b"---\n", id="700-nested-maps"),
    pytest.param(b"---\n" + b"".join(b"k%d: v\n" % i for i in range(5_000)) + b"---\n", id="5k-keys"),
    pytest.param(b"---\ntitle: " + b"x" * 900_000 + b"\ntime: 03:17\n---\n", id="900k-title"),
    pytest.param(
        b"---\nkind: result\nconstituency: Stafford\ntime: 03:17\ncandidates:\n"
        + b"".join(b"- {name: c%d, party: Lab, votes: %d}\n" % (i, i) for i in range(5_000))
        + b"---\n",
        id="5k-candidates",
    ),
    pytest.param(
        b"---\nkind: result\nconstituency: Stafford\ntime: 03:17\ncandidates:\n"
        b"- {name: a, party: Lab, votes: " + b"9" * 4300 + b"}\n- {name: b, party: Con, votes: 1}\n---\n",
        id="4300-digit-votes",
    ),
    pytest.param(b"---\ntime: 03:17\ntitle: x\n---\n" + b"\n" * 500_000, id="500k-blank-lines"),
    pytest.param(b"---\ntime: 03:17\ntitle: x\n---\n" + b"> " * 50_000 + b"deep quote", id="50k-nested-quotes"),
    pytest.param(b"---\ntime: 03:17\ntitle: x\n---\n" + b"*" * 200_000, id="200k-stars"),
    pytest.param(b"\xef\xbb\xbf\xef\xbb\xbf---\ntime: 03:17\ntitle: x\n---\n", id="double-BOM"),
    pytest.param("---\ntime: 03:17\ntitle: x\n---\n".encode("utf-16"), id="utf-16"),
    pytest.param(b"---\ntime: 03:17\ntitle: \xc0\xbcscript\xc0\xbe\n---\n", id="overlong-utf-8"),
    pytest.param(b"---\ntime: 03:17\ntitle: \xed\xa0\x80\n---\n", id="encoded-surrogate"),
]


@pytest.mark.parametrize("data", BIG)
def test_big_and_deep_files(data: bytes, contexts: list[Context], theme: Any) -> None:
    outcomes: Counter[str] = Counter()
    for context in contexts:
        check(data, context, theme, outcomes)


# -- whole builds ---------------------------------------------------------------------------------

entry_names = st.sampled_from(
    ["0317-a.md", "0318-b.md", "x.md", "_draft.md", ".hidden.md", "a.md~", "a.md.swp", "a.tmp", "a b.md",
     "ünï.md", "-x.md", "..md", "0317-a.MD", "notes.txt"]
)  # fmt: skip
valid_file = st.sampled_from(sorted(VALID)).map(
    lambda kind: f"---\n{yaml.safe_dump({'kind': kind, **VALID[kind]})}---\nSome text.\n".encode()
)
any_file = valid_file | structured_files() | yamlish_files() | st.binary(max_size=300)


def test_builds_never_raise(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One ``Site``, as the watcher keeps it, over a folder whose entries/ is refilled with a handful of random
    files for each example (with and without a baseline), built twice with an edit between: ``Site.build``
    (the loop the watcher runs) never raises and always publishes."""
    monkeypatch.setattr(os, "fsync", lambda fd: None)  # durability is not under test: fsync is slow here
    outcomes: Counter[str] = Counter()
    root = write_blog(tmp_path / "blog", {"baseline.csv": BASELINE})
    site = Site(root)

    @settings(FAST, max_examples=60)
    @given(
        files=st.dictionaries(entry_names, any_file, min_size=1, max_size=5),
        edit=st.tuples(entry_names, any_file),
        baseline=st.booleans(),
        now=st.sampled_from([AFTER_THE_NIGHT, DURING_THE_NIGHT]),
    )
    def run(files: dict[str, bytes], edit: tuple[str, bytes], baseline: bool, now: datetime) -> None:
        shutil.rmtree(root / "entries")
        (root / "entries").mkdir()
        for name, data in files.items():
            (root / "entries" / name).write_bytes(data)
        (root / "countnight.toml").write_text(CONFIG + ('baseline = "baseline.csv"\n' if baseline else ""))
        first = site.build(now)
        assert first.built, first.warnings
        (root / "entries" / edit[0]).write_bytes(edit[1])
        second = site.build(now)
        assert second.built, second.warnings
        assert (root / "site" / "index.html").is_file()
        outcomes["examples"] += 1
        outcomes["builds"] += 2
        outcomes["files"] += len(files)
        outcomes["problems"] += len(first.problems) + len(second.problems)
        outcomes["entries shown"] += first.live + second.live

    run()
    _report("builds", outcomes)


# Any character at all, controls, noncharacters and the private planes included (a file cannot hold a lone surrogate:
# UTF-8 refuses to encode one, YAML and TOML to escape one; tests/test_xml_outputs.py gives those to the escaper).
any_text = st.text(st.characters(codec="utf-8", exclude_categories=()), max_size=12)


def test_generated_unicode_in_every_text_field_keeps_every_xml_output_well_formed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Generated Unicode in every free-text field of every kind, the config's title and editor, the baseline's
    constituency names and the bodies; each site built by one ``Site`` (as the watcher keeps it) and its
    atom.xml read by a real XML parser (expat). Nothing raises, every valid entry is in the feed."""
    from xml.etree import ElementTree

    from test_xml_outputs import night_with, toml_quoted

    monkeypatch.setattr(os, "fsync", lambda fd: None)
    outcomes: Counter[str] = Counter()
    root = tmp_path / "blog"
    site = Site(root)

    @settings(FAST, max_examples=150)
    @given(text=any_text, title=any_text, body=any_text)
    def run(text: str, title: str, body: str) -> None:
        raw = body.replace("\x00", "")  # a NUL byte makes the file binary (refused): the escapes carry it
        files = night_with(text, raw)
        files["baseline.csv"] = "constituency,electorate,turnout,winner,Lab,Con\nStafford,70608,72.70,Con,31.20,57.94\n"
        if root.exists():
            shutil.rmtree(root)
        config = CONFIG.replace('title = "Test night"', f"title = {toml_quoted('Test ' + title)}")
        config = config.replace('editor = "Tim Page"', f"editor = {toml_quoted('Tim ' + text)}")
        write_blog(root, files, config=config + 'baseline = "baseline.csv"\n')
        report = site.build(AFTER_THE_NIGHT)
        assert report.built, (report.problems, report.warnings)
        feed = ElementTree.fromstring((root / "site/atom.xml").read_bytes())
        shown = len(feed.findall("{http://www.w3.org/2005/Atom}entry"))
        assert shown == report.live - 1  # every entry shown is in the feed (the summary is the box)
        outcomes["examples"] += 1
        outcomes["feeds parsed"] += 1
        outcomes["feed entries"] += shown
        outcomes["refused entries"] += len(report.rejected)

    run()
    _report("xml", outcomes)
    assert outcomes["feed entries"] > 0


@st.composite
def slipped_parties(draw: st.DrawFn) -> str:
    """A party as a reporter might type it: a name or code we know with slips in it, or any text at all."""
    from countnight.parties import _PARTIES

    known = draw(st.sampled_from([n for p in _PARTIES for n in (p.code, p.name, p.subject, *p.aliases)]))
    chars = list(known)
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, max(len(chars) - 1, 0)))
        action = draw(st.sampled_from(["drop", "double", "swap", "replace", "case"]))
        if not chars:
            break
        if action == "drop":
            del chars[at]
        elif action == "double":
            chars.insert(at, chars[at])
        elif action == "swap" and at + 1 < len(chars):
            chars[at], chars[at + 1] = chars[at + 1], chars[at]
        elif action == "replace":
            chars[at] = draw(st.characters(codec="utf-8", exclude_categories=("Cs",)))
        else:
            chars[at] = chars[at].swapcase()
    return draw(st.just("".join(chars)) | st.text(max_size=30))


count_texts = (
    st.integers(6, 99_999).map(str)
    | st.text(alphabet="0123456789.,' -−%e+", max_size=20)
    | st.from_regex(r"-?\d{1,12}([., ']\d{3}){0,4}", fullmatch=True)
)


def test_slipped_parties_and_counts_are_read_refused_with_a_hint_or_warned(contexts: list[Context], theme: Any) -> None:
    """Any party text (known names with up to three slips, or anything) and any count text: an entry or a
    problem naming the file, never a crash; a party refused names a party we know, one accepted that we do
    not know is never one edit from ours (it gets a warning, see test_party_slips.py)."""
    from countnight.parties import is_known, near_party

    outcomes: Counter[str] = Counter()

    @settings(FAST, max_examples=1500)
    @given(party=slipped_parties(), votes=count_texts)
    def run(party: str, votes: str) -> None:
        quoted = yaml.safe_dump(party, default_style='"', width=10_000).strip()
        data = (
            '---\nkind: result\ntime: "03:17"\nconstituency: Stafford\ncandidates:\n'
            f'  - {{name: A, party: {quoted}, votes: "{votes}"}}\n'
            "  - {name: B, party: Con, votes: 5}\n---\n"
        ).encode()
        outcomes["examples"] += 1
        for context in contexts:
            try:
                entry = parse_entry(data, PATH, context)
            except InputError as err:
                for problem in err.problems:
                    assert problem.path == PATH and problem.line > 0, problem
                    if ".party:" in problem.message and "did you mean" in problem.message:
                        outcomes["party slip refused"] += 1
                outcomes["refused"] += 1
                continue
            code = entry.candidates[0].party  # type: ignore[union-attr]
            if not is_known(code):
                assert near_party(code) is None, code
                outcomes["unknown party, warned"] += 1
            else:
                outcomes["known party"] += 1

    run()
    _report("parties-and-counts", outcomes)
    assert outcomes["party slip refused"] > 0 and outcomes["known party"] > 0


# -- what fuzzing found: each of these took down a whole build (or the machine) before its fix ------------

FOUND = [
    # frontrules.MAX_DEPTH: 100 KB of "[" cost 40 GB (each value's location is a tuple as long as its depth)
    pytest.param("---\ntitle: " + "[" * 100_000 + "\n---\n", "nested more than 20 levels", id="depth-bomb"),
    # the same bomb as flow mappings and mixed: PyYAML's own depth limit and ours give one message
    pytest.param("---\ntitle: " + "{a: " * 50_000 + "\n---\n", "nested more than 20 levels", id="depth-bomb-mappings"),
    pytest.param("---\ntitle: " + "[{a: " * 30_000 + "\n---\n", "nested more than 20 levels", id="depth-bomb-mixed"),
    # models: these validated, then the arithmetic or the page raised and the build stopped
    pytest.param(
        "---\nkind: result\ntime: 03:17\nconstituency: Stafford\ncandidates:\n- {name: A, party: Lab, votes: 0}\n---\n",
        "no candidate has any votes",
        id="result-without-votes",
    ),
    pytest.param(
        "---\nkind: result\ntime: 03:17\nconstituency: Stafford\ncandidates:\n- {name: A, party: Lab, votes: 80000}\n---\n",
        "more than the baseline's electorate of 70,608",
        id="more-ballots-than-the-baseline-electorate",
    ),
    pytest.param(
        "---\nkind: turnout\ntime: 03:17\nconstituency: Stafford\nballots: 100\nelectorate: 0\n---\n",
        "electorate: must be more than 0",
        id="turnout-electorate-0",
    ),
    pytest.param(
        "---\nkind: result\ntime: 03:17\nconstituency: Stafford\ncandidates:\n- {name: A, party: Lab, votes: "
        + "9" * 4300
        + "}\n---\n",
        "too large to be a count",
        id="4300-digit-votes",
    ),
    pytest.param("---\ntitle: x\ntime: 0001-01-01T00:00:00+14:00\n---\n", "out of range", id="year-1-at-plus-14"),
    pytest.param(
        "---\ntitle: x\ntime: 03:17\nupdated: 9999-12-31T23:59:59-12:00\n---\n", "out of range", id="year-9999"
    ),
]


@pytest.mark.parametrize(("text", "message"), FOUND)
def test_found_by_fuzzing_is_a_problem_not_a_crash(
    text: str, message: str, blog: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "fsync", lambda fd: None)
    root = blog(
        {"baseline.csv": BASELINE, "entries/0317-found.md": text.encode(), "entries/0318-fine.md": VALID_FILE},
        config=CONFIG + 'baseline = "baseline.csv"\n',
    )
    report = Site(root).build(AFTER_THE_NIGHT)
    assert report.built
    assert [p.path for p in report.problems] == ["entries/0317-found.md"]
    assert message in report.problems[0].message and report.problems[0].line > 0
    assert b"0318-fine" in (root / "site" / "index.html").read_bytes()


VALID_FILE = b"---\ntime: 03:18\ntitle: Fine\n---\nStill here.\n"

# Bodies that made Python-Markdown rescan the rest of a paragraph from every "[" or "<" (10 KB of "["
# took 19 s, 20 KB minutes) or recurse past Python's limit (1,000 nested list levels).
BOMBS = {
    "open-brackets": "[" * 19_990,
    "image-openers": "![" * 9_995,
    "nested-links": "[" * 2_400 + "x" + "](y)" * 2_400,
    "unclosed-links": "[a](" * 4_990,
    "angle-brackets": "<http://a" * 2_200,
    "nested-quotes": "> " * 9_990,
    "nested-lists": "".join("\t" * i + "- x\n" for i in range(190)),
    "over-the-limit": "".join("  " * i + "- x\n" for i in range(1_000)),  # 1 MB: shown as plain text
}


@pytest.mark.parametrize("name", sorted(BOMBS))
def test_markdown_bombs_render_in_bounded_time(name: str) -> None:
    # CPU time, not wall time: a loaded machine (other test workers, other builds) must not fail the bound
    started = time.process_time()
    html = markup.render_markdown(BOMBS[name])
    seconds = time.process_time() - started
    assert html and markup.clean(html) == html
    assert seconds < 10, f"{name}: {seconds:.1f} s of CPU"  # under 1 s; minutes before the fix


def test_a_body_markdown_cannot_parse_is_shown_as_text(monkeypatch: pytest.MonkeyPatch) -> None:
    class Deep:
        def convert(self, text: str) -> str:
            raise RecursionError

        def reset(self) -> None:
            pass

    monkeypatch.setattr(markup, "_converter", Deep)
    assert markup.render_markdown("a <b>\n\nc") == "<p>a &lt;b&gt;</p>\n<p>c</p>\n"


markdown_text = st.lists(
    st.sampled_from(["[", "]", "(", ")", "!", "<", ">", "*", "_", "`", "#", "-", "|", "\n", "\n\n", "    ", "\t", "&",
                     ";", ":", "\\", '"', "'", "x", " ", "javascript:", "http://e.org", "<img src=x onerror=alert(1)>",
                     "<a href=", "&#106;", "1."])
    | st.text(max_size=3),
    max_size=80,
).map("".join)  # fmt: skip


def test_markdown_bodies() -> None:
    """Any body renders, and what it renders to is a fixed point of the sanitiser (nothing left to remove)."""
    outcomes: Counter[str] = Counter()

    @settings(FAST, max_examples=1000)
    @given(text=markdown_text)
    def run(text: str) -> None:
        html = markup.render_markdown(text)
        assert markup.clean(html) == html
        outcomes["examples"] += 1

    run()
    _report("markdown", outcomes)


def test_bounded_link_scan_matches_python_markdown() -> None:
    """``markup._link_text`` finds the same link text as Python-Markdown's own scan, wherever that finds one
    within ``_LINK_SPAN`` characters."""
    from markdown.inlinepatterns import LINK_RE, LinkInlineProcessor

    stock = LinkInlineProcessor(LINK_RE)  # the library's own processor, as Markdown registers it
    outcomes: Counter[str] = Counter()

    @settings(FAST, max_examples=1000)
    @given(text=st.text(alphabet="[[]]x (", max_size=60), pick=st.data())
    def run(text: str, pick: st.DataObject) -> None:
        data = "[" + text  # called just after an opening "[", as the link patterns call it
        index = pick.draw(st.sampled_from([i + 1 for i, c in enumerate(data) if c == "["]))
        theirs = stock.getText(data, index)
        ours = markup._link_text(data, index)
        assert ours[2] == theirs[2]
        if theirs[2]:
            assert ours == theirs
        outcomes["found" if theirs[2] else "none"] += 1

    run()
    _report("link-scan", outcomes)


def test_bounded_links_render_as_python_markdown_does() -> None:
    """The bounded link processors (markup's own extension) give exactly stock Python-Markdown's HTML for
    links, images and references whose parts are shorter than the bound: the test that tells an upgrade
    of Markdown changed what the extension relies on."""
    import markdown

    stock = markdown.Markdown(extensions=markup._EXTENSIONS, output_format="html")
    ours = markup._converter()
    outcomes: Counter[str] = Counter()
    pieces = st.sampled_from(
        ["[", "]", "(", ")", "![", "x", " ", "<", ">", '"t"', "'t'", "http://a.b/c", "\n", "[r]", "[r]: /u\n", "*"]
    )

    @settings(FAST, max_examples=600)
    @given(parts=st.lists(pieces, max_size=30))
    def run(parts: list[str]) -> None:
        text = "".join(parts)
        try:
            expected = stock.convert(text)
        finally:
            stock.reset()
        try:
            got = ours.convert(text)
        finally:
            ours.reset()
        assert got == expected, text
        outcomes["link" if "<a " in expected or "<img " in expected else "plain"] += 1

    run()
    _report("bounded-links", outcomes)
    assert outcomes["link"] > 0


# -- file names, links and editor commands (issue 17) ----------------------------------------------

ID_ALPHABET = "abcXYZ0189-_."
DANGEROUS_CHARS = [chr(c) for c in [*range(1, 0x20), 0x7F, *range(0x80, 0xA0)]] + [
    "\u061c", "\u200e", "\u200f", "\u202a", "\u202e", "\u2066", "\u2069", "\u2028", "\u2029", "\ufeff",
]  # fmt: skip
_name_char = st.characters(blacklist_categories=["Cs"], blacklist_characters="/\0") | st.sampled_from(DANGEROUS_CHARS)


@st.composite
def file_stems(draw: st.DrawFn) -> str:
    """An entry file's name without ``.md``: any characters (controls, bidi, any script, bytes that are not
    UTF-8), any length up to what a file name can hold, with the allowed characters and the lengths at the
    file system's limits drawn often."""
    shape = draw(st.sampled_from(["any", "allowed", "long", "long-then-odd", "bytes"]))
    if shape == "any":
        stem = draw(st.text(_name_char, min_size=1, max_size=40))
    elif shape == "allowed":
        stem = draw(st.sampled_from("abc019")) + draw(st.text(st.sampled_from(ID_ALPHABET), max_size=30))
    elif shape == "long":
        stem = "a" * draw(st.integers(200, 252))
    elif shape == "long-then-odd":
        stem = "b" * draw(st.integers(180, 240)) + draw(_name_char)
    else:  # bytes that are not UTF-8: os functions take lone surrogates back to those bytes
        raw = draw(st.binary(min_size=1, max_size=30).filter(lambda b: b"/" not in b and b"\0" not in b))
        stem = raw.decode("utf-8", "surrogateescape")
    return stem


def _fits(stem: str) -> bool:
    name = stem + ".md"
    return stem not in (".", "..") and len(name.encode("utf-8", "surrogateescape")) <= 255


GOOD_ENTRY = b"---\ntime: '01:30'\ntitle: The good one\n---\nStill published.\n"
NAMED_ENTRY = b"---\ntime: '01:00'\ntitle: Named\n---\nText.\n"


def test_any_file_name_publishes_or_is_that_files_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Random names (every control, bidi and Unicode character, bytes that are not UTF-8, every length up to
    NAME_MAX) in one folder with a good entry: the build never raises and always publishes; a name that is
    an id and fits the output folder has its share page; every other one is exactly that file's problem (or
    not an entry at all, by SPEC's rules); and the console line about each holds no control character."""
    from io import StringIO

    from countnight.console import Console
    from countnight.names import is_entry_name, is_id, longest_id

    monkeypatch.setattr(os, "fsync", lambda fd: None)
    outcomes: Counter[str] = Counter()
    root = write_blog(tmp_path / "blog", {})
    limit = longest_id(root / "site")
    site = Site(root)

    @settings(FAST, max_examples=150)
    @given(stems=st.lists(file_stems().filter(_fits), min_size=1, max_size=8, unique=True))
    def run(stems: list[str]) -> None:
        shutil.rmtree(root / "entries")
        (root / "entries").mkdir()
        (root / "entries" / "zz-good.md").write_bytes(GOOD_ENTRY)
        for stem in stems:
            (root / "entries" / f"{stem}.md").write_bytes(NAMED_ENTRY)
        report = site.build(AFTER_THE_NIGHT)
        assert report.built, report.warnings
        assert (root / "site/update/zz-good.html").is_file()
        refused = {p.path for p in report.problems}
        for stem in stems:
            name = f"{stem}.md"
            if not is_entry_name(name):
                outcomes["not an entry (SPEC)"] += 1
            elif is_id(stem) and len(stem) <= limit:
                assert (root / "site/update" / f"{stem}.html").is_file(), stem
                outcomes["published"] += 1
            else:
                assert f"entries/{name}" in refused, (stem, refused)
                outcomes["refused as its own error"] += 1
        said = StringIO()
        Console(said, colour=False).build(report, None)
        assert not [c for c in said.getvalue() if c in DANGEROUS_CHARS and c not in "\n"], said.getvalue()
        outcomes["examples"] += 1
        outcomes["names"] += len(stems)

    run()
    _report("file-names", outcomes)


LINK_TARGETS = ["outside-abs", "outside-rel", "entry", "link", "nothing", "folder", "self"]
EDITOR_COMMANDS = ["correct", "withdraw", "pin", "unpin", "key", "unkey", "restore", "restore-force"]


def test_editor_commands_never_write_outside_entries_nor_through_links(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Random nights of regular entries and links (outside by absolute and relative paths, at entries, at
    other links, chains and cycles, at nothing, at a folder), then random editor commands on any id: each
    does its work on a regular file or is refused (InputError, UnknownEntry); no file outside entries/ and no
    link ever changes; a build over the result never raises."""
    from countnight.editing import correct, restore, set_flag, withdraw
    from countnight.listing import UnknownEntry

    monkeypatch.setattr(os, "fsync", lambda fd: None)
    outcomes: Counter[str] = Counter()
    root = write_blog(tmp_path / "blog", {})
    outside = tmp_path / "outside"
    outside.mkdir()

    def command(name: str, ident: str) -> object:
        if name == "correct":
            return correct(root, ident, "A fix.", DURING_THE_NIGHT)
        if name == "withdraw":
            return withdraw(root, ident)
        if name in ("pin", "unpin", "key", "unkey"):
            return set_flag(root, ident, "pinned" if "pin" in name else "key", not name.startswith("un"))
        return restore(root, ident, force=name == "restore-force")

    @settings(FAST, max_examples=80)
    @given(
        entries=st.integers(1, 3),
        links=st.lists(st.tuples(st.sampled_from(LINK_TARGETS), st.integers(0, 3)), min_size=1, max_size=4),
        commands=st.lists(st.tuples(st.sampled_from(EDITOR_COMMANDS), st.integers(0, 7)), min_size=1, max_size=6),
    )
    def run(entries: int, links: list[tuple[str, int]], commands: list[tuple[str, int]]) -> None:
        shutil.rmtree(root / "entries")
        shutil.rmtree(root / "site", ignore_errors=True)
        shutil.rmtree(root / ".countnight", ignore_errors=True)
        (root / "entries/sub").mkdir(parents=True)
        for i in range(entries):
            (root / "entries" / f"e{i}.md").write_bytes(NAMED_ENTRY.replace(b"Named", b"E%d" % i))
            (outside / f"o{i}.md").write_bytes(NAMED_ENTRY.replace(b"Named", b"Outside %d" % i))
        site = Site(root)
        site.build(AFTER_THE_NIGHT)  # so restore has versions of the regular entries (and links with their names)
        for j, (kind, n) in enumerate(links):
            target = {
                "outside-abs": str(outside / f"o{n % entries}.md"),
                "outside-rel": os.path.relpath(outside / f"o{n % entries}.md", root / "entries"),
                "entry": f"e{n % entries}.md",
                "link": f"l{n % len(links)}.md",
                "nothing": "gone.md",
                "folder": "sub",
                "self": f"l{j}.md",
            }[kind]
            (root / "entries" / f"l{j}.md").symlink_to(target)
        site.build(AFTER_THE_NIGHT)
        ids = [f"e{i}" for i in range(entries)] + [f"l{j}" for j in range(len(links))]
        outside_before = {p.name: p.read_bytes() for p in outside.iterdir()}
        links_before = {p.name: os.readlink(p) for p in (root / "entries").iterdir() if p.is_symlink()}
        for name, pick in commands:
            ident = ids[pick % len(ids)]
            try:
                command(name, ident)
                outcomes["done"] += 1
                assert not ident.startswith("l"), f"{name} {ident} wrote through a link"
            except (InputError, UnknownEntry):
                outcomes["refused"] += 1
        assert {p.name: p.read_bytes() for p in outside.iterdir()} == outside_before
        assert {p.name: os.readlink(p) for p in (root / "entries").iterdir() if p.is_symlink()} == links_before
        assert not [p for p in (root / "entries").iterdir() if p.name.startswith(".")], "a temp file was left"
        assert site.build(AFTER_THE_NIGHT).built
        outcomes["examples"] += 1

    run()
    _report("editor-links", outcomes)
