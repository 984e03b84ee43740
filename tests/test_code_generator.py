"""render.py's code generator builds on private parts of Jinja's. jinja2 is pinned, and Jinja's own suite runs
with it (make jinja-suite); should another Jinja lack one of those parts, templates compile with Jinja's own
generator, and the site is the same, byte for byte."""

from __future__ import annotations

import sys
from pathlib import Path

import jinja2
import jinja2.compiler
import pytest

from conftest import AFTER_THE_NIGHT
from countnight import render
from countnight.publish import MANIFEST
from countnight.site import Site

GOLDEN = Path(__file__).parent / "golden"


def files_of(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in folder.rglob("*")
        if p.is_file() and p.name != MANIFEST
    }


def test_the_pinned_jinja_has_every_part_the_generator_builds_on() -> None:
    assert render.code_generator_for(jinja2.compiler.CodeGenerator) is render._CodeGenerator
    assert render._Environment.code_generator_class is render._CodeGenerator


def test_a_jinja_without_them_gets_its_own_generator(monkeypatch: pytest.MonkeyPatch) -> None:
    class Unrelated(jinja2.compiler.CodeGenerator):
        pass

    assert render.code_generator_for(Unrelated) is Unrelated  # not a base of ours
    monkeypatch.delattr(jinja2.compiler.CodeGenerator, "_output_child_to_const")
    assert render.code_generator_for(jinja2.compiler.CodeGenerator) is jinja2.compiler.CodeGenerator


def test_jinja_s_own_generator_makes_the_same_site(
    sample_night: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(render._Environment, "code_generator_class", jinja2.compiler.CodeGenerator)
    monkeypatch.setattr(render, "_CODE", "Jinja's own code generator")  # never the kept compiled theme
    monkeypatch.setattr(sys, "dont_write_bytecode", True)  # and nothing kept of this one
    site = Site(sample_night, tmp_path / "out")
    assert site.build(AFTER_THE_NIGHT).built
    page = site.rules.read().theme.env.get_template("entry.html")
    assert "_countnight_output_text" not in page.root_render_func.__globals__  # compiled by Jinja's generator
    assert files_of(tmp_path / "out") == files_of(GOLDEN)
