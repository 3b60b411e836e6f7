"""Which module-level values may share objects once a cell has run: the relations a cell creates.

In the notebook, `frames = [df]` makes `frames[0]` the very object `df` names, so a later cell that
changes `frames[0]` in place changes `df`. Steps store each name separately, so such a link would
be lost between steps; the data flow (`alias_flow`) keeps names that may share objects together.
This module finds, from a cell's AST, the names the cell relates. Sound first: when in doubt two
names are related (the cost is values passed on and stored together, never a wrong value).

A name bound in the cell is related to every module-level name its value may share objects with:
- `x = y`; displays `[a, b]`, `(a, b)`, `{'k': a}`, `{a}`, nested ones, `[*a]`, `a + [b]`;
- parts of a value, which may be views of it: `a[1:]` (a numpy view), `model.coef_`, `df['col']`
  (in pandas 3 a copy on write, related all the same: the analysis does not know types);
- calls whose value may be an argument, the receiver or a part of them (`readonly_calls`:
  `np.asarray(a)`, `df.head()`, `lst.copy()`, any function or method the tables do not know);
  known fresh results (`len(df)`, `df.mean()`, `np.zeros(3)`) relate nothing;
- unpacking: `x, y = a, b` pairs up displays of the same length; `x, y = pair` relates all, to
  `pair` and to each other (`fig, ax = plt.subplots()`: `ax.figure` is `fig`);
- `for d in data`, `with make(h) as f`, `(z := a)`, `match` captures.
A cell also relates a container to what it stores: `box['k'] = df`, `obj.a = df`, `lst += [a]`,
`lst.append(df)` (any method but the known read-only ones and those known to keep no argument:
`fit`, `sort`, `shuffle`, drawing, ...; scikit-learn's `fit` is taken to keep no reference to its
data, which holds but for a few estimators such as KNeighbors), and the arguments of a function that
may change them (`helper(box, df)` may put df in box).

A relation is (targets, sources): the targets' values after the cell may share objects with the
values the sources had when the cell used them. A name may be both (`a = a[1:]`, `lst += [x]`, a
container stored into, `box['k'] = df`, is the value it had then), so `alias_flow` can tell a name
rebound to a new value linked to nothing (out of its group) from one still made of its old value.

Functions defined in the notebook are read (their `FunctionSummary`): a call of one that changes
none of its parameters stores no argument into another, and a call of one whose every `return`
gives a value it made itself (`returns_fresh`: `w = np.zeros(n); ...; return w`) relates nothing.
Not followed (known limits): assignments inside functions (`global x; x = [df]` in a def).
Modules, functions and classes are code, not values: they never share objects.
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Collection, Iterable, Mapping

from jupyter_mlops.analysis.changes import FunctionSummary
from jupyter_mlops.analysis.readonly_calls import (
    READ_ONLY_METHODS,
    RECEIVER_CHANGING_METHODS,
    function_changes_arguments,
    function_result,
    method_result,
)

_BUILTINS = frozenset(dir(builtins))
# Methods that change their receiver and are known to keep no reference to their arguments.
_STORING = frozenset({"append", "extend", "insert", "add", "update", "setdefault", "set_params"})
_KEEPS_NO_ARGUMENT = RECEIVER_CHANGING_METHODS - _STORING
# Draws from a random generator: new values, or items of the arguments (`rng.choice(frames)`),
# never the generator itself.
_DRAWS = frozenset(
    {
        "random", "integers", "normal", "uniform", "choice", "permutation", "standard_normal",
        "binomial", "poisson", "exponential", "beta", "gamma", "randint", "rand", "randn", "sample",
        "gauss", "random_sample",
    }
)  # fmt: skip
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)


def code_names(
    *,
    binds: Collection[str],
    imports: Collection[str],
    definitions: Collection[str],
    outside_code: Collection[str],
) -> frozenset[str]:
    """Names that are code in a cell: its imports and defs, other cells' code, unshadowed builtins."""
    values = set(binds) - set(imports) - set(definitions)
    return frozenset(imports) | frozenset(definitions) | (frozenset(outside_code) | _BUILTINS) - values


Relation = tuple[frozenset[str], frozenset[str]]


