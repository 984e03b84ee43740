"""A blog's template that compiles and then fails as it renders: the build names the template's file and line,
with or without forked workers, and the published site stays as it was (themefault.py).

Jinja's errors at render time (an undefined name) carried no place, and plain Python raised by an expression
(``{{ 1 // n }}``, ``{{ "a" + 1 }}``, ``{% for x in 5 %}``) is no TemplateError: it ended ``countnight build``
with a traceback.
"""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import pytest

from conftest import AFTER_THE_NIGHT, REPO, BlogMaker, run_countnight
from countnight import pages, parallel
from countnight.site import Site
from countnight.themefault import TemplateFault, fault, template_problem

SHARE = (REPO / "templates" / "share.html").read_text()
ENTRY = (REPO / "templates" / "entry.html").read_text()
# Expressions that compile and fail only as they render, each with what the build must say of it
FAULTS = [
    ("{{ 1 // (e.id | length - e.id | length) }}", "ZeroDivisionError"),
    ('{{ "a" + e.id | length }}', "TypeError"),
    ("{% for x in e.id | length %}{{ x }}{% endfor %}", "TypeError"),
    ("{{ e.no_such_field.deeper }}", "no_such_field"),
    ("{{ e.headline | no_filter_at_render if false else e.headline.nope() }}", "nope"),
]


def _with_line(template: str, line: int, expression: str) -> str:
    """``template`` with ``expression`` added at the end of its line ``line`` (1-based)."""
    lines = template.split("\n")
    lines[line - 1] += expression
    return "\n".join(lines)


def _body_line(template: str) -> int:
    """A line of share.html inside its body block, which every share page renders with its own entry."""
    lines = template.split("\n")
    start = next(i for i, text in enumerate(lines) if "{% block body %}" in text)
    return start + 2


def _night(blog: BlogMaker, entries: int) -> Path:
    files: dict[str, str | bytes] = {}
    for n in range(entries):
        minute = n % 600
        hhmm = f"{(22 + minute // 60) % 24:02d}:{minute % 60:02d}"
        files[f"entries/e{n:04d}.md"] = f"---\ntime: {hhmm}\ntitle: Update {n}\n---\nParagraph {n}.\n"
    return blog(files)


@pytest.mark.parametrize(("expression", "said"), FAULTS)
def test_a_share_page_template_that_fails_names_its_file_and_line(
    sample_night: Path, expression: str, said: str
) -> None:
    assert Site(sample_night).build().built
    before = {p: p.read_bytes() for p in (sample_night / "site").rglob("*") if p.is_file()}
    line = _body_line(SHARE)
    (sample_night / "templates").mkdir(exist_ok=True)
    (sample_night / "templates" / "share.html").write_text(_with_line(SHARE, line, expression))
    report = Site(sample_night).build()
    assert not report.built
    assert [(p.path, p.line) for p in report.problems] == [("templates/share.html", line)], report.problems
    assert said in report.problems[0].message
    after = {p: p.read_bytes() for p in (sample_night / "site").rglob("*") if p.is_file()}
    assert after == before  # nothing published is lost


def test_a_template_that_includes_itself_is_named_not_a_traceback(sample_night: Path) -> None:
    """The recursion ends wherever the stack runs out, at some line of the template inside itself: the file is
    named (its line is that one), and nothing is published."""
    (sample_night / "templates").mkdir(exist_ok=True)
    (sample_night / "templates" / "share.html").write_text(
        _with_line(SHARE, _body_line(SHARE), '{% include "share.html" %}')
    )
    report = Site(sample_night).build()
    assert not report.built and not (sample_night / "site" / "index.html").exists()
    assert [p.path for p in report.problems] == ["templates/share.html"], report.problems
    assert report.problems[0].line > 0 and "RecursionError" in report.problems[0].message


@pytest.mark.parametrize("template", ["share.html", "entry.html"])
def test_the_same_from_forked_workers_and_the_command_line(
    blog: BlogMaker, monkeypatch: pytest.MonkeyPatch, template: str
) -> None:
    """A cold build above parallel.PARALLEL_MIN reads entries (entry.html) and makes pages (share.html) in
    forked workers; the error comes back across their pipes still naming the template's line, and
    ``countnight build`` says it in one line, exit status 1, no traceback."""
    root = _night(blog, parallel.PARALLEL_MIN + 50)
    source = SHARE if template == "share.html" else ENTRY
    line = _body_line(SHARE) if template == "share.html" else 3
    (root / "templates").mkdir()
    # some entries only: a worker meets it, wherever the spans fall
    expression = '{% if e.id.endswith("7") %}{{ 1 // (e.id | length - e.id | length) }}{% endif %}'
    (root / "templates" / template).write_text(_with_line(source, line, expression))
    monkeypatch.setattr(parallel, "usable_cpus", lambda: 2)
    report = Site(root).build(AFTER_THE_NIGHT)
    assert not report.built
    assert [(p.path, p.line) for p in report.problems] == [(f"templates/{template}", line)], report.problems
    assert "ZeroDivisionError" in report.problems[0].message
    assert not (root / "site" / "index.html").exists()
    done = run_countnight("build", "--root", str(root))
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert re.search(rf"templates/{re.escape(template)}:{line}: template: ZeroDivisionError", done.stderr), done.stderr


def test_a_fault_crosses_a_pipe_whole() -> None:
    found = TemplateFault("templates/share.html", 21, "ZeroDivisionError: integer division or modulo by zero")
    again = pickle.loads(pickle.dumps(found))
    assert (again.path, again.lineno, again.text) == (found.path, found.lineno, found.text)
    assert fault(again) is again
    problem = template_problem(again)
    assert problem is not None and str(problem).startswith("templates/share.html:21: template: ZeroDivision")


def test_an_error_no_template_raised_is_not_called_one(sample_night: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug in countnight's own code is no template's fault: it is not reported as one (it stays the error
    it is), nor is an interrupt."""

    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("a bug of countnight's own")

    assert fault(RuntimeError("x")) is None and template_problem(KeyboardInterrupt()) is None
    monkeypatch.setattr("countnight.site.render_changes", broken)
    with pytest.raises(RuntimeError, match="a bug of countnight's own"):
        Site(sample_night).build()
    assert pages.render_changes is not broken


def test_the_desks_preview_says_where_the_blogs_template_failed_and_the_entry_can_still_be_sent(
    tmp_path: Path,
) -> None:
    """A reporter is never stopped by the blog's templates: the preview says which line failed, the form is
    still good (the build reports the template to the editor)."""
    from countnight.desk import forms
    from countnight.listing import load_context
    from countnight.render import load_theme
    from desk_support import make_desk_blog

    root = make_desk_blog(tmp_path / "night")
    (root / "templates").mkdir(exist_ok=True)
    (root / "templates" / "entry.html").write_text(_with_line(ENTRY, 3, "{{ 1 // (e.id | length - e.id | length) }}"))
    event, context = load_context(root)
    form = {"time": "03:30", "title": "Counting starts", "body": "Counting has started in Hexham."}
    checked = forms.check("update", form, event, context, load_theme(root), draft=False, stem="0330-x")
    assert checked.ok and checked.errors == {}
    assert "templates/entry.html:3: template: ZeroDivisionError" in checked.preview
    assert checked.preview.startswith('<p class="preview-problem">') and checked.preview.count("<") == 2  # escaped
