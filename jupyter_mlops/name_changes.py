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
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Mapping

from jupyter_mlops.name_scopes import COMPREHENSIONS, Flow, Scope
from jupyter_mlops.readonly_calls import (
    ARGUMENT_CHANGING_METHODS,
    FRESH_RESULT_METHODS,
    READ_ONLY_METHODS,
    RECEIVER_CHANGING_METHODS,
    function_changes_arguments,
    function_result_is_fresh,
)

_BUILTINS = frozenset(dir(builtins))


class ChangeTracking:
    """Mixed into `name_reads.ExpressionWalker`: aliases, and the changes calls and stores make."""

    module: Scope
    recording: bool
    binds: set[str]
    mutates: set[str]

    def __init__(self, outside_code: Mapping[str, str]) -> None:
        self.outside_code = outside_code  # other cells' imports -> dotted path ('' for def/class)
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
        """Module-level names whose value `name` may be, or hold a part of, at this point."""
        owner = self.owner(name, scope)
        if owner is not self.module:
            return set(owner.aliases.get(name, ()))
        result = set(self.module.aliases.get(name, ()))
        flow = self.module.flow or Flow()
        if scope.runs_later() or name not in flow.definite:
            result.add(name)
        return result

    def roots(self, node: ast.AST | None, scope: Scope) -> set[str]:
        """Module-level names whose value the expression's value may be or share (a view, an item)."""
        if node is None:
            return set()
        if isinstance(node, ast.Name):
            return self.name_roots(node.id, scope)
        if isinstance(node, (ast.Attribute, ast.Subscript, ast.Starred, ast.Await, ast.NamedExpr)):
            return self.roots(node.value, scope)
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            return set().union(*(self.roots(e, scope) for e in node.elts))
        if isinstance(node, ast.Dict):
            return set().union(*(self.roots(e, scope) for e in [*node.keys, *node.values]))
        if isinstance(node, ast.IfExp):
            return self.roots(node.body, scope) | self.roots(node.orelse, scope)
        if isinstance(node, ast.BoolOp):
            return set().union(*(self.roots(v, scope) for v in node.values))
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mult)):
            # `[df] + rest`, `[row] * 3`: the new list holds the same items.
            return self.roots(node.left, scope) | self.roots(node.right, scope)
        if isinstance(node, COMPREHENSIONS):
            parts: list[ast.AST] = [g.iter for g in node.generators]
            parts += [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
            return set().union(*(self.roots(p, scope) for p in parts))
        if isinstance(node, ast.Call):
            return self._result_roots(node, scope)
        return set()  # constants, comparisons, f-strings, lambdas, arithmetic: new values

    def _result_roots(self, node: ast.Call, scope: Scope) -> set[str]:
        arguments = set().union(*(self.roots(a, scope) for a in _arguments(node)))
        func = node.func
        if isinstance(func, ast.Attribute):
            path = self.dotted(func, scope)
            if path is not None:
                return set() if function_result_is_fresh(path) else arguments
            if func.attr in FRESH_RESULT_METHODS:
                return set()
            return self.roots(func.value, scope) | arguments
        if isinstance(func, ast.Name):
            return set() if function_result_is_fresh(self.function_path(func.id, scope)) else arguments
        return arguments

    def alias(self, target: ast.AST, value_roots: set[str], scope: Scope) -> None:
        """`target = value`: what the target's names (or the container it stores into) may hold."""
        if not value_roots:
            return
        if isinstance(target, ast.Name):
            owner = self.owner(target.id, scope)
            owner.aliases.setdefault(target.id, set()).update(value_roots - {target.id})
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self.alias(element, value_roots, scope)
        elif isinstance(target, (ast.Starred, ast.Attribute, ast.Subscript)):
            # `box['k'] = df`: box now holds df (a change of box itself is recorded by the store).
            self.alias(_path_root(target), value_roots, scope)

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
        path = self.outside_code.get(name, name)
        return path or None  # '' is a def or class of another cell: unknown

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
                self.unsure.setdefault(name, (line, why.format(name=name)))

    def through(self, node: ast.expr, scope: Scope, line: int, what: str) -> None:
        """A change of the value `node` (`x`, `x.a[0]`): x surely, what x may refer to unsurely."""
        everything = self.roots(node, scope)
        root = _path_root(node)
        if isinstance(root, ast.Name):
            direct = {root.id} & everything
            self.changed(direct, line, None)
            why = f"`{{name}}` may be changed through `{root.id}`, which may refer to it ({what})"
        else:  # `make(x).append(1)`, `df.copy().fillna(0, inplace=True)`: the call's value may be x
            direct = set()
            why = f"`{{name}}` may be changed by `{what}`"
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
                    self.roots(func.value, scope),
                    line,
                    f"`{{name}}` may be changed by `{text}` (a method this analysis does not know)",
                )
                changes_arguments = None
            if method not in READ_ONLY_METHODS:  # `box.append(df)`: box now holds df
                self.alias(func.value, set().union(*(self.roots(a, scope) for a in arguments)), scope)
        elif isinstance(func, ast.Attribute):
            changes_arguments = function_changes_arguments(self.dotted(func, scope))
        elif isinstance(func, ast.Name):
            changes_arguments = function_changes_arguments(self.function_path(func.id, scope))
        else:
            changes_arguments = None
        for keyword in node.keywords:
            if keyword.arg == "out":
                self.through(keyword.value, scope, line, text)
        if changes_arguments is True:
            for argument in arguments:
                self.through(argument, scope, line, text)
        elif changes_arguments is None:
            why = f"`{{name}}` is passed to `{text}`, which may change it (the analysis cannot see into it)"
            for argument in arguments:
                self.changed(self.roots(argument, scope), line, why)


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
