"""Values a later step certainly cannot load: made from code defined in the step that makes them, or
of a kind pickle cannot store.

A step's outputs are stored (pickled) for the steps that read them; an instance of a class defined in
the producing step, or that step's own function or class object, refers to code the reading step
never runs (steps pass data, not code: only `%%pipeline setup` code runs in every step). A lambda, a
generator and an open file cannot be pickled at all. Such a value fails when it is stored, at run
time; found here from the code, the compile says so before the run. Only the certain case is
reported: every binding of the name is `name = LocalClass(...)` (or `name = local_function`,
`name = LocalClass`, `name = lambda ...`, `name = (... for ...)`, `name = open(...)`), nothing else
binds it.
"""

from __future__ import annotations

import ast

from .tree_nodes import walk
from .value_kinds import _module_level, bindings

# Calls that make a class (by the called name's last part): `Point = namedtuple("Point", "x y")`,
# `collections.namedtuple`, `dataclasses.make_dataclass`, `typing.NamedTuple("P", [...])`, the
# functional `Enum("Color", "RED GREEN")`, `type("X", (Base,), {...})`: with the fewest arguments each
# takes when it makes a class (`type(x)` with one does not).
CLASS_FACTORIES = {
    "namedtuple": 1, "make_dataclass": 1, "NamedTuple": 2, "TypedDict": 2, "Enum": 2, "IntEnum": 2,
    "StrEnum": 2, "Flag": 2, "IntFlag": 2, "type": 3,
}  # fmt: skip


def factory_class(node: ast.stmt) -> str | None:
    """The name a top-level `Name = factory(...)` statement binds to a new class (CLASS_FACTORIES)."""
    if not isinstance(node, ast.Assign) or len(node.targets) != 1:
        return None
    if not isinstance(node.targets[0], ast.Name):
        return None
    call = node.value
    if not isinstance(call, ast.Call):
        return None
    func = call.func
    called = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
    least = CLASS_FACTORIES.get(called)
    if least is None or len(call.args) + len(call.keywords) < least:
        return None
    if called == "type" and (len(call.args) != 3 or call.keywords):
        return None
    return node.targets[0].id


def factory_classes(tree: ast.Module, how: dict[str, set[str]] | None = None) -> set[str]:
    """Names the cell binds only to classes made by factory calls, each at its top level."""
    how = bindings(tree) if how is None else how
    made = {name for node in tree.body if (name := factory_class(node)) is not None}
    if not made:
        return made
    for node in _module_level(tree):
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            bound = {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
            if bound & made and (node not in tree.body or factory_class(node) is None):
                made -= bound  # also bound otherwise (unpacked, in an `if`, to another value)
    return {n for n in made if how.get(n) == {"assign"} and not _bound_otherwise(tree, n)}


def step_local_value(tree: ast.Module, name: str) -> tuple[str, str] | None:
    """(what, definition) if every value `name` gets at the step's top level comes from code the step
    defines: ("instance", "Summary") for `name = Summary(...)`, ("function", "helper") for
    `name = helper`, ("class", "Summary") for `name = Summary`; else None."""
    how = bindings(tree)
    if how.get(name) != {"assign"} or _bound_otherwise(tree, name):
        return None
    found: set[tuple[str, str]] = set()
    factories = factory_classes(tree, how)
    for node in _module_level(tree):
        if isinstance(node, ast.Assign):
            if not any(_binds(target, name) for target in node.targets):
                continue
            if len(node.targets) != 1 or not isinstance(node.targets[0], ast.Name):
                return None  # unpacked or chained: not followed
            value: ast.expr | None = node.value
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            if not _binds(node.target, name):
                continue
            if isinstance(node, ast.AugAssign) or not isinstance(node.target, ast.Name):
                return None
            value = node.value
        else:
            continue
        made = _made_from(value, how, factories)
        if made is None:
            return None
        found.add(made)
    return min(found) if len(found) == 1 else None


_OPENERS = frozenset({"gzip", "bz2", "lzma", "io", "codecs"})  # modules whose `open` opens a file


def _made_from(
    value: ast.expr | None, how: dict[str, set[str]], factories: set[str]
) -> tuple[str, str] | None:
    if isinstance(value, ast.Lambda):
        return ("lambda", "lambda")
    if isinstance(value, ast.GeneratorExp):
        return ("generator", "generator")
    if isinstance(value, ast.Call) and _opens_a_file(value.func, how):
        return ("file", ast.unparse(value.func))
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name):
        made_by = value.func.id
        if how.get(made_by) == {"class"}:
            return ("instance", made_by)
        return ("instance", made_by) if made_by in factories else None
    if isinstance(value, ast.Name):
        kinds = how.get(value.id)
        if kinds == {"class"}:
            return ("class", value.id)
        if kinds == {"def"}:
            return ("function", value.id)
    return None


def _binds(target: ast.expr, name: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(target))


def _bound_otherwise(tree: ast.Module, name: str) -> bool:
    """`name` bound by a walrus, or by a function that declares it global."""
    for node in walk(tree):
        if isinstance(node, ast.NamedExpr) and node.target.id == name:
            return True
        if isinstance(node, ast.Global) and name in node.names:
            return True
    return False


def _opens_a_file(func: ast.expr, how: dict[str, set[str]]) -> bool:
    """`open` (the builtin: the step does not bind the name) or `gzip.open`, `io.open`, ... (the name
    bound by an import, if at all)."""
    if isinstance(func, ast.Name):
        return func.id == "open" and func.id not in how
    if isinstance(func, ast.Attribute) and func.attr == "open" and isinstance(func.value, ast.Name):
        module = func.value.id
        return module in _OPENERS and how.get(module, {"import"}) == {"import"}
    return False
