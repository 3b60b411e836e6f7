"""Python's scopes as the name analysis sees them, and the names each scope binds.

A function's locals are decided before it runs (any binding anywhere in its body makes a name
local, unless declared `global` or `nonlocal`), so they are computed up front, syntactically, the
way CPython's symbol table does. Module and class bodies are different: their code runs once, in
order, so what is bound there is tracked along the flow (`Flow`).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

ScopeKind = Literal["module", "function", "class", "comprehension"]
COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


@dataclass
class Flow:
    """What is bound at one point of a module or class body: surely, or on some path."""

    definite: set[str] = field(default_factory=set)
    maybe: set[str] = field(default_factory=set)  # a superset of `definite`
    deleted: set[str] = field(default_factory=set)  # unbound by the code on every path

    def copy(self) -> Flow:
        return Flow(set(self.definite), set(self.maybe), set(self.deleted))

    def bind(self, name: str) -> None:
        self.definite.add(name)
        self.maybe.add(name)
        self.deleted.discard(name)

    def maybe_bind(self, name: str) -> None:
        self.maybe.add(name)
        self.deleted.discard(name)

    def unbind(self, name: str) -> None:
        self.definite.discard(name)
        self.maybe.discard(name)
        self.deleted.add(name)


def join(*flows: Flow | None) -> Flow | None:
    """The flow after paths meet: bound surely only if bound surely on every path."""
    present = [flow for flow in flows if flow is not None]
    if not present:
        return None
    definite = set.intersection(*(flow.definite for flow in present))
    deleted = set.intersection(*(flow.deleted for flow in present))
    return Flow(definite, set.union(*(flow.maybe for flow in present)), deleted)


@dataclass
class Scope:
    kind: ScopeKind
    parent: Scope | None
    deferred: bool = False  # its code runs later than where it is written (functions, generators)
    local_names: frozenset[str] = frozenset()
    global_names: frozenset[str] = frozenset()
    nonlocal_names: frozenset[str] = frozenset()
    flow: Flow | None = None  # module and class bodies only: their code runs once, in order
    # name bound here -> module-level names whose value it may be or hold (`d = df`, `box = [df]`)
    aliases: dict[str, set[str]] = field(default_factory=dict)
    items: dict[str, set[str]] = field(default_factory=dict)  # ... whose items it may hold (`[df]`)

    def runs_later(self) -> bool:
        """True if this scope or one around it is deferred."""
        current: Scope | None = self
        while current is not None:
            if current.deferred:
                return True
            current = current.parent
        return False

    def in_function(self) -> bool:
        current: Scope | None = self
        while current is not None:
            if current.kind == "function":
                return True
            current = current.parent
        return False


def target_names(target: ast.AST) -> set[str]:
    """Names that an assignment target binds (`a, (b, *c) = ...` binds a, b, c; `x.a = ...` none)."""
    if isinstance(target, ast.Name):
        return {target.id}
    if isinstance(target, (ast.Tuple, ast.List)):
        return set().union(*(target_names(element) for element in target.elts))
    if isinstance(target, ast.Starred):
        return target_names(target.value)
    return set()


def argument_names(args: ast.arguments) -> set[str]:
    every = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    every += [arg for arg in (args.vararg, args.kwarg) if arg is not None]
    return {arg.arg for arg in every}


def function_scope(
    parent: Scope, body: Iterable[ast.AST], args: ast.arguments | None, *, kind: ScopeKind = "function"
) -> Scope:
    """The scope of a function, lambda or class body, its symbols computed from its code."""
    bound, _, global_names, nonlocal_names = _symbols(body)
    if args is not None:
        bound |= argument_names(args)
    if kind == "class":  # class bodies are tracked along their flow; only `global` matters here
        return Scope("class", parent, global_names=frozenset(global_names), flow=Flow())
    local_names = bound - global_names - nonlocal_names
    return Scope(
        "function",
        parent,
        deferred=True,
        local_names=frozenset(local_names),
        global_names=frozenset(global_names),
        nonlocal_names=frozenset(nonlocal_names),
    )


def interrupted(flow: Flow | None, body: list[ast.stmt]) -> Flow | None:
    """The flow at an unknown point of `body`, which started from `flow` (where an exception or a
    `break` may leave it): whatever the block binds is maybe bound, whatever it unbinds not sure."""
    if flow is None:
        return None
    bound, unbound, _, _ = _symbols(body)
    return Flow(flow.definite - unbound, flow.maybe | bound, flow.deleted - bound)


def _symbols(body: Iterable[ast.AST]) -> tuple[set[str], set[str], set[str], set[str]]:
    """(bound, unbound, global, nonlocal) names of one scope's own code, nested scopes left out.

    `bound` has every name the code binds or deletes (either makes it a function's local);
    `unbound` those it deletes (`del x`, and `except ... as x` which Python deletes after).
    """
    bound: set[str] = set()
    unbound: set[str] = set()
    global_names: set[str] = set()
    nonlocal_names: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, (*FUNCTIONS, ast.ClassDef)):
            bound.add(node.name)
            # Decorators, defaults, annotations and bases run here; the body is another scope.
            parts: list[ast.AST] = list(node.decorator_list)
            if isinstance(node, ast.ClassDef):
                parts += [*node.bases, *node.keywords]
            else:
                parts += [node.args] + ([node.returns] if node.returns else [])
            for part in parts:
                visit(part)
            return
        if isinstance(node, ast.Lambda):
            visit(node.args)
            return
        if isinstance(node, COMPREHENSIONS):
            # Its targets are its own; only a walrus inside binds here (PEP 572).
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.comprehension):
                    for part in (child.iter, *child.ifs):
                        visit(part)
                else:
                    visit(child)
            return
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            bound.add(node.id)
            if isinstance(node.ctx, ast.Del):
                unbound.add(node.id)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
            unbound.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name != "*":
                    bound.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.Global):
            global_names.update(node.names)
        elif isinstance(node, ast.Nonlocal):
            nonlocal_names.update(node.names)
        elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
            bound.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            bound.add(node.rest)
        for child in ast.iter_child_nodes(node):
            visit(child)

    for node in body:
        visit(node)
    return bound, unbound, global_names, nonlocal_names
