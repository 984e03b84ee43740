"""frames.py: a page rendered in its frame is the page rendered whole, for the default theme and for a blog's own
templates; a template whose shape does not allow the split gets no frame (its pages are rendered whole)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from markupsafe import Markup

from countnight import frames, pages
from countnight import site as site_module
from countnight.render import load_theme, render_template
from countnight.site import Site

OWN = frozenset({"e", "headline", "body", "flag", "page"})
SHARED = {"title": "Election night", "root": "../", "ended": False}
PAGES: list[dict[str, Any]] = [
    {"e": {"id": "a1", "author": "Sam"}, "headline": "Gain <here>", "body": Markup("<p>one</p>"), "flag": True},
    {"e": {"id": "b2", "author": ""}, "headline": "Hold & more", "body": Markup("<p>two</p>"), "flag": False},
    {"e": {"id": "c3", "author": "Jo"}, "headline": "", "body": Markup(""), "flag": None},
]

BASE = """<!doctype html>
<title>{% block title %}{{ title }}{% endblock %}</title>
<link rel="stylesheet" href="{{ root }}{{ assets.url('style.css') }}">
{% block head %}{% endblock %}
{% if ended %}<p>ended</p>{% else %}{% block live %}<p>live</p>{% endblock %}{% endif %}
<header>{% block masthead %}<h1>{{ title }}</h1>{% endblock %}</header>
{% block main %}{% endblock %}
<footer>{% block footer %}{{ title }} · {{ csp[:10] }}{% endblock %}</footer>
"""
PAGE = """{% extends "base.html" %}
{% block title %}{{ headline }} – {{ title }}{% endblock %}
{% block head %}{% if e.author %}<meta name="author" content="{{ e.author }}">{% endif %}{% endblock %}
{% block main %}<main id="{{ e.id }}">{{ body }}{% if flag %}<b>!</b>{% endif %}</main>{% endblock %}
"""


def _theme(tmp_path: Path, **templates: str) -> Any:
    folder = tmp_path / "templates"
    folder.mkdir(exist_ok=True)
    for name, text in templates.items():
        (folder / name.replace("__", "/")).parent.mkdir(parents=True, exist_ok=True)
        (folder / name.replace("__", "/")).write_text(text)
    return load_theme(tmp_path)


def _same_as_whole(theme: Any, name: str = "page.html") -> frames.Frame:
    framed = frames.frame(theme, name, SHARED, OWN)
    assert framed is not None
    for own in PAGES:
        own = {**own, "page": f"update/{own['e']['id']}.html"}
        assert framed.render(**own) == render_template(theme, name, **SHARED, **own)
    return framed


def test_a_page_in_its_frame_is_the_page_rendered_whole(tmp_path: Path) -> None:
    framed = _same_as_whole(_theme(tmp_path, **{"base.html": BASE, "page.html": PAGE}))
    assert framed.slots == ("title", "head", "main")  # the masthead, the footer and "live" are the frame's own
    assert "<h1>Election night</h1>" in "".join(framed.pieces)


@pytest.mark.parametrize(
    "override",
    [
        "{% block masthead %}<h1>{{ headline }}</h1>{% endblock %}",  # a shared block made a page's own
        "{% block footer %}{{ super() }} · {{ e.id }}{% endblock %}",  # super(): the parent's, then the page's
        "{% block live %}<p>{{ headline }}</p>{% endblock %}",  # a page's own block inside an {% if %}
        '{% block main %}{% include "partials/bit.html" %}{% endblock %}',  # an include inside a block
        "{% block main %}{% block inner %}{{ body }}{% endblock %}{% endblock %}",  # a block in a block
        "{% block footer %}{% set x = headline | upper %}{{ x }}{% endblock %}",  # a set inside a block
    ],
)
def test_a_blogs_own_blocks_are_rendered_with_each_page(tmp_path: Path, override: str) -> None:
    page = PAGE + override
    if "{% block main %}" in override:
        page = PAGE.replace(PAGE.splitlines()[3], "") + override
    theme = _theme(tmp_path, **{"base.html": BASE, "page.html": page, "partials__bit.html": "<i>{{ headline }}</i>"})
    _same_as_whole(theme)


def test_three_templates_deep(tmp_path: Path) -> None:
    middle = '{% extends "base.html" %}{% block masthead %}<h1>{{ title }}</h1><nav>{% block nav %}{% endblock %}</nav>{% endblock %}'
    page = PAGE.replace('"base.html"', '"middle.html"') + "{% block nav %}<a href='#{{ e.id }}'>here</a>{% endblock %}"
    framed = _same_as_whole(_theme(tmp_path, **{"base.html": BASE, "middle.html": middle, "page.html": page}))
    assert "masthead" in framed.slots  # it holds a block of the page's own


@pytest.mark.parametrize(
    "base",
    [
        BASE.replace("<footer>", "<footer>{{ headline }}"),  # a page's own value outside any block
        BASE.replace("<footer>", "{% if flag is defined %}x{% endif %}<footer>"),  # ... even only tested
        BASE.replace("<footer>", "{% set x = 1 %}<footer>"),  # a set the blocks might read
        BASE.replace("<footer>", '{% include "partials/bit.html" %}<footer>'),  # an include outside a block
        BASE.replace("<footer>", "<footer>{{ self.title() }}"),  # a block written a second time
        BASE.replace(
            "{% block main %}{% endblock %}", "{% for i in [1, 2] %}{% block main %}{% endblock %}{% endfor %}"
        ),
        BASE.replace(
            "{% block main %}{% endblock %}", "{% filter upper %}{% block main %}{% endblock %}{% endfilter %}"
        ),
    ],
)
def test_a_template_that_cannot_be_split_gets_no_frame(tmp_path: Path, base: str) -> None:
    theme = _theme(tmp_path, **{"base.html": base, "page.html": PAGE, "partials__bit.html": "<i>{{ headline }}</i>"})
    assert frames.frame(theme, "page.html", SHARED, OWN) is None


def test_an_extends_worked_out_as_the_page_renders_gets_no_frame(tmp_path: Path) -> None:
    page = PAGE.replace('{% extends "base.html" %}', '{% extends "ba" ~ "se.html" %}')
    theme = _theme(tmp_path, **{"base.html": BASE, "page.html": page})
    assert frames.frame(theme, "page.html", SHARED, OWN) is None


def test_the_default_themes_share_pages_are_framed_and_the_same(
    sample_night: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every share page of the sample night, framed as a build makes it and rendered whole, byte for byte (the
    golden site, test_golden.py, holds the framed ones)."""
    made: dict[str, Any] = {}

    def keep(*args: Any, **kwargs: Any) -> Any:
        made["output"] = output = pages.render_changes(*args, **kwargs)
        return output

    monkeypatch.setattr(site_module, "render_changes", keep)
    assert Site(sample_night, tmp_path / "out").build().built
    shares = [content for path, content in made["output"].fresh.items() if path.startswith("update/")]
    assert len(shares) > 40
    for share in shares:
        theme, night, view, where, card, framed = share.args
        assert framed is not None, "the default theme's share.html should be framed"
        assert share() == pages.share_page(theme, night, view, where, card)  # without the frame: whole
