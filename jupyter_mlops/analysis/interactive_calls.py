"""Calls that wait for a person at the keyboard, for a compile-time note (`%pipeline show`).

In the kernel `input("name? ")` shows a box under the cell and waits for an answer, and `breakpoint()`
opens the debugger there. A step runs with no one at its keyboard: its standard input is empty, so
`input` fails with EOFError and the debugger quits at once (BdbQuit), ending the step. The note says so
before the run, and what to do instead.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Collection

from .tree_nodes import walk

# name as called -> (what it does, what to do instead)
_ASKS = "waits for someone to type an answer"
_DEBUGS = "opens the debugger"
_CALLS = {
    "input": _ASKS,
    "getpass": _ASKS,
    "getpass.getpass": _ASKS,
    "breakpoint": _DEBUGS,
    "pdb.set_trace": _DEBUGS,
    "ipdb.set_trace": _DEBUGS,
    "set_trace": _DEBUGS,
}
INTERACTIVE_NAMES = frozenset(name.split(".")[0] for name in _CALLS)  # a cell that reads none has none
_INSTEAD = {
    _ASKS: "Make the answer a %%pipeline params value (or read it from a file or os.environ)",
    _DEBUGS: "Debug a step's code in the notebook with %pipeline debug RUN STEP",
}


def _called(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        return f"{func.value.id}.{func.attr}"
    return None


def interactive_calls(
    tree: ast.Module, user_line: Callable[[int], int], own: Collection[str]
) -> list[tuple[int, str]]:
    """(user line, note) for each call in the cell that waits for a person. `own`: names the cell or
    the notebook's code binds to something else (a function of its own called `input`)."""
    notes: list[tuple[int, str]] = []
    for node in walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _called(node.func)
        if name is None or name not in _CALLS or name in own:
            continue
        what = _CALLS[name]
        notes.append(
            (
                user_line(node.lineno),
                f"`{ast.unparse(node)}` {what} in the kernel; a step has no one at its keyboard, so there "
                f"it fails ({'EOFError' if what == _ASKS else 'BdbQuit'}). {_INSTEAD[what]}.",
            )
        )
    return sorted(notes)
