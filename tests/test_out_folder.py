"""The output folder never overlaps what the build reads or keeps (issue 17, item 2).

``serve --out entries`` served a raw ``status: draft`` file over HTTP; ``build --out templates`` turned the
pages into theme overrides and froze the site. Every way a folder can be, be inside, or hold an input or the
record is refused with a clear error before anything is written: named directly, relatively, through ``..``,
through a symbolic link, the root of the file system, and the default output (``site``) made a link.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import run_countnight, write_blog
from countnight.cli import main
from countnight.folders import folder_problem
from countnight.names import default_theme

DRAFT = "---\ntime: '01:00'\ntitle: Secret\nstatus: draft\n---\nEmbargoed words.\n"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    blog = write_blog(
        tmp_path / "blog",
        {"entries/0100-draft.md": DRAFT, "templates/.keep": "", "data/baseline.csv": "constituency\n"},
        config='title = "T"\ntimezone = "Europe/London"\ncoverage_start = "2024-07-04T22:00:00+01:00"\n'
        'baseline = "data/baseline.csv"\n',
    )
    (blog / ".countnight").mkdir()
    (blog / "elsewhere").mkdir()
    (blog / "link-to-entries").symlink_to("entries")
    (blog / "link-to-state").symlink_to(".countnight")
    return blog


# (the --out given, relative to the blog folder unless absolute; what the error says it overlaps)
REFUSED = [
    ("entries", "entries/"),
    ("entries/sub", "inside entries/"),
    ("entries/sub/deeper", "inside entries/"),
    ("templates", "templates/"),
    ("templates/x", "inside templates/"),
    (".countnight", ".countnight/"),
    (".countnight/site", "inside .countnight/"),
    ("link-to-entries", "entries/"),
    ("link-to-entries/sub", "inside entries/"),
    ("link-to-state/x", "inside .countnight/"),
    ("elsewhere/../entries", "entries/"),
    ("./entries/./sub/..", "entries/"),
    ("data", "holds the baseline"),
    (".", "holds the blog folder"),
    ("..", "holds the blog folder"),
    ("/", "holds the blog folder"),
]


@pytest.mark.parametrize("command", ["build", "watch", "serve", "check"])
@pytest.mark.parametrize(("out", "says"), REFUSED, ids=[r[0] for r in REFUSED])
def test_an_output_folder_overlapping_an_input_is_refused(root: Path, command: str, out: str, says: str) -> None:
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    target = out if out.startswith("/") else str(root / out)
    extra = ["--port", "0"] if command == "serve" else []
    result = CliRunner().invoke(main, [command, "--root", str(root), "--out", target, *extra])
    assert result.exit_code == 2, result.output
    assert "--out" in result.output and says in result.output and "needs a folder of its own" in result.output
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before, "something was written"


def test_a_relative_out_is_resolved_from_the_working_folder(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(root / "elsewhere")
    assert folder_problem(Path(".."), Path("../entries")) is not None
    assert folder_problem(Path(".."), Path("../link-to-entries/x")) is not None
    assert folder_problem(Path(".."), Path("../public")) is None


def test_the_default_output_made_a_link_into_an_input_is_refused(root: Path) -> None:
    (root / "site").symlink_to("entries")
    result = CliRunner().invoke(main, ["build", "--root", str(root)])
    assert result.exit_code == 2 and "is entries/" in result.output


def test_inside_the_default_theme_is_refused(root: Path) -> None:
    problem = folder_problem(root, default_theme() / "out")
    assert problem is not None and "the default theme" in problem[1]


def test_an_output_folder_holding_an_input_elsewhere_is_refused(tmp_path: Path) -> None:
    """The baseline (or entries/, through a link) may live outside the blog folder: an output above it is refused."""
    shared = tmp_path / "shared"
    (shared / "night").mkdir(parents=True)
    root = write_blog(tmp_path / "blog", {})
    (root / "entries").rmdir()
    (root / "entries").symlink_to(shared / "night")
    problem = folder_problem(root, shared)
    assert problem is not None and "holds entries/" in problem[1]


@pytest.mark.parametrize("out", ["site", "public", "../public", "elsewhere/site"])
def test_ordinary_output_folders_are_accepted(root: Path, out: str) -> None:
    assert folder_problem(root, root / out) is None


def test_the_quick_build_refuses_as_the_command_line_does(root: Path) -> None:
    """``build`` without click (launch.py's quick path) says the same, exit 2, and writes nothing."""
    done = run_countnight("build", "--root", str(root), "--out", str(root / "entries"))
    assert done.returncode == 2 and "needs a folder of its own" in done.stderr, done.stderr
    assert sorted(os.listdir(root / "entries")) == ["0100-draft.md"]
