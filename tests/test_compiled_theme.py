"""The default theme kept compiled in its ``__pycache__`` (render._CompiledTheme), as Python keeps bytecode.

What it must never do: hand back code that is not what compiling the template now would give (another
source, another code generator, a broken file), keep a blog's own templates, or write where Python would
not write its own bytecode.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from conftest import AFTER_THE_NIGHT, write_blog
from countnight import render
from countnight.names import default_theme
from countnight.site import Site

# The default theme's templates (pages, partials, cards and the feed), counted rather than written down: a new
# partial is not a change to what this file tests.
TEMPLATES = sum(1 for p in default_theme().rglob("*") if p.suffix in (".html", ".xml") and "__pycache__" not in p.parts)


@pytest.fixture
def theme(tmp_path: Path) -> Path:
    """A copy of the default theme without its kept code, to write into."""
    folder = tmp_path / "theme"
    shutil.copytree(default_theme(), folder, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    return folder


def _buckets(folder: Path) -> tuple[render._CompiledTheme, list[tuple[str, str, object]]]:
    cache = render._CompiledTheme(folder)
    env = render._environment([folder], cache)
    found = []
    for name in render._template_names(env):
        source, filename, _ = env.loader.get_source(env, name)
        found.append((name, filename, cache.get_bucket(env, name, filename, source)))
    return cache, found


def test_kept_code_is_the_code_a_compile_gives_now(theme: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render, "default_theme", lambda: theme)
    assert render.compile_default_theme() == TEMPLATES
    cache, found = _buckets(theme)
    env = render._environment([theme], cache)
    assert len(found) == TEMPLATES
    for name, filename, bucket in found:
        assert bucket.code is not None, name
        assert bucket.code == env.compile(Path(filename).read_text(), name, filename), name


def test_another_source_another_code_generator_or_a_broken_file_is_compiled_afresh(
    theme: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(render, "default_theme", lambda: theme)
    render.compile_default_theme()
    (theme / "share.html").write_text((theme / "share.html").read_text().replace("See it in", "Read it in"))
    kept = {name: bucket.code for name, _, bucket in _buckets(theme)[1]}
    assert kept["share.html"] is None and kept["base.html"] is not None
    for path in (theme / "__pycache__").glob("*.jinja"):
        path.write_bytes(path.read_bytes()[:40])  # cut short
    assert all(bucket.code is None for _, _, bucket in _buckets(theme)[1])
    render.compile_default_theme()
    monkeypatch.setattr(render, "_CODE", "another code generator")
    assert all(bucket.code is None for _, _, bucket in _buckets(theme)[1])


def test_a_blog_s_own_templates_are_never_kept(tmp_path: Path) -> None:
    cache = render._CompiledTheme(default_theme())
    assert cache.get_cache_key("entry.html", str(tmp_path / "templates" / "entry.html")) == ""
    assert cache.get_cache_key("entry.html", str(default_theme() / "entry.html")) != ""
    assert cache.get_cache_key("entry.html", None) == ""


def test_an_override_wins_over_the_kept_default(tmp_path: Path) -> None:
    render.compile_default_theme()
    entry = (default_theme() / "entry.html").read_text().replace('class="entry__foot"', 'class="entry__foot mine"')
    root = write_blog(
        tmp_path / "blog",
        {"templates/entry.html": entry, "entries/0100-a.md": '---\ntime: "01:00"\ntitle: A\n---\nText.\n'},
    )
    assert Site(root).build(AFTER_THE_NIGHT).built
    assert b'class="entry__foot mine"' in (root / "site" / "index.html").read_bytes()


@pytest.mark.parametrize("forbidden", [True, False])
def test_written_only_where_python_would_write_bytecode(
    theme: Path, monkeypatch: pytest.MonkeyPatch, forbidden: bool
) -> None:
    monkeypatch.setattr(render, "default_theme", lambda: theme)
    monkeypatch.setattr(sys, "dont_write_bytecode", forbidden)
    render.load_theme(theme.parent / "a-blog-without-templates")
    written = list((theme / "__pycache__").glob("*.jinja"))
    assert len(written) == (0 if forbidden else TEMPLATES)
    assert not list((theme / "__pycache__").glob("*.tmp"))


def test_a_theme_folder_it_cannot_write_to_is_compiled_each_time(theme: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render, "default_theme", lambda: theme)
    (theme / "__pycache__").write_text("a file where the folder would go")
    assert render.compile_default_theme() == TEMPLATES  # nothing kept, nothing raised
    assert render.load_theme(theme.parent / "blog").env.get_template("share.html") is not None