def shared_values(
    tree: ast.Module,
    *,
    import_paths: Mapping[str, str],
    code: Collection[str],
    summaries: Mapping[str, FunctionSummary] | None = None,
) -> tuple[Relation, ...]:
    """(targets, sources): after the cell, each target may share objects with the values the
    sources had when the cell used them (`d = df`: ({'d'}, {'df'}); `a = a[1:]`: ({'a'}, {'a'}), the
    new `a` a view of the old one; `lst.append(x)`: ({'lst'}, {'x'})).

    `import_paths`: names bound to imports (the cell's and other cells') -> dotted path, and other
    cells' defs and classes -> ''; `code`: names that are code, not values (`code_names`);
    `summaries`: the notebook's functions, by name (what a call of one may change or give back).
    """
    finder = _Relations(import_paths, summaries or {})
    finder.statements(tree.body)
    found: set[Relation] = set()
    for targets, sources in finder.relations:
        relation = (frozenset(targets) - frozenset(code), frozenset(sources) - frozenset(code))
        if relation[0] and relation[1]:
            found.add(relation)
    return tuple(sorted(found, key=lambda r: (sorted(r[0]), sorted(r[1]))))


def relation_groups(relations: Iterable[Relation]) -> tuple[frozenset[str], ...]:
    """The names the relations connect, as groups of two or more."""
    return _components([targets | sources for targets, sources in relations])


def returns_fresh(
    node: ast.FunctionDef | ast.AsyncFunctionDef,
    *,
    import_paths: Mapping[str, str],
    summaries: Mapping[str, FunctionSummary] | None = None,
) -> bool:
    """True if every value the function returns is one it made itself: related (see `shared_values`,
    read over the function's own body) to nothing but its local names, never to a parameter or a
    module-level name. No `return` (None) is fresh; a generator, or a body that defines a nested
    function, lambda or class (which may keep a parameter), is not."""
    own = list(_own_nodes(node.body))
    if any(isinstance(n, (ast.Yield, ast.YieldFrom, *_SCOPES)) for n in own):
        return False
    declared = {name for n in own if isinstance(n, (ast.Global, ast.Nonlocal)) for name in n.names}
    local = {n.id for n in own if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)} - declared
    finder = _Relations(import_paths, summaries or {})
    finder.statements(node.body)
    returned = set().union(*(finder.sources(n.value) for n in own if isinstance(n, ast.Return)))
    marker = "<return>"  # not an identifier: it cannot meet a real name
    groups = _components([*(frozenset(t | s) for t, s in finder.relations), frozenset({marker, *returned})])
    group = next(g for g in groups if marker in g) if len(returned) else frozenset()
    return all(name in local for name in group - {marker})


def _own_nodes(body: list[ast.stmt]) -> Iterable[ast.AST]:
    """Every node of a function's body, the nested scopes themselves but not what is inside them."""
    pending: list[ast.AST] = list(body)
    while pending:
        current = pending.pop()
        yield current
        if not isinstance(current, (*_SCOPES, *_COMPREHENSIONS)):
            pending.extend(ast.iter_child_nodes(current))


