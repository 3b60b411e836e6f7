"""The notebook's plain code cells (no `%%component` or `%%pipeline` magic), to say where a name that no
step, setup cell or parameter provides is defined after all.

A step sees only its own cell, the setup cells and the parameters. Notebooks written before
jupyter-mlops keep their imports and helper functions in ordinary cells at the top; compiling them fails
with "name 'pd' is read but no earlier step ... defines it". Knowing the plain cells lets that error say
which cell imports `pd` and what to do with it (make it a setup cell), instead of leaving the user to
search. Plain cells never become part of a step by themselves: that stays the user's choice.
"""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass


@dataclass(frozen=True)
class Binding:
    label: str  # how the user finds the cell: "code cell 3" (a file), "In [3]" (a kernel)
    line: int  # 1-based, in the cell as the user sees it
    how: str  # "import", "def", "class", "assign"


class PlainCells:
    """Plain cells in notebook (or execution) order, each under a key: a cell run again replaces itself."""

    def __init__(self) -> None:
        self._cells: dict[str, tuple[str, str]] = {}

    def record(self, key: str, label: str, source: str) -> None:
        self._cells.pop(key, None)  # re-run: it is now the latest
        self._cells[key] = (label, source)

    def forget(self, key: str) -> None:
        self._cells.pop(key, None)

    def __len__(self) -> int:
        return len(self._cells)

    def where_bound(self, name: str) -> Binding | None:
        """The latest plain cell that binds `name` at its top level (as the kernel would last have)."""
        for label, source in reversed(list(self._cells.values())):
            found = _top_level_bindings(source).get(name)
            if found is not None:
                return Binding(label, found[0], found[1])
        return None


def missing_name_hint(name: str, plain: PlainCells) -> str | None:
    """What to do about `name`, read by a step, when a plain cell defines it; None if none does."""
    found = plain.where_bound(name)
    if found is None:
        return None
    where = f"{found.label}, line {found.line}"
    if found.how == "assign":
        return (
            f"It is assigned in {where}, a plain cell, which steps do not see. Make that cell a step "
            f"(`%%component NAME` as its first line), or, for a constant, `%%pipeline params` or "
            "`%%pipeline setup`."
        )
    what = {"import": "imported", "def": "defined (a function)", "class": "defined (a class)"}[found.how]
    return (
        f"It is {what} in {where}, a plain cell, which steps do not see. Put `%%pipeline setup` as "
        "that cell's first line, so that every step has it."
    )


@functools.lru_cache(maxsize=256)
def _top_level_bindings(source: str) -> dict[str, tuple[int, str]]:
    """Name -> (line, how) of the names a cell binds at its top level (the last binding wins)."""
    tree = _parse(source)
    if tree is None:
        return {}
    found: dict[str, tuple[int, str]] = {}
    for node in _top_level_statements(tree.body):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name != "*":
                    found[(alias.asname or alias.name).split(".")[0]] = (node.lineno, "import")
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found[node.name] = (node.lineno, "def")
        elif isinstance(node, ast.ClassDef):
            found[node.name] = (node.lineno, "class")
        else:
            for target in _targets(node):
                for sub in ast.walk(target):
                    if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                        found[sub.id] = (node.lineno, "assign")
    return found


def _top_level_statements(body: list[ast.stmt]) -> list[ast.stmt]:
    """Statements run at the cell's top level, also inside if/try/with/for blocks (not functions)."""
    out: list[ast.stmt] = []
    for node in body:
        out.append(node)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue  # their bodies run later, or bind class attributes
        for field in ("body", "orelse", "finalbody"):
            inner = getattr(node, field, None)
            if isinstance(inner, list):
                out += _top_level_statements(inner)
        for handler in getattr(node, "handlers", []) or []:
            out += _top_level_statements(handler.body)
    return out


def _targets(node: ast.stmt) -> list[ast.expr]:
    if isinstance(node, ast.Assign):
        return list(node.targets)
    if isinstance(node, (ast.AnnAssign, ast.AugAssign)):
        return [node.target] if node.value is not None or isinstance(node, ast.AugAssign) else []
    if isinstance(node, (ast.For, ast.AsyncFor)):
        return [node.target]
    if isinstance(node, (ast.With, ast.AsyncWith)):
        return [item.optional_vars for item in node.items if item.optional_vars is not None]
    return []


def _parse(source: str) -> ast.Module | None:
    """The cell as Python (IPython syntax such as `%matplotlib inline` or `!pip` made plain); None if
    it is not valid Python even then (the hint is then simply not given)."""
    try:
        return ast.parse(source)
    except SyntaxError:
        pass
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        return ast.parse(TransformerManager().transform_cell(source))  # type: ignore[no-untyped-call]
    except Exception:  # any failure of a best-effort hint: no hint
        return None
