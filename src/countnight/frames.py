"""A page template rendered once a build around the blocks that differ from page to page.

Every entry has a share page (10,000 on a long night), and most of one is the same on all of them: base.html's
head and masthead, the stylesheets' and scripts' addresses, the CSP, the footer. Rendered whole, each page
worked all of that out again (base.html's ~30 outputs, three of its blocks): ~40% of a share page's time. A
``Frame`` is the page rendered once with what every page of the kind shares; a page then renders only the
blocks that read what is its own, and the frame's text goes around them.

Nothing is assumed of the theme (a blog may override any template): which blocks differ from page to page
is read from the templates themselves (every name each reads, as Jinja's own ``meta`` finds them), and a
template whose shape allows no such split (a name of a page's own read outside a block, a ``{% set %}`` or an
``{% include %}`` outside one, a block of a page's own inside a loop or a filter) gets no frame: its pages are
rendered whole, as before. ``tests/test_frames.py`` proves a framed page equal to the page rendered whole.
"""

from __future__ import annotations

import re
import secrets
import weakref
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import jinja2
import jinja2.meta
import jinja2.nodes as nodes
import jinja2.visitor

from .render import CSP_META, Theme

# Statements that may change what a block sees, or bring in a template the analysis does not read: outside a
# block they make a template unframeable; inside one, a block that holds them is rendered with each page.
_OPAQUE = (nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends)
_TOP_LEVEL_SETTERS = (nodes.Assign, nodes.AssignBlock, nodes.Macro, nodes.Include, nodes.Import, nodes.FromImport)
_CHAIN_MAX = 16  # templates a page's {% extends %} chain may have (Jinja has no limit; a loop is refused)


@dataclass(frozen=True)
class _Plan:
    """What a template's pages share, read from its source and its parents': the parents (nearest first) and
    the blocks that read a page's own values (rendered with each page)."""

    ancestors: tuple[str, ...]
    per_page: frozenset[str]


@dataclass(frozen=True)
class Frame:
    """A page template rendered with the values all its pages share, around a slot for each block of a page's
    own (in the order the page writes them): ``pieces`` has one more item than ``slots``."""

    template: jinja2.Template
    ancestors: tuple[jinja2.Template, ...]
    pieces: tuple[str, ...]
    slots: tuple[str, ...]
    shared: Mapping[str, Any]  # what every page gives the template alike (the CSP and the theme's assets too)

    def render(self, **own: Any) -> str:
        """The page, as ``render.render_template(theme, name, **shared, **own)`` writes it whole."""
        template = self.template
        ctx = template.new_context({**self.shared, **own})
        blocks = ctx.blocks
        for parent in self.ancestors:  # as the template's own {% extends %} sets them up
            for name, block in parent.blocks.items():
                blocks.setdefault(name, []).append(block)
        pieces = self.pieces
        out = [pieces[0]]
        try:
            for at, slot in enumerate(self.slots, 1):
                out.extend(blocks[slot][0](ctx))
                out.append(pieces[at])
        except Exception:
            template.environment.handle_exception()  # raises it, as Template.render does
        return "".join(out)


_plans: weakref.WeakKeyDictionary[jinja2.Template, dict[frozenset[str], _Plan | None]] = weakref.WeakKeyDictionary()


def frame(theme: Theme, name: str, shared: Mapping[str, Any], own: frozenset[str]) -> Frame | None:
    """``name`` rendered with ``shared`` (what every page of a build gives it alike), around the blocks that
    read any of ``own`` (what each page gives it of its own); None when its shape allows no frame."""
    env = theme.env
    template = env.get_template(name)
    plans = _plans.setdefault(template, {})
    if own not in plans:
        plans[own] = _plan(env, name, own)
    plan = plans[own]
    if plan is None:
        return None
    ancestors = tuple(env.get_template(parent) for parent in plan.ancestors)
    token = secrets.token_hex(8)
    mark = f"\x00frame-{token}:"
    values = dict(csp=CSP_META, assets=theme, **shared)
    ctx = template.new_context(dict(values))
    for slot in plan.per_page:
        ctx.blocks[slot] = [_marker(mark + slot + "\x00")]
    try:
        text = env.concat(template.root_render_func(ctx))  # type: ignore[attr-defined]
    except jinja2.UndefinedError:  # a name of a page's own read where the analysis did not see it: no frame
        return None
    parts = re.split(f"{re.escape(mark)}([^\x00]*)\x00", text)
    pieces, slots = tuple(parts[0::2]), tuple(parts[1::2])
    if len(set(slots)) != len(slots) or not set(slots) <= plan.per_page or any(token in p.lower() for p in pieces):
        return None  # a block written twice, or its mark changed on the way (or held by the text itself)
    return Frame(template, ancestors, pieces, slots, MappingProxyType(values))