class _Relations:
    def __init__(self, import_paths: Mapping[str, str], summaries: Mapping[str, FunctionSummary]) -> None:
        self.import_paths = import_paths
        self.summaries = summaries
        self.relations: list[tuple[set[str], set[str]]] = []

    def relate(self, targets: set[str], *sources: set[str]) -> None:
        """The values of `targets` may now share objects with those `sources` had."""
        shared = set().union(*sources)
        if targets and shared:
            self.relations.append((targets, shared))

    # -- statements ----------------------------------------------------------------------------

    def statements(self, body: list[ast.stmt]) -> None:
        for node in body:
            self.statement(node)

    def statement(self, node: ast.stmt) -> None:
        if isinstance(node, _SCOPES):
            return  # their bodies bind local names (decorators and defaults: see `expressions`)
        if isinstance(node, ast.Assign):
            for target in node.targets:
                self.bind(target, node.value)
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            self.bind(node.target, node.value)
        elif isinstance(node, ast.AugAssign):
            # `lst += [a]`: the same list, now holding a too (`a += 1` of a number: a new value)
            self.relate(_targets(node.target), _targets(node.target), self.sources(node.value))
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            self.relate(_targets(node.target), _stored_into(node.target), self.sources(node.iter))
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                if item.optional_vars is not None:
                    into = _stored_into(item.optional_vars)
                    self.relate(_targets(item.optional_vars), into, self.sources(item.context_expr))
        elif isinstance(node, ast.Match):
            captured = {n for case in node.cases for n in _captures(case.pattern)}
            self.relate(captured, self.sources(node.subject))
        self.expressions(node)
        for field in ("body", "orelse", "finalbody"):
            block = getattr(node, field, None)
            if isinstance(block, list):
                self.statements([s for s in block if isinstance(s, ast.stmt)])
        for handler in getattr(node, "handlers", []):
            self.statements(handler.body)
        for case in getattr(node, "cases", []):
            self.statements(case.body)

    def bind(self, target: ast.expr, value: ast.expr) -> None:
        """`target = value`, unpacking displays pairwise where both sides are displays alike."""
        if (
            isinstance(target, (ast.Tuple, ast.List))
            and isinstance(value, (ast.Tuple, ast.List))
            and len(target.elts) == len(value.elts)
            and not any(isinstance(e, ast.Starred) for e in [*target.elts, *value.elts])
        ):
            for part, item in zip(target.elts, value.elts, strict=True):
                self.bind(part, item)
            return
        names = _targets(target)
        if isinstance(target, (ast.Tuple, ast.List)) and len(names) > 1:
            # Parts of one value share objects with each other (`fig, ax = plt.subplots()`: ax.figure
            # is fig), whatever the value is made of.
            self.relate(names, _stored_into(target), self.sources(value), names)
            return
        self.relate(names, _stored_into(target), self.sources(value))

    def expressions(self, node: ast.stmt) -> None:
        """Relations made inside the statement's own expressions: walrus, and calls that store."""
        pending: list[ast.AST] = [c for c in ast.iter_child_nodes(node) if not isinstance(c, ast.stmt)]
        while pending:
            current = pending.pop()
            if isinstance(current, _SCOPES):
                continue
            if isinstance(current, ast.NamedExpr):
                self.relate({current.target.id}, self.sources(current.value))
            elif isinstance(current, ast.Call):
                self.call_stores(current)
            pending.extend(ast.iter_child_nodes(current))

    def call_stores(self, node: ast.Call) -> None:
        """`lst.append(df)`: lst may now hold df; `helper(box, df)`: box may now hold df."""
        func = node.func
        arguments = [self.sources(a) for a in [*node.args, *(k.value for k in node.keywords)]]
        if isinstance(func, ast.Attribute) and self.dotted(func) is None:
            if func.attr not in READ_ONLY_METHODS and func.attr not in _KEEPS_NO_ARGUMENT:
                receiver = self.sources(func.value)  # the value as it was: it may be rebound later
                self.relate(receiver, receiver, *arguments)
        elif isinstance(func, ast.Attribute):
            if function_changes_arguments(self.dotted(func)) is not False:
                self.relate(set().union(*arguments), *arguments)
        elif isinstance(func, ast.Name) and self.known_function(func.id) is not None:
            summary = self.known_function(func.id)
            assert summary is not None
            changed = [self.sources(argument) for argument, _ in summary.changed_arguments(node)]
            self.relate(set().union(*changed), *arguments)  # only what it changes may now hold the rest
        elif isinstance(func, ast.Name):
            path = self.function_path(func.id)
            if function_changes_arguments(path) is not False:
                self.relate(set().union({func.id} if path is None else set(), *arguments), *arguments)
        else:
            self.relate(set().union(self.sources(func), *arguments), *arguments)

    # -- what a value may share ------------------------------------------------------------------

    def sources(self, node: ast.AST | None) -> set[str]:
        """Module-level names whose objects the value of `node` may be, hold, or be a view of."""
        if node is None:
            return set()
        if isinstance(node, ast.Name):
            return {node.id}
        if isinstance(node, (ast.Attribute, ast.Subscript, ast.Starred, ast.Await)):
            return self.sources(node.value)
        if isinstance(node, ast.NamedExpr):
            return self.sources(node.value)
        if isinstance(node, ast.IfExp):
            return self.sources(node.body) | self.sources(node.orelse)
        if isinstance(node, ast.BoolOp):
            return set().union(*(self.sources(v) for v in node.values))
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            return set().union(*(self.sources(e) for e in node.elts))
        if isinstance(node, ast.Dict):
            return set().union(*(self.sources(p) for p in [*node.keys, *node.values]))
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mult)):
            return self.sources(node.left) | self.sources(node.right)  # `[df] + rest`, `[row] * 3`
        if isinstance(node, _COMPREHENSIONS):
            local = {n for g in node.generators for n in _targets(g.target)}
            parts = [g.iter for g in node.generators]
            parts += [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
            return set().union(*(self.sources(p) for p in parts)) - local
        if isinstance(node, ast.Call):
            return self.call_value(node)
        return set()  # constants, comparisons, f-strings, lambdas, arithmetic: new values

    def call_value(self, node: ast.Call) -> set[str]:
        func = node.func
        arguments = set().union(*(self.sources(a) for a in [*node.args, *(k.value for k in node.keywords)]))
        if isinstance(func, ast.Attribute) and self.dotted(func) is None and func.attr in _DRAWS:
            kind, shared = "view", arguments
        elif isinstance(func, ast.Attribute) and self.dotted(func) is None:  # a method of a value
            kind = method_result(func.attr)
            shared = self.sources(func.value) | (arguments if kind == "view" else set())
        elif isinstance(func, ast.Attribute):
            kind = function_result(self.dotted(func))
            shared = arguments
        elif isinstance(func, ast.Name) and (summary := self.known_function(func.id)) is not None:
            kind = "fresh" if summary.fresh_result else "view"
            shared = arguments | {func.id}
        elif isinstance(func, ast.Name):
            path = self.function_path(func.id)
            kind = function_result(path)
            shared = arguments | ({func.id} if path is None else set())  # a value called: its own part
        else:
            kind, shared = "view", arguments | self.sources(func)
        return set() if kind == "fresh" else shared

    def dotted(self, node: ast.Attribute) -> str | None:
        """`np.linalg.norm` -> 'numpy.linalg.norm' when `np` is an import; None on a value."""
        attrs: list[str] = []
        current: ast.expr = node
        while isinstance(current, ast.Attribute):
            attrs.append(current.attr)
            current = current.value
        if not isinstance(current, ast.Name) or not self.import_paths.get(current.id):
            return None
        return ".".join([self.import_paths[current.id], *reversed(attrs)])

    def known_function(self, name: str) -> FunctionSummary | None:
        """The summary of a function the notebook defines (not of a name some cell rebinds)."""
        if self.import_paths.get(name) == "" and name in self.summaries:
            return self.summaries[name]
        return None

    def function_path(self, name: str) -> str | None:
        if name in self.import_paths:
            return self.import_paths[name] or None  # '' is a def or class: its value is unknown
        return name if name in _BUILTINS else None


def _targets(node: ast.AST) -> set[str]:
    """Module-level names a store target binds or stores into (`box` of `box['k'] = ..`)."""
    if isinstance(node, ast.Name):
        return {node.id}
    if isinstance(node, (ast.Tuple, ast.List)):
        return set().union(*(_targets(e) for e in node.elts))
    if isinstance(node, (ast.Starred, ast.Attribute, ast.Subscript)):
        return _targets(node.value)
    return set()


def _stored_into(node: ast.AST) -> set[str]:
    """Roots of the containers a store target changes (`box` of `box['k'] = ..`): their values as
    they were, which the cell may rebind afterwards (`box['k'] = df; box = {}`)."""
    if isinstance(node, (ast.Tuple, ast.List)):
        return set().union(*(_stored_into(e) for e in node.elts))
    if isinstance(node, ast.Starred):
        return _stored_into(node.value)
    if isinstance(node, (ast.Attribute, ast.Subscript)):
        return _targets(node.value)
    return set()


def _captures(pattern: ast.pattern) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(pattern):
        if isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
            names.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            names.add(node.rest)
    return names


def _components(relations: list[frozenset[str]]) -> tuple[frozenset[str], ...]:
    """The connected groups of the relations, groups of two or more."""
    parent: dict[str, str] = {}

    def find(name: str) -> str:
        while parent.setdefault(name, name) != name:
            parent[name] = parent[parent[name]]
            name = parent[name]
        return name

    for names in relations:
        values = sorted(names)
        for other in values[1:]:
            parent[find(other)] = find(values[0])
        for name in values[:1]:
            find(name)
    groups: dict[str, set[str]] = {}
    for name in parent:
        groups.setdefault(find(name), set()).add(name)
    return tuple(sorted((frozenset(g) for g in groups.values() if len(g) > 1), key=sorted))
