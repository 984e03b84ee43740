"""The theme's templates escape their output with ``render.output_text``: exactly what Jinja's own escape gives.

(1) ``output_text(x)`` is ``str(markupsafe.escape(x))`` for any value a template may print: text with every
character HTML cares about, numbers, booleans, None, Markup, objects with ``__html__``. (2) Templates compiled
by the theme's environment render exactly what a stock Jinja environment renders, through every construct
that collects output (blocks and inheritance, includes, macros and ``caller``, block ``set``, filter blocks,
``autoescape`` blocks), and still fail on an undefined name.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import jinja2
import jinja2.runtime
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import Markup, escape

from countnight import render

HTML_CHARS = st.text(alphabet=st.sampled_from("&<>'\"ab 1é€😀\n\t"), max_size=30)


class _Html:
    def __init__(self, html: str) -> None:
        self.html = html

    def __html__(self) -> str:
        return self.html


@settings(max_examples=600, deadline=None, database=None)
@given(
    st.one_of(
        HTML_CHARS,
        st.text(max_size=40),
        st.integers(),
        st.floats(allow_nan=True),
        st.booleans(),
        st.none(),
        st.decimals(allow_nan=False),
        HTML_CHARS.map(Markup),
        HTML_CHARS.map(_Html),
        st.lists(HTML_CHARS, max_size=3),
    )
)
def test_output_text_is_markupsafe_escape(value: object) -> None:
    got = render.output_text(value)
    assert got == str(escape(value))
    assert type(got) in (str, Markup)


def test_output_text_cases() -> None:
    assert render.output_text("<a href='x'>&\"</a>") == "&lt;a href=&#39;x&#39;&gt;&amp;&#34;&lt;/a&gt;"
    assert render.output_text(Markup("<b>ok</b>")) == "<b>ok</b>"
    assert render.output_text(12_345) == "12345"
    assert render.output_text(Decimal("61.25")) == "61.25"
    assert render.output_text(True) == "True"
    assert render.output_text(_Html("<i>x</i>")) == "<i>x</i>"


TEMPLATES = {
    "base.html": "<title>{% block title %}{{ site }}{% endblock %}</title>{% block body %}{% endblock %}|{{ n }}",
    "part.html": "<li>{{ item }}</li>",
    "page.html": (
        '{% extends "base.html" %}'
        "{% block title %}{{ title }} – {{ super() }}{% endblock %}"
        "{% block body %}"
        "{% macro row(x) %}<td>{{ x }}</td>{% endmacro %}"
        "{% macro wrap(x) %}<td>{{ x }}{{ caller() }}</td>{% endmacro %}"
        "{% set held %}<em>{{ title }}</em>{% endset %}"
        "{{ held }}"
        "{% for item in items %}{% include 'part.html' %}{% endfor %}"
        "{{ row(title) }}"
        "{% call wrap(n) %}<b>{{ title }}</b>{% endcall %}"
        "{% filter upper %}{{ title }} & co{% endfilter %}"
        "{% autoescape false %}{{ raw }}{% endautoescape %}"
        "{{ safe }}{{ n * 2 }}{{ ratio }}{{ none }}{{ title | length }}{{ title ~ '<' }}"
        "{{ '%.2f' | format(ratio) }}{{ items | join(', ') }}{{ items }}"
        "{% endblock %}"
    ),
}

CONTEXT = {
    "site": "A & B's <night>",
    "title": 'Cannock "Chase" <gain> & more',
    "items": ["<one>", "two & three", Markup("<i>four</i>")],
    "n": 7,
    "ratio": 25.125,
    "none": None,
    "raw": "<raw & unescaped>",
    "safe": Markup("<strong>safe</strong>"),
}


def _stock() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.DictLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined)


def _ours() -> jinja2.Environment:
    return render._Environment(loader=jinja2.DictLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined)


def test_templates_render_what_stock_jinja_renders() -> None:
    ours, stock = _ours(), _stock()
    assert f"{render._OUTPUT_TEXT}(" in ours.compile(TEMPLATES["page.html"], raw=True)  # the output goes through it
    got = ours.get_template("page.html").render(**CONTEXT)
    assert got == stock.get_template("page.html").render(**CONTEXT)
    assert "&lt;raw" not in got and "<raw & unescaped>" in got  # autoescape false still writes it as it is
    assert "&lt;one&gt;" in got and "<i>four</i>" in got and "Cannock &#34;Chase&#34; &lt;gain&gt;" in got


def test_an_undefined_name_still_fails() -> None:
    with pytest.raises(jinja2.UndefinedError):
        _ours().from_string("{{ missing }}").render()
    with pytest.raises(jinja2.UndefinedError):
        _ours().from_string("{{ thing.missing }}").render(thing=object())


def test_the_theme_uses_it(tmp_path: Path) -> None:
    assert isinstance(render.load_theme(tmp_path).env, render._Environment)


OUTPUTS = (
    "{% if base %}{% extends base %}{% endif %}"  # an extends Jinja only knows of at render time
    "<p>{{ title }} and {{ n }}</p>{{ 'a constant' }} {{ 1 + 2 }}<{{ none }}>{{ title ~ '&' }}|{{ ratio }}"
    "{% block body %}[{{ title }}|{{ n * 2 }}]{% endblock %}"
)


@pytest.mark.parametrize("autoescape", [True, False])
@pytest.mark.parametrize("finalize", [None, lambda value: "∅" if value is None else value])
@pytest.mark.parametrize("base", [None, "base.html"])
def test_an_output_tag_is_one_yield_and_renders_what_stock_jinja_renders(
    autoescape: bool, finalize: Callable[[Any], Any] | None, base: str | None
) -> None:
    """Each ``{{ }}``-and-text run goes out as one joined piece: the same text, by render and by generate."""
    options: dict[str, Any] = {"loader": jinja2.DictLoader(TEMPLATES), "autoescape": autoescape, "finalize": finalize}
    ours, stock = render._Environment(**options), jinja2.Environment(**options)
    context = CONTEXT | {"base": base}
    expected = stock.from_string(OUTPUTS).render(**context)
    assert ours.from_string(OUTPUTS).render(**context) == expected
    assert "".join(ours.from_string(OUTPUTS).generate(**context)) == expected
    code = ours.compile("<p>{{ title }} and {{ n }}</p>", raw=True)
    assert code.count("\n    yield ") == 1, code  # besides the "if 0: yield None" that makes root a generator


INLINE_IFS = (
    "[{{ ' is-winner' if flag }}][{{ title if flag }}][{{ 'x' if flag else 'y' }}]"
    "[{{ ('a' if flag) ~ 'b' }}][{{ ('a' if flag) | default('dflt') }}][{{ ('a' if flag) is defined }}]"
    "{% set v = 'a' if flag %}[{{ v is defined }}][{{ v | default('unset') }}]"
    "[{{ ('in' if flag) if other }}][{{ (title if other) if flag }}]"
    "{% for item in items %}<{{ 'first' if loop.first }}{{ item if not loop.first }}>{% endfor %}"
    "{% macro m() %}({{ 'm' if flag }}){% endmacro %}{{ m() }}"
    "{% set held %}({{ 'held' if flag }}){% endset %}{{ held }}"
    "{% filter upper %}({{ 'upper' if flag }}){% endfilter %}"
    "{% autoescape false %}({{ raw if flag }}){% endautoescape %}"
)


@pytest.mark.parametrize("flag", [True, False])
@pytest.mark.parametrize("other", [True, False])
def test_an_inline_if_without_else_renders_what_stock_jinja_renders(flag: bool, other: bool) -> None:
    """Written straight into the page, a false inline if without an else is ``''`` (not an ``Undefined``
    turned into ``''``); wherever else it is (a filter's argument, ``is defined``, ``{% set %}``, inside a
    larger expression) it is still Jinja's ``Undefined``."""
    context = CONTEXT | {"flag": flag, "other": other}
    got = _ours().from_string(INLINE_IFS).render(**context)
    assert got == _stock().from_string(INLINE_IFS).render(**context)
    if not flag:
        assert "[dflt]" in got and "[False][unset]" in got  # the Undefined still acts where it can


