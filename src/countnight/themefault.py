"""Where a blog's templates failed as they rendered: the template file and line, for the build to report.

A template compiles and still fails when it renders: a name it reads is undefined (Jinja's ``UndefinedError``),
or an expression raises plain Python (``{{ 1 // n }}``, ``{{ "a" + 1 }}``, ``{% for x in 5 %}``). Jinja's own
errors name no template or line at that point, and a Python error is no ``TemplateError`` at all: it went past
the build's handlers, a traceback instead of a ``FILE:LINE: message``. ``fault`` finds the innermost template
line in the error's traceback, in the process where it was raised (a worker's traceback does not cross the pipe
back to the build: the ``TemplateFault`` it becomes does). An error raised by no template is not one (None):
it goes on as the bug it is.
"""

from __future__ import annotations

import os
from types import TracebackType

import jinja2

from .errors import Problem
from .names import default_theme


class TemplateFault(jinja2.TemplateError):
    """An error raised while a template rendered, with where: the template's file and line."""

    def __init__(self, path: str, lineno: int, text: str) -> None:
        super().__init__(text)
        self.path = path
        self.lineno = lineno
        self.text = text

    def __reduce__(self) -> tuple[type[TemplateFault], tuple[str, int, str]]:  # across a worker's pipe
        return TemplateFault, (self.path, self.lineno, self.text)


def _place(tb: TracebackType | None) -> tuple[str, int] | None:
    """The innermost template line in a traceback: a frame of a template's own code (the line mapped back to
    the template's), or a frame Jinja put in its place when it rewrote the traceback (the template's line)."""
    found = None
    while tb is not None:
        names = tb.tb_frame.f_globals
        template = names.get("__jinja_template__")
        if isinstance(template, jinja2.Template):
            where = _shown(template.filename or "?", template.name)
            found = (where, template.get_corresponding_lineno(tb.tb_lineno))
        elif "__jinja_exception__" in names:
            found = (_shown(tb.tb_frame.f_code.co_filename, None), tb.tb_lineno)
        tb = tb.tb_next
    return found


def _shown(filename: str, name: str | None) -> str:
    """How a problem names a template: ``templates/NAME`` for the blog's own (as every other problem names a
    file, from the blog's folder); the full path for one of countnight's default theme, which the blog's
    folder does not hold."""
    path = os.path.abspath(filename)
    if path.startswith(os.path.join(os.path.abspath(default_theme()), "")):
        return path
    if name is None:  # a frame of Jinja's rewritten traceback: only the file's path (from the blog's templates/)
        _, sep, tail = path.rpartition(f"{os.sep}templates{os.sep}")
        name = tail.replace(os.sep, "/") if sep and tail else None
    return f"templates/{name}" if name else filename


def fault(err: BaseException) -> TemplateFault | None:
    """``err`` as a ``TemplateFault`` if a template raised it as it rendered; None otherwise (a syntax error
    names its own file and line; an interrupt or an exit is never a template's)."""
    if isinstance(err, TemplateFault):
        return err
    if isinstance(err, jinja2.TemplateSyntaxError) or not isinstance(err, Exception):
        return None
    where = _place(err.__traceback__)
    if where is None:
        return None
    text = str(err) if isinstance(err, jinja2.TemplateError) else f"{type(err).__name__}: {err}"
    return TemplateFault(where[0], where[1], text)


def template_problem(err: BaseException) -> Problem | None:
    """What the build reports for an error a template raised, compiling or rendering; None when none did."""
    if isinstance(err, jinja2.TemplateSyntaxError):
        return Problem(f"templates/{err.name or err.filename or '?'}", err.lineno, f"template: {err.message}")
    found = fault(err)
    if found is not None:
        return Problem(found.path, found.lineno, f"template: {found.text}")
    if isinstance(err, jinja2.TemplateError):
        return Problem("templates", 0, f"template: {err}")
    return None
