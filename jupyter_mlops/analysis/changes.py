"""Which outside values a cell may change in place: the soundness half of the name analysis.

A cell changes a value it did not bind itself when it:
- assigns or deletes through it: `x[i] = ..`, `x.a = ..`, `x[i] += ..`, `del x[k]`, `del x.a`;
- calls a method on it, or on an attribute or item of it (`model.fit(..)`, `lst.append(v)`,
  `self.layers[0].reset()`), unless the method is known to be read-only (`readonly_calls`);
- passes it, or a part of it, to a call (`helper(df)`, `rng.shuffle(a)`), unless the function or
  method is known to leave its arguments alone (`len`, `print`, `np.mean`, `model.predict`, ...);
- does any of this through another name that may refer to it (`d = df`, `for d in [df]`,
  `with wrap(df) as h`, `box = [df]`): aliases are followed within the cell.
Calls inside the cell's functions count wherever the functions are (the simplest sound choice:
what a function's body may change, the cell may change).

A change is *sure* when the code says so (`x[i] = ..`, `lst.append(..)`, `df.drop(.., inplace=True)`,
`rng.shuffle(a)`); it is *unsure* when the analysis cannot know (an unknown method or function,
a change through an alias): then it still counts, and the cell's analysis says why (`unsure`), so
`%pipeline show` can mark the edge "may change". Modules, functions and classes (imports, defs,
the setup cell's definitions given as `outside_code`) are code, not values: calls on them change
nothing that travels between steps, and builtins are never changed.

What the analysis takes on trust (Python allows otherwise, notebooks rarely do): reading an
attribute or an item (`x.a`, `x[0]`) and operators (`a + b`, `a == b`) change nothing; a function
given to `sorted(key=..)`/`max(key=..)` reads its argument only; a module's state (`plt.rcParams`,
`np.random.seed`) is not a value passed between steps (see the seed notes of `pipeline_analysis`).
Two names that share one object in a step reach later steps as two separate values: a change of
one in a later step does not show in the other (the pipeline passes values, not references).
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Mapping
from dataclasses import dataclass

from jupyter_mlops.analysis.readonly_calls import (
    ARGUMENT_CHANGING_METHODS,
    READ_ONLY_FUNCTIONS,
    READ_ONLY_METHODS,
    RECEIVER_CHANGING_METHODS,
    function_changes_arguments,
    function_result,
    method_result,
)
from jupyter_mlops.analysis.scopes import COMPREHENSIONS, Flow, Scope

_BUILTINS = frozenset(dir(builtins))
NAME = "\x00"  # stands for the changed name in a reason (`changed`), which quotes user code
_BARE_READ_ONLY = frozenset(name for name in READ_ONLY_FUNCTIONS if "." not in name)  # display, ...


@dataclass(frozen=True)
class FunctionSummary:
    """What a call of a function defined in a cell may change (`function_summaries`)."""

    positional: tuple[str, ...]  # its positional parameters, in order
    changed: frozenset[str]  # parameters it may change in place
    unsure: frozenset[str]  # of those and of `globals_changed`, the ones the analysis is not sure about
    globals_changed: frozenset[str]  # module-level names it may change
    vararg: str | None = None
    kwarg: str | None = None
    # Module-level names it reads (a setup helper using a step's value as a global): a step calling
    # it takes them as inputs, as if it read them itself.
    globals_read: frozenset[str] = frozenset()
    # Its value never shares objects with its arguments or with module-level values: every `return`
    # gives something the function made itself (`w = np.zeros(n); ...; return w`). See
    # `alias_groups.returns_fresh`; then `w = train(x, y)` does not link `w` with `x` and `y`.
    fresh_result: bool = False

    def changed_arguments(self, node: ast.Call) -> list[tuple[ast.expr, str]]:
        """(argument, parameter) for each argument of the call that the function may change."""
        found: list[tuple[ast.expr, str]] = []
        everything = sorted(self.changed)
        for index, argument in enumerate(node.args):
            if isinstance(argument, ast.Starred):  # `f(*items)`: any parameter
                if everything:
                    found.append((argument, everything[0]))
                continue
            param = self.positional[index] if index < len(self.positional) else self.vararg
            if param is None or param in self.changed:
                found.append((argument, param or "?"))
        for keyword in node.keywords:
            param = keyword.arg if keyword.arg is not None else self.kwarg
            if keyword.arg is None and everything:  # `f(**options)`
                found.append((keyword.value, everything[0]))
            elif (
                param is None
                or param in self.changed
                or (keyword.arg not in self.positional and self.kwarg in self.changed)
            ):
                found.append((keyword.value, param or "?"))
        return found


class ChangeTracking:
    """Mixed into `name_reads.ExpressionWalker`: aliases, and the changes calls and stores make."""

    module: Scope
    recording: bool
    binds: set[str]
    mutates: set[str]
    maybe_reads: dict[str, int]
    defining: list[str]
    later: list[tuple[str, int, bool]]

    def __init__(self, outside_code: Mapping[str, str], summaries: Mapping[str, FunctionSummary]) -> None:
        self.outside_code = outside_code  # other cells' imports -> dotted path ('' for def/class)
        self.summaries = summaries  # functions of this cell and the setup cell -> what calls change
        self.import_paths: dict[str, str] = {}  # this cell's module-level imports -> dotted path
        self.code_names: set[str] = set()  # bound at top level by def, class or import
        self.surely_changed: set[str] = set()
        self.unsure: dict[str, tuple[int, str]] = {}  # name -> (line, why it may change)

    # -- where a name lives, and what it may refer to ---------------------------------------------

    def owner(self, name: str, scope: Scope) -> Scope:
        """The scope whose binding `name` refers to in `scope` (as `load` resolves it)."""
        current: Scope | None = scope
        while current is not None and current.kind != "module":
            if name in current.global_names and (current is scope or current.kind != "class"):
                return self.module
            if current.kind == "class":
                if current is scope and current.flow is not None and name in current.flow.definite:
                    return current
            elif name in current.local_names:
                return current
            current = current.parent
        return self.module

    def name_roots(self, name: str, scope: Scope) -> set[str]:
        """Module-level names whose value `name` may be, or be a part of, at this point."""
        owner = self.owner(name, scope)
        if owner is not self.module:
            return set(owner.aliases.get(name, ()))
        result = set(self.module.aliases.get(name, ()))
        flow = self.module.flow or Flow()
        if scope.runs_later() or name not in flow.definite:
            result.add(name)
        return result

    def roots(self, node: ast.AST | None, scope: Scope) -> set[str]:
        """Module-level names whose value the expression's value may be, or be a part of."""
        return self.value(node, scope)[0]

    def reach(self, node: ast.AST | None, scope: Scope) -> set[str]:
        """Module-level names whose value, or an item of it, the expression's value may share."""
        same, items = self.value(node, scope)
        return same | items

    def value(self, node: ast.AST | None, scope: Scope) -> tuple[set[str], set[str]]:
        """(names the value may be or be a part of, names whose items it may hold): `df['a']` is a
        part of df; `[df]`, `lst.copy()` and `list(lst)` are new containers holding their items."""
        if node is None:
            return set(), set()
        if isinstance(node, ast.Name):
            owner = self.owner(node.id, scope)
            return self.name_roots(node.id, scope), set(owner.items.get(node.id, ()))
        if isinstance(node, (ast.Attribute, ast.Subscript)):  # a part of it, or one of its items
            return self.reach(node.value, scope), set()
        if isinstance(node, (ast.Starred, ast.Await, ast.NamedExpr)):
            return self.value(node.value, scope)
        if isinstance(node, (ast.IfExp, ast.BoolOp)):
            options = [node.body, node.orelse] if isinstance(node, ast.IfExp) else node.values
            values = [self.value(option, scope) for option in options]
            return set().union(*(v[0] for v in values)), set().union(*(v[1] for v in values))
        parts: list[ast.expr | None] = []
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            parts = list(node.elts)
        elif isinstance(node, ast.Dict):
            parts = [*node.keys, *node.values]
        elif isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mult)):
            parts = [node.left, node.right]  # `[df] + rest`, `[row] * 3`: the same items
        elif isinstance(node, COMPREHENSIONS):
            parts = [g.iter for g in node.generators]
            parts += [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
        elif isinstance(node, ast.Call):
            return self._call_value(node, scope)
        # A new container of these items; constants, comparisons, f-strings, lambdas: new values.
        return set(), set().union(*(self.reach(p, scope) for p in parts))

    def _call_value(self, node: ast.Call, scope: Scope) -> tuple[set[str], set[str]]:
        func = node.func
        sources: list[ast.expr] = _arguments(node)
        if isinstance(func, ast.Attribute) and self.dotted(func, scope) is None:  # a method
            kind = method_result(func.attr)
            sources = [func.value] + (sources if kind == "view" else [])
        elif isinstance(func, ast.Attribute):
            kind = function_result(self.dotted(func, scope))
        elif isinstance(func, ast.Name) and self.summary(func.id, scope) is None:
            kind = function_result(self.function_path(func.id, scope))
        else:  # the notebook's own function, or a call of a call: it may return any argument
            kind = "view"
        shared = set().union(*(self.reach(source, scope) for source in sources))
        if kind == "fresh":
            return set(), set()
        return (shared, set()) if kind == "view" else (set(), shared)

    def alias(
        self, target: ast.AST, same: set[str], items: set[str], scope: Scope, *, element: bool = False
    ) -> None:
        """`target = value`: the value may be `same` or a part of them, and hold items of `items`.
        `element`: the target takes an item of the value (a `for` target)."""
        if element:
            same, items = same | items, same | items
        if not same and not items:
            return
        if isinstance(target, ast.Name):
            owner = self.owner(target.id, scope)
            owner.aliases.setdefault(target.id, set()).update(same - {target.id})
            owner.items.setdefault(target.id, set()).update(items - {target.id})
        elif isinstance(target, (ast.Tuple, ast.List)):  # unpacking: each target takes an item
            for part in target.elts:
                self.alias(part, same, items, scope, element=True)
        elif isinstance(target, (ast.Starred, ast.Attribute, ast.Subscript)):
            # `box['k'] = df`, `*rest = ..`: a container now holds them (its change is the store's).
            root = _path_root(target)
            self.alias(root, set(), same | items, scope)

    def alias_value(
        self, target: ast.AST, node: ast.AST | None, scope: Scope, *, element: bool = False
    ) -> None:
        same, items = self.value(node, scope)
        self.alias(target, same, items, scope, element=element)

    # -- code: modules, functions, classes ---------------------------------------------------------

    def is_code(self, name: str) -> bool:
        if name in self.code_names or name in self.import_paths:
            return True
        if name in self.binds:
            return False
        return name in self.outside_code or name in _BUILTINS

    def function_path(self, name: str, scope: Scope) -> str | None:
        """The dotted path of a function called by bare name (a builtin by its name), None if unknown."""
        if self.owner(name, scope) is not self.module:
            return None
        if name in self.import_paths:
            return self.import_paths[name]
        if name in self.binds or name in self.code_names:
            return None  # the cell's own function or value
        if name in self.outside_code:
            return self.outside_code[name] or None  # '' is a def or class of another cell: unknown
        if name in _BUILTINS or name in _BARE_READ_ONLY:
            return name
        return None  # a value from another step, called (`net(x)`): it may change itself

    def soft_read(self, name: str, scope: Scope, line: int) -> None:
        """A read of a module-level name by a function the cell calls: an input if a step has it
        (judged as `load` judges reads in functions, when the call is in one)."""
        flow = self.module.flow or Flow()
        if not self.recording or self.is_code(name) or name in flow.definite:
            return
        if scope.runs_later():
            if name not in self.defining:
                self.later.append((name, line, True))
        else:
            self.maybe_reads.setdefault(name, line)

    def summary(self, name: str, scope: Scope) -> FunctionSummary | None:
        """What a call of the cell's or the setup cell's function `name` may change, if known."""
        if self.owner(name, scope) is not self.module or name not in self.summaries:
            return None
        if name in self.binds and name not in self.code_names:
            return None  # rebound to a value somewhere in the cell
        return self.summaries[name]

    def dotted(self, node: ast.Attribute, scope: Scope) -> str | None:
        """`np.linalg.norm` -> 'numpy.linalg.norm' when `np` is an import; None for values."""
        attrs: list[str] = []
        current: ast.expr = node
        while isinstance(current, ast.Attribute):
            attrs.append(current.attr)
            current = current.value
        if not isinstance(current, ast.Name) or self.owner(current.id, scope) is not self.module:
            return None
        name = current.id
        base = self.import_paths.get(name)
        if base is None and name not in self.binds:
            base = self.outside_code.get(name) or None
        if base is None:
            return None
        return ".".join([base, *reversed(attrs)])

    # -- changes -------------------------------------------------------------------------------------

    def changed(self, names: set[str], line: int, why: str | None) -> None:
        """Record that these module-level names may change here; `why` None if the code says so."""
        if not self.recording:
            return
        for name in sorted(names):
            if self.is_code(name):
                continue
            self.mutates.add(name)
            if why is None:
                self.surely_changed.add(name)
            else:
                self.unsure.setdefault(name, (line, why.replace(NAME, name)))

    def through(self, node: ast.expr, scope: Scope, line: int, what: str) -> None:
        """A change of the value `node` (`x`, `x.a[0]`): x surely, what x may refer to unsurely."""
        everything = self.roots(node, scope)
        root = _path_root(node)
        if isinstance(root, ast.Name):
            direct = {root.id} & everything
            self.changed(direct, line, None)
            why = f"`{NAME}` may be changed through `{root.id}`, which may refer to it ({what})"
        else:  # `make(x).append(1)`, `df.copy().fillna(0, inplace=True)`: the call's value may be x
            direct = set()
            why = f"`{NAME}` may be changed by `{what}`"
        self.changed(everything - direct, line, why)

    def call_changes(self, node: ast.Call, scope: Scope) -> None:
        """What a call may change: its receiver, its arguments, and what stores into what."""
        func, line = node.func, node.lineno
        text = _short(node)
        arguments = _arguments(node)
        changes_arguments: bool | None
        if isinstance(func, ast.Attribute) and self.dotted(func, scope) is None:
            method = func.attr
            if method in ARGUMENT_CHANGING_METHODS:
                self.through(func.value, scope, line, text)
                changes_arguments = True
            elif method in RECEIVER_CHANGING_METHODS or _inplace(node):
                self.through(func.value, scope, line, text)
                changes_arguments = False
            elif method in READ_ONLY_METHODS:
                changes_arguments = False
            else:
                self.changed(
                    self.reach(func.value, scope),
                    line,
                    f"`{NAME}` may be changed by `{text}` (a method this analysis does not know)",
                )
                changes_arguments = None
            if method not in READ_ONLY_METHODS:  # `box.append(df)`: box now holds df
                held = set().union(*(self.reach(a, scope) for a in arguments))
                self.alias(_path_root(func.value), set(), held, scope)
        elif isinstance(func, ast.Attribute):
            changes_arguments = function_changes_arguments(self.dotted(func, scope))
        elif isinstance(func, ast.Name) and self.summary(func.id, scope) is not None:
            summary = self.summary(func.id, scope)
            assert summary is not None
            for argument, param in summary.changed_arguments(node):
                why = f"`{NAME}` may be changed by `{text}` (its parameter `{param}`)"
                self.changed(self.reach(argument, scope), line, why if param in summary.unsure else None)
            for name in sorted(summary.globals_read):
                self.soft_read(name, scope, line)
            for name in sorted(summary.globals_changed):
                unsure = f"`{NAME}` may be changed by `{text}`" if name in summary.unsure else None
                self.changed(self.name_roots(name, self.module), line, unsure)
            changes_arguments = False
        elif isinstance(func, ast.Name):
            path = self.function_path(func.id, scope)
            changes_arguments = function_changes_arguments(path)
            if path is None:  # `f = lst.append; f(1)`: a value called may change what it holds
                self.changed(self.reach(func, scope), line, f"`{NAME}` may be changed by `{text}`")
        else:  # `getattr(v, 'append')(9)`, `handlers[k](x)`: the callee may be a method of anything
            changes_arguments = None
            self.changed(self.reach(func, scope), line, f"`{NAME}` may be changed by `{text}`")
        for keyword in node.keywords:
            if keyword.arg == "out":
                self.through(keyword.value, scope, line, text)
            elif (
                keyword.arg == "copy"
                and isinstance(keyword.value, ast.Constant)
                and keyword.value.value is False
            ):
                changes_arguments = True
        if changes_arguments is True:
            for argument in arguments:
                self.through(argument, scope, line, text)
        elif changes_arguments is None:
            why = f"`{NAME}` is passed to `{text}`, which may change it (the analysis cannot see into it)"
            for argument in arguments:
                self.changed(self.reach(argument, scope), line, why)


def _arguments(node: ast.Call) -> list[ast.expr]:
    return [*node.args, *(k.value for k in node.keywords)]


def _path_root(node: ast.AST) -> ast.AST:
    """`x` of `x.a[i].b` (attributes and items only)."""
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Starred)):
        node = node.value
    return node


def _inplace(node: ast.Call) -> bool:
    """pandas' `inplace=` anything but a literal False."""
    for keyword in node.keywords:
        if keyword.arg == "inplace":
            return not (isinstance(keyword.value, ast.Constant) and keyword.value.value is False)
    return False


def _short(node: ast.Call) -> str:
    """`helper(...)`, `model.fit(...)`: the call as the user wrote it, its arguments left out."""
    func = ast.unparse(node.func)
    if len(func) > 40:
        func = func[:37] + "..."
    return f"{func}(...)" if node.args or node.keywords else f"{func}()"