def test_only_an_inline_if_that_is_itself_the_output_skips_the_undefined() -> None:
    code = _ours().compile("{{ 'x' if flag }}|{{ ('x' if flag) | default('d') }}", raw=True)
    assert "else ''" in code and code.count("cond_expr_undefined(") == 1


class _Clock:
    def label(self, suffix: str) -> str:
        return f"clock{suffix}"

    @jinja2.pass_context
    def seen(self, context: jinja2.runtime.Context) -> str:
        return f"seen {context.get('x', '-')}"


class _CallableWithContext:
    @jinja2.pass_context
    def __call__(self, context: jinja2.runtime.Context) -> str:
        return f"object {context.get('x', '-')}"


def _stops() -> str:
    raise StopIteration


def _marked_partial() -> Any:
    return jinja2.pass_environment(functools.partial(lambda prefix, env: f"{prefix} {env.autoescape}", "partial"))


CALLS = (
    "{{ plain(1) }}|{{ 'a b'.split() }}|{{ clock.label('!') }}|{{ part(2) }}|{{ marked() }}|{{ env_fn() }}"
    "|{{ eval_fn() }}|{{ clock.seen() }}|{{ obj() }}|{{ stops() }}|{{ mp() }}"
    "{% for x in [7, 8] %}{% set y = x %}[{{ ctx_fn() }}{{ clock.seen() }}{{ obj() }}{{ plain(x) }}]{% endfor %}"
    "{% set y = 9 %}{{ ctx_fn() }}"
    "{% macro m(a) %}<{{ a }}{{ caller() if caller }}>{% endmacro %}{{ m(plain(3)) }}"
    "{% call m(4) %}{{ ctx_fn() }}{% endcall %}"
)


