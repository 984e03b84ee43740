"""The Jinja environment and everything that turns views into page text.

Templates come from the blog's own ``templates/`` first (overrides, file by file), then the
default theme that ships with countnight. Autoescape is on; entry bodies arrive already sanitised.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from types import BuiltinMethodType, FunctionType, MethodType
from typing import Any

import jinja2
import jinja2.compiler
import jinja2.runtime
import jinja2.utils
from markupsafe import Markup, escape

from . import __version__
from .embeds import FRAME_ORIGINS
from .markup import render_markdown
from .names import default_theme, is_theme_file, theme_files
from .parties import (
    NEUTRAL_COLOUR,
    PARTIES,
    party_colour,
    party_name,
    party_object,
    party_short,
    party_text_colour,
)
from .views import EntryView, memo

# No inline script or style anywhere: a sanitiser slip can never run code (the tests switch it off to prove it).
# The page's <meta> carries CSP_META; a web server should send CSP as a header (deploy/nginx.conf does):
# browsers ignore frame-ancestors in a <meta>, and complain about it in the console.
# Frames: only the embed origins of the services an entry's ``embed:`` may name (embeds.py), which embed.js
# loads once the reader allows them; nothing else of theirs (no script, image or font on the page itself).
CSP_META = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; "
    f"connect-src 'self'; font-src 'self'; frame-src {' '.join(FRAME_ORIGINS)}; base-uri 'none'; form-action 'none'"
)
CSP = f"{CSP_META}; frame-ancestors 'none'"
ASSETS = ("style.css", "live.js", "sort.js", "results.css", "follow.js", "embed.js")


try:  # the function markupsafe.escape itself calls (its C speedup, or its pure-Python twin)
    from markupsafe import _escape_inner as _escape_text
except ImportError:  # pragma: no cover - a MarkupSafe without it: escape's own result, as text

    def _escape_text(text: str, /) -> str:
        return str(escape(text))


def output_text(value: Any, /) -> str:
    """What ``{{ value }}`` writes into an autoescaped page: exactly what ``markupsafe.escape`` gives.

    ``escape`` wraps every result in a ``Markup``, a Python-level constructor (~1 µs) whose only use
    here is to be joined into the page a moment later: a page's output pieces are always joined (by
    ``Template.render``, or into a ``Markup`` by a block ``set``, a macro or a filter block). Tens of
    thousands of them a build (a result's card has ~60), so the theme's templates write plain text.
    """
    kind = type(value)
    if kind is str:
        return _escape_text(value)
    if kind is int:
        return str(value)
    if hasattr(value, "__html__"):
        return str(value.__html__())
    return _escape_text(str(value))


_OUTPUT_TEXT = "_countnight_output_text"  # output_text, as the generated template modules call it


class _CodeGenerator(jinja2.compiler.CodeGenerator):
    """Jinja's code generator, with ``output_text`` for the escape around each autoescaped output.

    And an inline if without an else (``{{ ' is-winner' if loop.first }}``), when it is such an output
    itself, writes ``''`` when false: Jinja's implicit else is a plain ``Undefined``, built with a message
    and then turned into ``''`` through a failed ``__html__`` lookup (~2 µs; a result's card has seven).
    Anywhere else (``{% set %}``, a filter's argument) the ``Undefined`` stays, as it can act there.
    """

    _output_child: jinja2.nodes.Expr | None = None

    def _output_child_pre(
        self,
        node: jinja2.nodes.Expr,
        frame: jinja2.compiler.Frame,
        finalize: jinja2.compiler.CodeGenerator._FinalizeInfo,
    ) -> None:
        if frame.eval_ctx.autoescape and not frame.eval_ctx.volatile and finalize.src is None:
            self.write(f"{_OUTPUT_TEXT}(")
            self._output_child = node
        else:
            super()._output_child_pre(node, frame, finalize)

    def _output_child_post(
        self,
        node: jinja2.nodes.Expr,
        frame: jinja2.compiler.Frame,
        finalize: jinja2.compiler.CodeGenerator._FinalizeInfo,
    ) -> None:
        self._output_child = None
        super()._output_child_post(node, frame, finalize)

    def visit_Template(self, node: jinja2.nodes.Template, frame: jinja2.compiler.Frame | None = None) -> None:
        super().visit_Template(node, frame)
        # A module-level name: ``environment.output_text`` (a static method found through the instance) was
        # a slow attribute lookup before each of the ~90 outputs of a result's <article>, ~60 ns apiece.
        # Imported, as Jinja imports its filters, not taken from ``environment``: a template compiled to a
        # module for Jinja's ModuleLoader runs this line before it is given an environment.
        self.writeline(f"from {__name__} import output_text as {_OUTPUT_TEXT}")

    def visit_Output(self, node: jinja2.nodes.Output, frame: jinja2.compiler.Frame) -> None:
        """One ``yield`` per output tag, not one per piece of it.

        Jinja yields each constant run and each ``{{ value }}`` separately from a template's body and
        blocks, and ``render`` joins them: ``<meta content="{{ e.headline }}">`` was three trips in and
        out of the generator. The pieces now go out joined, as Jinja already does where it writes into a
        buffer (macros, ``{% set %}`` blocks): a share page went from ~190 yields to ~60.
        """
        if frame.buffer is not None or frame.require_output_check:
            super().visit_Output(node, frame)
            return
        finalize = self._make_finalize()
        pieces: list[list[str] | jinja2.nodes.Expr] = []
        for child in node.nodes:
            try:  # constant folding, as Jinja does it: template text always, other constants if finalize allows
                if not (finalize.const or isinstance(child, jinja2.nodes.TemplateData)):
                    raise jinja2.nodes.Impossible()
                const = self._output_child_to_const(child, frame, finalize)
            except Exception:  # Impossible, or an error that is clearer raised at render time
                pieces.append(child)
                continue
            if pieces and isinstance(pieces[-1], list):
                pieces[-1].append(const)
            else:
                pieces.append([const])
        if not pieces:
            return
        if len(pieces) == 1:  # written here, not by Jinja: its own folding would call a test a second time
            piece = pieces[0]
            if isinstance(piece, list):
                self.writeline("yield " + self._output_const_repr(piece))
                return
            self.writeline("yield ", piece)
            self._output_child_pre(piece, frame, finalize)
            self.visit(piece, frame)
            self._output_child_post(piece, frame, finalize)
            return
        self.writeline("yield ''.join((")
        self.indent()
        for piece in pieces:
            if isinstance(piece, list):
                self.writeline(self._output_const_repr(piece) + ",")
                continue
            self.newline(piece)
            self._output_child_pre(piece, frame, finalize)
            self.visit(piece, frame)
            self._output_child_post(piece, frame, finalize)
            self.write(",")
        self.outdent()
        self.writeline("))")

    def visit_CondExpr(self, node: jinja2.nodes.CondExpr, frame: jinja2.compiler.Frame) -> None:
        if node.expr2 is None and node is self._output_child:
            empty = jinja2.nodes.Const("", lineno=node.lineno, environment=self.environment)
            node = jinja2.nodes.CondExpr(node.test, node.expr1, empty, lineno=node.lineno, environment=self.environment)
        super().visit_CondExpr(node, frame)


def _plain(obj: Any) -> bool:
    """Whether ``Context.call`` would call ``obj`` as it is: a builtin, or a function, bound method or partial
    not marked by ``pass_context`` and the like (the mark lives in its ``__dict__``, or its function's)."""
    kind = type(obj)
    if kind is BuiltinMethodType:
        return True  # neither it nor its __call__ can carry a mark
    if kind is MethodType:
        obj = obj.__func__
        kind = type(obj)
    return (kind is FunctionType or kind is functools.partial) and "jinja_pass_arg" not in obj.__dict__


class _Context(jinja2.runtime.Context):
    """Jinja's context, with a shorter way to call a plain callable (``assets.url('style.css')``,
    ``e.modified.isoformat()``, ``rev(e)``: ~1–2 µs each, four a share page): the same call, and the same
    ``Undefined`` for a ``StopIteration``; anything else (macros, callable objects, anything marked to
    receive the context) goes through Jinja's own ``call``."""

    @jinja2.utils.internalcode  # left out of a template error's traceback, as Jinja's own call is
    def call(__self, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # Jinja's names: a keyword may be "self"
        if not _plain(__obj):
            return super().call(__obj, *args, **kwargs)
        if kwargs:
            kwargs.pop("_block_vars", None)
            kwargs.pop("_loop_vars", None)
        try:
            return __obj(*args, **kwargs)
        except StopIteration:
            return __self.environment.undefined(
                "value was undefined because a callable raised a StopIteration exception"
            )


# The private parts of Jinja's CodeGenerator that _CodeGenerator overrides or calls. pyproject.toml pins jinja2
# to the release whose own test suite `make test` runs against _CodeGenerator (tests/jinja_suite); should a
# different Jinja lack any of them, templates compile with Jinja's own generator: the same pages, slower.
_JINJA_HOOKS = (
    "_output_child_pre",
    "_output_child_post",
    "_output_child_to_const",
    "_output_const_repr",
    "_make_finalize",
    "_FinalizeInfo",
)


def code_generator_for(base: type[jinja2.compiler.CodeGenerator]) -> type[jinja2.compiler.CodeGenerator]:
    """``_CodeGenerator`` when ``base`` has every part it builds on, else ``base`` itself."""
    if all(hasattr(base, name) for name in _JINJA_HOOKS) and issubclass(_CodeGenerator, base):
        return _CodeGenerator
    return base


class _Environment(jinja2.Environment):
    code_generator_class = code_generator_for(jinja2.compiler.CodeGenerator)
    context_class = _Context


# What Jinja's output for a template depends on besides its source: this module (the code generator, the
# environment's settings) and the tool's version. Jinja's own magic adds its version and Python's.
_CODE = hashlib.sha256(Path(__file__).read_bytes() + __version__.encode()).hexdigest()


class _CompiledTheme(jinja2.BytecodeCache):
    """The default theme's templates as compiled code, kept beside them in ``__pycache__`` as Python keeps
    its own modules' bytecode (and, as Python does, written only when ``sys.dont_write_bytecode`` allows).

    Compiling the theme's 18 templates was 65-135 ms of every start, before any entry could be read. Only
    the default theme that ships with countnight is kept: a blog's own templates are compiled every time.
    A file is used only for the template's exact source compiled by this very code (its checksum covers
    both); anything else in it (another version, a broken file) is ignored and compiled afresh.
    """

    def __init__(self, folder: Path, *, write: bool | None = None) -> None:
        self.folder = os.path.realpath(folder)
        self.cache = os.path.join(self.folder, "__pycache__")
        self.writes = not sys.dont_write_bytecode if write is None else write

    def get_cache_key(self, name: str, filename: str | None = None) -> str:
        real = os.path.realpath(filename) if filename is not None else ""
        if not real.startswith(self.folder + os.sep):
            return ""  # not the default theme's (a blog's own template): never kept
        return hashlib.sha256(f"{name}|{real}".encode()).hexdigest()[:32]

    def get_source_checksum(self, source: str) -> str:
        return hashlib.sha256(f"{_CODE}\n{source}".encode()).hexdigest()

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if not bucket.key:
            return
        try:
            with open(os.path.join(self.cache, f"{bucket.key}.jinja"), "rb") as f:
                bucket.load_bytecode(f)
        except Exception:  # missing, unreadable or garbled: compiled afresh
            bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        """Keep a freshly compiled template's code (atomically: another process may be reading); quietly not,
        where it cannot."""
        if not bucket.key or not self.writes:
            return
        path = os.path.join(self.cache, f"{bucket.key}.jinja")
        temp = f"{path}.{os.getpid()}.tmp"
        try:
            os.makedirs(self.cache, exist_ok=True)
            with open(temp, "wb") as f:
                bucket.write_bytecode(f)
            os.replace(temp, path)
        except OSError:  # a read-only install: compiled each time, as before
            with contextlib.suppress(OSError):
                os.unlink(temp)


def compile_default_theme() -> int:
    """Compile the default theme into its ``__pycache__`` now, as ``compileall`` does for Python code (the
    Makefile and the benchmark run both), whatever ``sys.dont_write_bytecode`` says. The number of templates.

    Jinja's own loading does it: a template whose kept code is missing or stale is compiled and handed to
    ``dump_bytecode``."""
    folder = default_theme()
    env = _environment([folder], _CompiledTheme(folder, write=True))
    names = _template_names(env)
    for name in names:
        env.get_template(name)
    return len(names)


@dataclass(frozen=True)
class Theme:
    """A Jinja environment plus the theme's static assets with content-hashed names."""

    env: jinja2.Environment
    assets: dict[str, tuple[str, bytes]]  # "style.css" → ("assets/style.1a2b3c4d.css", bytes)
    fingerprint: str  # changes whenever a template or asset does: the fragment cache key includes it

    def url(self, name: str) -> str:
        return self.assets[name][0]


def load_theme(root: Path) -> Theme:
    """Build the environment for a blog folder; raises jinja2.TemplateError on a broken template."""
    folders = [p for p in (root / "templates", default_theme()) if p.is_dir()]
    env = _environment(folders, _CompiledTheme(default_theme()))
    digest = hashlib.sha256(__version__.encode())
    for folder in reversed(folders):  # overrides win: later updates replace earlier ones
        for path in theme_files(folder):
            digest.update(path.relative_to(folder).as_posix().encode())
            digest.update(path.read_bytes())
    assets: dict[str, tuple[str, bytes]] = {}
    for name in (*ASSETS, "parties.css"):
        data = party_css() if name == "parties.css" else _asset_bytes(folders, name)
        stem, _, ext = name.rpartition(".")
        assets[name] = (f"assets/{stem}.{hashlib.sha256(data).hexdigest()[:10]}.{ext}", data)
    fingerprint = digest.hexdigest()[:16]
    env.globals["rev"] = functools.partial(entry_rev, fingerprint)
    for name in _template_names(env):
        template = env.get_template(name)  # compile every template now: a broken override fails the build
        # Jinja keeps a template's globals as a ChainMap over the environment's, and copies it into a new
        # dict on every render, one Python-level lookup per key: ~15 µs a page. Nothing is added to the
        # globals after this point, so a plain dict (copied in C) is the same context for a quarter less.
        template.globals = dict(template.globals)
    return Theme(env, assets, fingerprint)


def _template_names(env: jinja2.Environment) -> list[str]:
    return env.list_templates(filter_func=lambda n: n.endswith((".html", ".xml")) and is_theme_file(n))


def _environment(folders: list[Path], compiled: _CompiledTheme) -> jinja2.Environment:
    env = _Environment(
        loader=jinja2.FileSystemLoader([str(p) for p in folders]),
        bytecode_cache=compiled,
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # a new environment every build: no need to stat each template on every use
        # A plain dict, not Jinja's locked LRU (a lock and a deque shuffle on every lookup): every render
        # with {% extends %} or {% include %} looks a template up, and a theme has a few dozen of them.
        cache_size=-1,
    )
    # The party helpers are globals (``party_name(code)``, as themes may call them) and filters too
    # (``code | party_name``, as the default theme does): Jinja calls a filter directly, a global through
    # Context.call, ~1 µs more, seven times in each result's table.
    parties = {
        "party_name": party_name,
        "party_object": party_object,
        "party_short": party_short,
        "party_class": party_class,
    }
    env.globals.update(parties, party_colour=party_colour, party_text_colour=party_text_colour, version=__version__)
    env.filters.update(parties, votes=lambda n: f"{n:,}", pct=_pct, points=_points, signed=_signed)
    return env


def entry_rev(fingerprint: str, view: EntryView) -> str:
    """A short version tag of what an entry shows: open pages compare it to spot corrections.

    It covers the entry as written, what was computed from it and the baseline, and the theme, so
    anything that changes the entry's HTML changes its tag. Computed once per view and theme.
    """

    def make() -> str:
        # The text the entry was read from names it as written (and more: a change of spacing changes it too);
        # without it, the entry's JSON does.
        written = f"source {view.source}" if view.source else view.entry.model_dump_json()
        parts = (fingerprint, written, view.headline, view.time_shown, _baseline_used(view))
        if view.figures:  # the same text with a picture file replaced under its name shows a new picture
            parts += tuple(f.made.digest for f in view.figures)
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:12]

    return memo(view, f"rev {fingerprint}", make)


def _baseline_used(view: EntryView) -> str:
    """What of the baseline went into an entry's figures. The figures are a pure function of the entry
    and this (and of the code, which the fingerprint's version covers), so the tag need not hash the
    figures themselves: a result's repr is 40 µs, this is 5."""
    result, turnout = view.result, view.turnout
    if result is not None:
        used = (
            result.electorate,
            result.previous_turnout,
            result.previous_winner,
            sorted(result.previous_shares.items()),
        )
        return repr(used)
    return repr(turnout) if turnout is not None else ""


def party_class(code: str) -> str:
    """The CSS class that colours a party's chips and bars (CSP forbids inline styles)."""
    return f"party-{code.lower()}" if code in PARTIES else "party-other"


def party_css() -> bytes:
    """A stylesheet with each known party's colour, generated from the party table."""
    rules = [
        f".party-other{{background:{NEUTRAL_COLOUR};fill:{NEUTRAL_COLOUR};color:#000}}",
        *(
            f".party-{code.lower()}{{background:{party_colour(code)};fill:{party_colour(code)};"
            f"color:{party_text_colour(code)}}}"
            for code in PARTIES
        ),
    ]
    return ("\n".join(rules) + "\n").encode()


def _asset_bytes(folders: list[Path], name: str) -> bytes:
    for folder in folders:
        path = folder / "assets" / name
        if path.is_file():
            return path.read_bytes()
    raise jinja2.TemplateNotFound(f"assets/{name}")


def _pct(value: float | None, places: int = 1) -> str:
    return "–" if value is None else f"{value:.{places}f}%"


def _points(value: float | None, places: int = 1) -> str:
    return "–" if value is None else f"{abs(value):.{places}f}"


def _signed(value: float | None, places: int = 1) -> str:
    if value is None:
        return "–"
    if round(value, places) == 0:
        return f"{0:.{places}f}"
    return f"{'+' if value > 0 else '−'}{abs(value):.{places}f}"


def render_entry(theme: Theme, view: EntryView, *, prefix: str = "") -> str:
    """One entry's ``<article>``: used on pages, in live.json and on its share page.

    ``prefix`` goes before every id in it, for a second copy on the same page (the pinned one), so
    ids stay unique.
    """
    body = Markup(render_markdown(view.entry.body)) if view.entry.kind != "summary" else Markup("")
    return theme.env.get_template("entry.html").render(e=view, body=body, prefix=prefix)


def render_summary(view: EntryView | None) -> Markup:
    return Markup(render_markdown(view.entry.body)) if view is not None else Markup("")


def render_template(theme: Theme, name: str, **context: Any) -> str:
    """A page or partial template with the CSP and the theme's asset URLs in its context."""
    return theme.env.get_template(name).render(csp=CSP_META, assets=theme, **context)
