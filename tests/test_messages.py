"""Errors and warnings that say what to do, not only what is wrong: the nearest constituency names, the
reporter's own number, a count below zero, a file saved as UTF-16, a file in entries/ that is not read, and
``check`` saying what it checked when all is well."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import CONFIG, REPO, BlogMaker
from console_watch import watching
from countnight.cli import main
from countnight.config import parse_config
from countnight.entries import parse_entry
from countnight.errors import InputError
from countnight.models import Context

SAMPLE = CONFIG + 'baseline = "baseline.csv"\n'
EVENT = parse_config(CONFIG.encode(), "countnight.toml")
UPDATE = '---\ntime: "23:00"\ntitle: Polls closed\n---\nThe count begins.\n'


def check(root: Path) -> tuple[int, list[str], str]:
    run = CliRunner().invoke(main, ["check", "--root", str(root)])
    return run.exit_code, run.stdout.splitlines(), run.stderr


def turnout(seat: str) -> str:
    return f'---\nkind: turnout\ntime: "01:00"\nconstituency: {seat}\nturnout: 60\n---\n'


@pytest.mark.parametrize(
    ("typed", "hint"),
    [
        ("Stoke Central", " (did you mean 'Stoke-on-Trent Central' or 'Stoke-on-Trent North'?)"),
        ("Stoke", " (did you mean 'Stoke-on-Trent North', 'Stoke-on-Trent South' or 'Stoke-on-Trent Central'?)"),
        ("Canock Chace", " (did you mean 'Cannock Chase'?)"),
        ("Stafford Moorlands", " (did you mean 'Staffordshire Moorlands' or 'Stafford'?)"),
        ("Newcastle", " (did you mean 'Newcastle-under-Lyme'?)"),
        ("Islington North", ": check the spelling, or add a row for it to the baseline (it has 14 constituencies)"),
    ],
)
def test_an_unknown_constituency_gets_the_nearest_names(blog: BlogMaker, typed: str, hint: str) -> None:
    root = blog(
        {"baseline.csv": (REPO / "baseline.csv").read_text(), "entries/0100-t.md": turnout(typed)}, config=SAMPLE
    )
    code, out, _ = check(root)
    assert code == 1
    assert out == [f"entries/0100-t.md:4: constituency: '{typed}' is not in the baseline{hint}"]


def messages(text: str) -> list[str]:
    """What refusing ``text`` as an entry file says, problem by problem."""
    with pytest.raises(InputError) as caught:
        parse_entry(text.encode(), "entries/2300-x.md", Context(EVENT.window))
    return [p.message for p in caught.value.problems]


def votes_problem(votes: str) -> str:
    text = (
        '---\nkind: result\ntime: "02:16"\nconstituency: Stafford\ncandidates:\n'
        f"  - {{name: A, party: Lab, votes: {votes}}}\n  - {{name: B, party: Con, votes: 5}}\n---\n"
    )
    (message,) = messages(text)
    return message


@settings(max_examples=300, deadline=None, database=None)
@given(st.integers(1_000, 999_999_999), st.sampled_from([".", " ", "'"]))
def test_a_count_written_with_other_thousands_marks_is_hinted_with_its_own_figures(number: int, mark: str) -> None:
    written = f"{number:,}".replace(",", mark)
    message = votes_problem(f'"{written}"')
    assert (
        message == f"candidates[1].votes: '{written}' is not a whole number as written (write {number} or {number:,})"
    )


@pytest.mark.parametrize("votes", ["-3", '"-16,222"', '"− 5"', "-0.5"])
def test_a_count_below_zero_says_so(votes: str) -> None:
    assert "is below zero: a count is 0 or more" in votes_problem(votes)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"])
def test_a_file_saved_as_utf16_or_utf32_is_told_to_save_as_utf8_not_called_binary(
    blog: BlogMaker, encoding: str
) -> None:
    root = blog({"entries/2300-wide.md": UPDATE.encode(encoding)})
    code, out, _ = check(root)
    wide = "UTF-16" if "16" in encoding else "UTF-32"
    assert (code, out) == (
        1,
        [
            f"entries/2300-wide.md:1: the file is saved as {wide}, not UTF-8: save it again as UTF-8 (in Save As, choose UTF-8)"
        ],
    )


def test_a_binary_file_is_still_called_binary(blog: BlogMaker) -> None:
    root = blog({"entries/2300-picture.md": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"})
    assert check(root)[1] == [
        "entries/2300-picture.md:3: this is a binary file, not a text entry (it contains NUL bytes)"
    ]


NOT_READ = {
    "entries/X.MD": "entries/X.MD: not read: entry files end in '.md', in lower case (rename it to X.md)",
    "entries/y.Md": "entries/y.Md: not read: entry files end in '.md', in lower case (rename it to y.md)",
    "entries/x.md.txt": "entries/x.md.txt: not read: entry files end in '.md' (rename it to x.md; the system may "
    "hide the last part of a name)",
    "entries/z.markdown": "entries/z.markdown: not read: entry files end in '.md' (if it is one, rename it to z.md)",
    "entries/sub/x.md": "entries/sub/: not read: only files directly in entries/ are entries, not those in a folder "
    "inside it (move its 1 .md file up into entries/)",
}
# Editors' and sync tools' files are not entries by design (SPEC), and say nothing.
SILENT = ["entries/.x.md.swp", "entries/x.md~", "entries/_draft.md", "entries/.hidden.md", "entries/_old/x.md",
          "entries/x.md.tmp", "entries/pictures/a.jpg"]  # fmt: skip


def test_check_and_build_say_once_which_files_are_not_read(blog: BlogMaker) -> None:
    root = blog({"entries/2300-a.md": UPDATE, **dict.fromkeys([*NOT_READ, *SILENT], UPDATE)})
    code, out, err = check(root)
    assert code == 0 and out == sorted(NOT_READ.values())
    assert err == "no problems, 5 warnings: checked countnight.toml and 1 entry file\n"
    command = [sys.executable, "-c", "from countnight.launch import main; main()", "build", "--root", str(root)]
    built = subprocess.run(command, capture_output=True, text=True, check=True)
    assert built.stderr.count("warning: entries/") == 5
    again = subprocess.run(command, capture_output=True, text=True, check=True)
    assert again.stdout.strip().endswith("up to date") and again.stderr == ""  # said once, not on every build


def test_the_console_says_once_that_a_file_is_not_read(blog: BlogMaker) -> None:
    root = blog({"entries/2300-a.md": UPDATE})
    with watching(root) as watch:
        (root / "entries/2310-b.MD").write_text(UPDATE)
        watch.wait_for("warning entries/2310-b.MD: not read")
        (root / "entries/2320-c.md").write_text(UPDATE.replace("23:00", "23:20"))
        watch.wait_for("published 2320-c")
        (root / "entries/2310-b.MD").rename(root / "entries/2310-b.md")  # done as it says
        watch.wait_for("published 2310-b")
    assert watch.said.count("not read") == 1, watch.said
    assert watch.watcher.last_built is not None and watch.watcher.last_built.notices == []


def test_check_says_what_it_checked_when_all_is_well(blog: BlogMaker) -> None:
    root = blog({"entries/2300-a.md": UPDATE, "entries/2310-b.md": UPDATE})
    assert check(root) == (0, [], "no problems: checked countnight.toml and 2 entry files\n")
    root = blog({"baseline.csv": (REPO / "baseline.csv").read_text()}, config=SAMPLE)
    for path in (root / "entries").iterdir():
        path.unlink()
    assert check(root) == (
        0,
        [],
        "no problems: checked countnight.toml, baseline.csv (14 constituencies) and 0 entry files\n",
    )


def test_check_with_a_broken_config_says_the_problem_alone(blog: BlogMaker) -> None:
    root = blog(config=CONFIG + "colour = 1\n")
    code, out, err = check(root)
    assert code == 1 and len(out) == 1 and err == "1 problem in 1 file\n"


@pytest.mark.parametrize(("typed", "hint"), [("'65,39'", "(write 65.39)"), ('"56,1%"', "(write 56.1)")])
def test_a_turnout_with_a_decimal_comma_is_hinted_with_its_own_figure(typed: str, hint: str) -> None:
    text = f'---\nkind: turnout\ntime: "01:00"\nconstituency: Stafford\nturnout: {typed}\n---\n'
    assert messages(text)[0].endswith(f"is not a percentage as written {hint}")


@pytest.mark.parametrize(
    ("front", "message"),
    [
        ("kind: reslt\n", "kind: 'reslt' is not one of update, result, turnout, quote, summary (did you mean result?)"),
        (
            "status: publshed\n",
            "status: 'publshed' is not one of published, draft, withdrawn (did you mean published?)",
        ),
        (
            "status: withdrawen\n",
            "status: 'withdrawen' is not one of published, draft, withdrawn (did you mean withdrawn?)",
        ),
    ],
)
def test_a_slip_in_a_kind_or_status_names_the_one_meant(front: str, message: str) -> None:
    assert messages(f'---\ntime: "23:00"\ntitle: A title\n{front}---\n') == [message]


def test_list_says_which_files_are_not_read(blog: BlogMaker) -> None:
    root = blog({"entries/2300-a.md": UPDATE, **dict.fromkeys([*NOT_READ, *SILENT], UPDATE)})
    run = CliRunner().invoke(main, ["list", "--root", str(root)])
    assert run.exit_code == 0
    assert run.stderr.splitlines()[:-1] == sorted(NOT_READ.values())


@pytest.mark.parametrize(
    ("line", "how"),
    [
        ("title: Labour: a big win", 'a ": " inside a value: put the whole value in double quotes'),
        ('title: "unclosed', "a quote is not closed: end the value with the quote it starts with"),
        ("title: @home", "a value cannot start with @, ` or %: put it in double quotes"),
        (
            "title: 'Labour's win'",
            "check the quotes on this line: inside '…' write an apostrophe as '', or use double quotes",
        ),
        ("title: *bold*", "a value cannot start with *: put it in double quotes"),
        ("title: - a", 'a value cannot start with "- ": put it in double quotes'),
        ("title: | x", "a value cannot start with | or >: put it in double quotes"),
        (
            "candidates:\n- {name: A, party: Lab votes: 5}",
            "in {…}, separate the fields with commas: {name: A, party: Lab, votes: 5}",
        ),
    ],
)
def test_a_yaml_slip_says_how_to_write_it(line: str, how: str) -> None:
    (message,) = messages(f'---\ntime: "23:00"\n{line}\n---\n')
    assert message.startswith("YAML syntax: ") and message.endswith(f"({how})")


@settings(max_examples=1000, deadline=None, database=None)
@given(
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30).map(
        lambda t: t.replace("/", "").replace("\x00", "")
    )
    | st.from_regex(r"[A-Za-z0-9 ._~-]{1,20}\.(md|MD|Md|md\.txt|markdown|txt|swp|tmp)~?", fullmatch=True)
)
def test_any_file_name_is_an_entry_or_noted_or_left_alone_never_both(name: str) -> None:
    from countnight.names import is_entry_name, not_an_entry

    why = not_an_entry(name)
    assert not (is_entry_name(name) and why is not None)
    if why is not None:
        assert why.startswith("not read: entry files end in '.md'") and ".md" in why


@settings(max_examples=500, deadline=None, database=None)
@given(st.text(max_size=40))
def test_any_constituency_text_gets_at_most_three_real_names(typed: str) -> None:
    from countnight.baseline import load_baseline

    baseline = load_baseline(REPO / "baseline.csv", "baseline.csv")
    near = baseline.suggestions(typed)
    assert len(near) <= 3 and all(name in baseline.names() for name in near)
