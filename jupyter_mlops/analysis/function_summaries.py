"""What a function (or a plain class, through its `__init__`) defined in a notebook cell may change
when it is called: which of its parameters, and which module-level names. The setup cell's helpers
and a step's own functions are code the analysis can read, so `helper(df)` changes `df` only if
`helper` may change its parameter, and `Dataset(df)` only if the class's `__init__` may.

A function's body is analysed as if it were a cell whose outside names are its parameters (and the
module's names): what that "cell" may change among its parameters is what a call may change in
its arguments; module-level names it may change and does not bind are changed by every call.
Functions it calls that are summarized already (defined above it) are followed; others are
unknown, so their arguments may change (sound). Nested functions and lambdas count as called.
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Mapping
from typing import cast

from jupyter_mlops.analysis.alias_groups import returns_fresh
from jupyter_mlops.analysis.changes import FunctionSummary
from jupyter_mlops.analysis.flow import analyze_names

_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_BUILTINS = frozenset(dir(builtins))


def summarize_functions(
    tree: ast.Module,
    *,
    outside_code: Mapping[str, str] | None = None,
    known: Mapping[str, FunctionSummary] | None = None,
) -> dict[str, FunctionSummary]:
    """Summaries of the functions defined at the top level of `tree`, in order."""
    found: dict[str, FunctionSummary] = dict(known or {})
    own: dict[str, FunctionSummary] = {}
    for statement in tree.body:
        node = _constructor(statement)
        if node is None:
            continue
        args = node.args
        positional = tuple(a.arg for a in [*args.posonlyargs, *args.args])
        names = {*positional, *(a.arg for a in args.kwonlyargs)}
        names |= {a.arg for a in (args.vararg, args.kwarg) if a is not None}
        if isinstance(statement, ast.ClassDef):  # `Model(data)` calls __init__(self, data)
            positional = positional[1:]
        body = ast.Module(body=list(node.body), type_ignores=[])
        # Its own name is not yet summarized: a recursive call is an unknown call (sound).
        flow = analyze_names(body, lazy_annotations=True, outside_code=outside_code, summaries=found)
        changed = flow.mutates & names
        # Module-level names it changes in place, or rebinds (`global history; history = []`).
        globals_changed = (flow.mutates - names - flow.binds) | (_globals(node) & flow.binds)
        summary = FunctionSummary(
            positional=positional,
            changed=frozenset(changed),
            unsure=frozenset((changed | globals_changed) & set(flow.unsure_changes)),
            globals_changed=frozenset(globals_changed),
            globals_read=frozenset((set(flow.reads) | set(flow.maybe_reads)) - names - _BUILTINS),
            vararg=args.vararg.arg if args.vararg else None,
            kwarg=args.kwarg.arg if args.kwarg else None,
            fresh_result=isinstance(statement, _FUNCTIONS)
            and returns_fresh(statement, import_paths=outside_code or {}, summaries=found),
        )
        name = cast(ast.FunctionDef | ast.ClassDef, statement).name
        found[name] = own[name] = summary
    return own


def _constructor(node: ast.stmt) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    """The code a call of this top-level definition runs: the function itself, or a plain class's
    `__init__` (a class with bases, a metaclass, `__new__` or decorators may run anything else)."""
    if isinstance(node, _FUNCTIONS):
        return None if node.decorator_list else node  # a decorator may replace it with anything
    if not isinstance(node, ast.ClassDef) or node.bases or node.keywords or node.decorator_list:
        return None
    methods = {m.name: m for m in node.body if isinstance(m, _FUNCTIONS)}
    init = methods.get("__init__", _NO_INIT)
    if "__new__" in methods or init.decorator_list or not init.args.args:
        return None
    return init


_NO_INIT = cast(ast.FunctionDef, ast.parse("def __init__(self):\n    pass\n").body[0])


def _globals(function: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    """Names the function declares `global` (its nested functions and classes left out)."""
    found: set[str] = set()
    stack: list[ast.AST] = list(function.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Global):
            found.update(node.names)
        elif not isinstance(node, (*_FUNCTIONS, ast.ClassDef, ast.Lambda)):
            stack.extend(ast.iter_child_nodes(node))
    return found
