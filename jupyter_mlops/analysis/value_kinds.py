"""What kind of value a step's variable holds, as far as the code shows it, and how it was bound.

A variable crosses steps as a KFP parameter only when the code shows for certain that it is a plain
scalar (so the kernel and the command line, which never runs the code, compile the same YAML): a
literal, an f-string, a call of int(), float(), str(), bool(), len() or round(x), or an annotation
`name: float = ...`, and every binding agrees. Lists and dicts are artifacts: a literal may be filled
later with anything (`errors = []`, then numpy floats), and KFP turns the numbers inside a list or dict
parameter into floats. Anything else travels as a Dataset artifact, written in a format chosen from
what the value holds when the step ends (step_values.py).
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterator

from .tree_nodes import kept, walk

ARTIFACT = "artifact"
_SCALARS = {"int", "float", "str", "bool"}
_EXACT_INT = 2**53  # the largest integers a double holds exactly
_CALLS = {"int": "int", "float": "float", "str": "str", "bool": "bool", "len": "int"}


def _module_level(tree: ast.Module) -> Iterator[ast.stmt]:
    """Statements that run in the module scope: the body and nested blocks, not function/class bodies."""
    stack: list[ast.stmt] = list(reversed(tree.body))
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        children: list[ast.stmt] = []
        for name in ("body", "orelse", "finalbody"):
            children.extend(getattr(node, name, []) or [])
        for handler in getattr(node, "handlers", []) or []:
            children.extend(handler.body)
        for case in getattr(node, "cases", []) or []:
            children.extend(case.body)
        stack.extend(reversed(children))


def expression_kind(node: ast.expr, shadowed: Collection[str]) -> str:
    """The parameter type an expression certainly evaluates to, else ARTIFACT."""
    if isinstance(node, ast.Constant):
        value = node.value
        if type(value) is int and abs(value) > _EXACT_INT:
            return ARTIFACT  # a KFP parameter carries numbers as doubles: this int would change
        for typ, kind in ((bool, "bool"), (int, "int"), (float, "float"), (str, "str")):
            if type(value) is typ:
                return kind
        return ARTIFACT
    if isinstance(node, ast.JoinedStr):
        return "str"
    if isinstance(node, ast.List):
        ok = all(expression_kind(e, shadowed) != ARTIFACT for e in node.elts)
        return "list" if ok else ARTIFACT
    if isinstance(node, ast.Dict):
        ok = all(
            isinstance(k, ast.Constant) and type(k.value) is str and expression_kind(v, shadowed) != ARTIFACT
            for k, v in zip(node.keys, node.values, strict=True)
        )
        return "dict" if ok else ARTIFACT
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id not in shadowed:
        name = node.func.id
        if name in _CALLS and not node.keywords and len(node.args) <= 1:
            return _CALLS[name]
        if name == "round" and len(node.args) == 1 and not node.keywords:
            return "int"
    return ARTIFACT


def _annotation_kind(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name) and node.id in _SCALARS:
        return node.id
    return None


def _declared_global(tree: ast.Module, name: str) -> bool:
    """A function of the cell declares `global name`: it may rebind it to anything when called."""
    return any(isinstance(n, ast.Global) and name in n.names for n in walk(tree))


def output_kind(tree: ast.Module, name: str, shadowed: Collection[str]) -> str:
    """The kind of `name` at the end of the cell: one parameter type if every binding agrees."""
    kinds: set[str] = set()
    annotated: str | None = None
    for node in _module_level(tree):
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == name:
            annotated = annotated or _annotation_kind(node.annotation)
            if node.value is not None:
                kinds.add(expression_kind(node.value, shadowed))
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id == name:
                    kinds.add(expression_kind(node.value, shadowed))
                elif _binds(target, name) or _mutates(target, name):
                    kinds.add(ARTIFACT)
        elif isinstance(node, ast.AugAssign):
            if isinstance(node.target, ast.Name) and node.target.id == name:
                kinds.add(_augmented(expression_kind(node.value, shadowed)))
            elif _mutates(node.target, name):
                kinds.add(ARTIFACT)
        elif (isinstance(node, ast.Delete) and any(_mutates(t, name) for t in node.targets)) or (
            name in binding_kinds_of(node)
        ):
            kinds.add(ARTIFACT)
    if annotated is not None:
        return annotated
    if not kinds or _declared_global(tree, name):  # unknown here: passed through, or set by a function
        return ARTIFACT
    # One kind, and a scalar: `x = 1` then `x = 2.5` may leave an int or a float, so not one type.
    kind = kinds.pop() if len(kinds) == 1 else ARTIFACT
    return kind if kind in _SCALARS else ARTIFACT


def _augmented(kind: str) -> str:
    # `x += <int>` keeps an int an int, `x += <float>` may turn it into a float, `s += "..."` a str.
    return kind if kind in ("int", "float", "str") else ARTIFACT


def _binds(target: ast.expr, name: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(target))


def _mutates(target: ast.expr, name: str) -> bool:
    node = target
    while isinstance(node, (ast.Subscript, ast.Attribute)):
        node = node.value
    return node is not target and isinstance(node, ast.Name) and node.id == name


def binding_kinds_of(node: ast.stmt) -> dict[str, str]:
    """Names a single statement binds other than by assignment: "import", "def", "class", "loop", "with"."""
    out: dict[str, str] = {}
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        for alias in node.names:
            if alias.name != "*":
                out[(alias.asname or alias.name).split(".")[0]] = "import"
    elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        out[node.name] = "def"
    elif isinstance(node, ast.ClassDef):
        out[node.name] = "class"
    elif isinstance(node, (ast.For, ast.AsyncFor)):
        out.update({n.id: "loop" for n in ast.walk(node.target) if isinstance(n, ast.Name)})
    elif isinstance(node, (ast.With, ast.AsyncWith)):
        for item in node.items:
            if item.optional_vars is not None:
                out.update({n.id: "with" for n in ast.walk(item.optional_vars) if isinstance(n, ast.Name)})
    return out


def bindings(tree: ast.Module) -> dict[str, set[str]]:
    """For each name bound at module level, how: {"import"}, {"def"}, {"assign", "import"}, ...
    Made once per cell while a compile keeps its walks (tree_nodes.kept): read it, do not change it."""
    return kept(tree, "bindings", _bindings)


def _bindings(tree: ast.Module) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for node in _module_level(tree):
        for name, how in binding_kinds_of(node).items():
            out.setdefault(name, set()).add(how)
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for n in ast.walk(target):
                    if isinstance(n, ast.Name):
                        out.setdefault(n.id, set()).add("assign")
    return out


def import_statements(tree: ast.Module, names: Collection[str]) -> dict[str, str]:
    """For each of `names` bound by an import in the cell, the import statement that binds it alone."""
    found: dict[str, str] = {}
    for node in _module_level(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                bound = (alias.asname or alias.name).split(".")[0]
                if bound in names:
                    if isinstance(node, ast.Import):
                        single: ast.stmt = ast.Import(names=[alias])
                    else:
                        single = ast.ImportFrom(module=node.module, names=[alias], level=node.level)
                    found[bound] = ast.unparse(single)
    return found
