"""Every node of a cell's tree, in `ast.walk`'s order, listed once per compile.

A compile's passes (imports, file effects, relative paths, seeds, the planner's reads of a step, ...)
each walked every cell's whole tree: ~10 walks of each cell, ~10% of a 1,000-cell compile, most of it
`ast.walk`'s generators. While `walks_kept()` is active (the planner holds it for a compile), `walk`
lists a parsed module's nodes the first time it is asked and answers later walks of the same tree
with that list; elsewhere, and for any tree that is not a module, it is `ast.walk` itself.

The list is `ast.walk`'s order exactly (breadth first, each node's children in the order of its
fields, as `ast.iter_child_nodes` gives them). It stays right only while nobody changes the tree: the
analyses' trees are read-only (cell.CellAnalysis.tree), and the one pass that writes into a cell's
tree (`star_imports.expand_star_imports`, before any other pass reads it) says so with `changed`,
which drops the list.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

T = TypeVar("T")

# id(tree) -> (the tree, kept alive so that its id is not reused while kept; its nodes)
_Kept = dict[int, tuple[ast.Module, tuple[ast.AST, ...]]]
_KEPT: ContextVar[_Kept | None] = ContextVar("jupyter_mlops_walks_kept", default=None)
# (id(tree), what) -> (the tree, what a pass made of it): see `kept`
_Facts = dict[tuple[int, str], tuple[ast.Module, Any]]
_FACTS: ContextVar[_Facts | None] = ContextVar("jupyter_mlops_facts_kept", default=None)


def _nodes(tree: ast.AST) -> tuple[ast.AST, ...]:
    """`tuple(ast.walk(tree))`, without a generator per node."""
    found: list[ast.AST] = [tree]
    append = found.append
    index = 0
    while index < len(found):
        node = found[index]
        index += 1
        for name in node._fields:
            try:
                field = getattr(node, name)
            except AttributeError:
                continue
            if isinstance(field, ast.AST):
                append(field)
            elif isinstance(field, list):
                for item in field:
                    if isinstance(item, ast.AST):
                        append(item)
    return tuple(found)


def walk(tree: ast.AST) -> Iterable[ast.AST]:
    """The nodes `ast.walk(tree)` gives, in its order; a module's listed once while walks are kept."""
    kept = _KEPT.get()
    if kept is None or type(tree) is not ast.Module:
        return ast.walk(tree)
    entry = kept.get(id(tree))
    if entry is None or entry[0] is not tree:
        entry = kept[id(tree)] = (tree, _nodes(tree))
    return entry[1]


def listed(tree: ast.AST) -> tuple[ast.AST, ...]:
    """`walk(tree)` as a tuple (to go through more than once)."""
    nodes = walk(tree)
    return nodes if isinstance(nodes, tuple) else _nodes(tree)


def kept(tree: ast.Module, what: str, make: Callable[[ast.Module], T]) -> T:
    """`make(tree)`, made once per tree while walks are kept (`what` names it): for what a pass makes
    of a whole cell and only reads (value_kinds.bindings, asked for each step's inputs, its values'
    kinds and what travels with it)."""
    facts = _FACTS.get()
    if facts is None or type(tree) is not ast.Module:
        return make(tree)
    key = (id(tree), what)
    entry = facts.get(key)
    if entry is None or entry[0] is not tree:
        entry = facts[key] = (tree, make(tree))
    found: T = entry[1]
    return found


def changed(tree: ast.AST) -> None:
    """`tree` was changed in place: its next walk lists it again, and what passes made of it is made
    again."""
    kept = _KEPT.get()
    if kept is not None:
        kept.pop(id(tree), None)
    facts = _FACTS.get()
    if facts is not None:
        for key in [k for k in facts if k[0] == id(tree)]:
            del facts[key]


@contextmanager
def walks_kept() -> Iterator[None]:
    """While active (in this thread or task), a module's nodes are listed once (`walk`); the lists are
    dropped when the outermost one ends."""
    if _KEPT.get() is not None:
        yield
        return
    token, facts_token = _KEPT.set({}), _FACTS.set({})
    try:
        yield
    finally:
        _FACTS.reset(facts_token)
        _KEPT.reset(token)