def _callables() -> dict[str, Any]:
    return {
        "plain": lambda value: f"plain {value}",
        "clock": _Clock(),
        "part": functools.partial(lambda a, b: f"{a}{b}", "part "),
        "marked": jinja2.pass_context(lambda context: f"marked {context.get('x', '-')}"),
        "ctx_fn": jinja2.pass_context(lambda context: f"ctx {context.get('y', '-')}"),
        "env_fn": jinja2.pass_environment(lambda env: f"env {env.autoescape}"),
        "eval_fn": jinja2.pass_eval_context(lambda eval_ctx: f"eval {eval_ctx.autoescape}"),
        "obj": _CallableWithContext(),
        "stops": _stops,
        "mp": _marked_partial(),
    }


def test_calls_in_templates_do_what_stock_jinja_does() -> None:
    """The theme's context calls a plain callable directly; whatever Jinja would hand its context, environment
    or eval context (``pass_context`` functions, methods, partials, callable objects, macros and ``caller``)
    still gets it, in loops and blocks too, and a ``StopIteration`` is still an undefined value."""
    templates = {"child.html": '{% extends "parent.html" %}{% block b %}' + CALLS + "{% endblock %}"}
    templates["parent.html"] = "{% block b %}{% endblock %}"
    ours = render._Environment(loader=jinja2.DictLoader(templates), autoescape=True)
    stock = jinja2.Environment(loader=jinja2.DictLoader(templates), autoescape=True)
    for name in ("child.html",):
        got = ours.get_template(name).render(**_callables())
        assert got == stock.get_template(name).render(**_callables())
        assert "[ctx 7seen -object -plain 7][ctx 8" in got and "env True|eval True|seen -|object -||partial" in got
    got = ours.from_string(CALLS).render(**_callables())
    assert got == stock.from_string(CALLS).render(**_callables())
    assert isinstance(ours.from_string("").new_context({}), render._Context)