def _marker(text: str) -> Any:
    def block(context: jinja2.runtime.Context) -> Iterator[str]:
        yield text

    return block


def _plan(env: jinja2.Environment, name: str, own: frozenset[str]) -> _Plan | None:
    """Which blocks of ``name`` (with its parents) read any of ``own``; None if the template cannot be framed."""
    chain: list[tuple[str, nodes.Template]] = []
    current: str | None = name
    while current is not None:
        if len(chain) == _CHAIN_MAX or any(current == seen for seen, _ in chain):
            return None
        source, _, _ = env.loader.get_source(env, current)  # type: ignore[union-attr]
        tree = env.parse(source, current)
        chain.append((current, tree))
        current = _parent(tree)
        if current is _UNFRAMEABLE:
            return None
    blocks: dict[str, nodes.Block] = {}
    for _, tree in reversed(chain):  # the root's first, each child's replacing its parent's
        blocks.update((block.name, block) for block in tree.find_all(nodes.Block))
    per_page = _per_page(env, blocks, own)
    if not _slots_placed(chain[-1][1].body, per_page):
        return None
    for _, tree in chain:
        top = _without_blocks(tree)  # (from here on, the trees have lost their blocks)
        if any(top.find_all(_TOP_LEVEL_SETTERS)) or _reads(env, top.body) & own or _names(top) & _SELF:
            return None
    return _Plan(tuple(parent for parent, _ in chain[1:]), frozenset(per_page))


_UNFRAMEABLE = "\x00"


def _parent(tree: nodes.Template) -> str | None:
    """The template ``tree`` extends (None: it is the root); _UNFRAMEABLE for an extends not at its top level, one
    whose name is worked out as it renders, or a child with anything but blocks (and text Jinja ignores)."""
    extends = list(tree.find_all(nodes.Extends))
    if not extends:
        return None
    if len(extends) > 1 or not isinstance(extends[0].template, nodes.Const):
        return _UNFRAMEABLE
    for node in tree.body:
        if isinstance(node, nodes.Extends | nodes.Block):
            continue
        if isinstance(node, nodes.Output) and all(isinstance(child, nodes.TemplateData) for child in node.nodes):
            continue
        return _UNFRAMEABLE
    parent = extends[0].template.value
    return parent if isinstance(parent, str) else _UNFRAMEABLE


def _per_page(env: jinja2.Environment, blocks: dict[str, nodes.Block], own: frozenset[str]) -> set[str]:
    """The blocks (as the page would render them) that read any of ``own``, or may (an include, super(),
    self), or hold such a block."""
    direct = {
        name
        for name, block in blocks.items()
        if any(block.find_all(_OPAQUE)) or _reads(env, block.body) & own or _names(block) & _SELF
    }
    per_page = set(direct)
    changed = True
    while changed:  # a block holding one of a page's own is one too
        changed = False
        for name, block in blocks.items():
            if name not in per_page and any(inner.name in per_page for inner in block.find_all(nodes.Block)):
                per_page.add(name)
                changed = True
    return per_page


_SELF = frozenset({"self", "super"})  # a block's own way to other blocks: which, the analysis does not follow


def _names(node: nodes.Node) -> set[str]:
    return {name.name for name in node.find_all(nodes.Name)}


def _reads(env: jinja2.Environment, body: list[nodes.Node]) -> set[str]:
    """Every name the nodes read from the context (their nested blocks' included), as Jinja's ``meta`` finds them."""
    tree = nodes.Template(body, lineno=1)
    tree.set_environment(env)
    return jinja2.meta.find_undeclared_variables(tree)


class _DropBlocks(jinja2.visitor.NodeTransformer):
    def visit_Block(self, node: nodes.Block) -> None:
        return None


def _without_blocks(tree: nodes.Template) -> nodes.Template:
    """A template's code outside its blocks (the tree is the analysis's own copy: changed in place)."""
    return _DropBlocks().visit(tree)  # type: ignore[no-any-return]


def _slots_placed(body: list[nodes.Node], per_page: set[str]) -> bool:
    """Whether every block of a page's own that the root template writes is written where its output goes
    straight into the page, once: at the top level, or in an ``{% if %}`` there (not in a loop, a filter, a
    call)."""
    for node in body:
        if isinstance(node, nodes.Block):
            continue  # a block of a page's own is a slot; a shared one renders in the frame, whatever it holds
        if isinstance(node, nodes.If):
            if not _slots_placed([*node.body, *node.elif_, *node.else_], per_page):
                return False
            continue
        if any(inner.name in per_page for inner in node.find_all(nodes.Block)):
            return False
    return True
