"""The third-party modules a pipeline's Python steps import, read from the component source kfp embeds
in each executor's command (the step's own import statements, and the setup cell's, which the compiler
puts in the step). What the runner service preloads in a zygote (backends/zygotes.py)."""

from __future__ import annotations

import ast
import functools
import re
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from .step_import_text import runtime_literals

NOT_PRELOADED = frozenset({"kfp", "jupyter_mlops", "__future__", "__main__"})


@functools.lru_cache(maxsize=1024)
def imports_of(source: str) -> frozenset[str]:
    """Top-level names of the absolute imports anywhere in `source` (function bodies included). A text
    without the keyword `import` (keywords are ASCII: no other spelling is one) imports nothing: a
    cell's code, mostly, is not parsed."""
    if "import" not in source:
        return frozenset()
    return _parsed_imports(source) or frozenset()


@functools.lru_cache(maxsize=64)
def _parsed_imports(source: str) -> frozenset[str] | None:
    """`imports_of(source)`, or None if `source` is not Python."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    return _imports_in(tree)


# Where statements nest: an import is a statement, so only these fields can lead to one (an
# expression, a lambda's included, holds none): a walk of the statements alone sees every import.
_BODIES = ("body", "orelse", "finalbody", "handlers", "cases")


def _imports_in(tree: ast.AST) -> frozenset[str]:
    names: set[str] = set()
    todo = [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
        else:
            for field in _BODIES:
                inner = getattr(node, field, None)
                if isinstance(inner, list):
                    todo.extend(inner)
    return frozenset(names)


def step_imports(documents: Sequence[Mapping[str, Any]]) -> list[str]:
    """Sorted top-level names of the non-standard-library modules the pipeline's Python steps import."""
    names: set[str] = set().union(*executor_imports(documents))
    return sorted(names)


def python_containers(documents: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The container of each Python executor (one that runs kfp's executor_main) of the pipeline."""
    found: list[Mapping[str, Any]] = []
    for document in documents:
        executors = document.get("deploymentSpec", {}).get("executors", {})
        if not isinstance(executors, Mapping):
            continue
        for spec in executors.values():
            container = spec.get("container", {}) if isinstance(spec, Mapping) else {}
            command = container.get("command", []) if isinstance(container, Mapping) else []
            if command and any("kfp.dsl.executor_main" in str(part) for part in command):
                found.append(container)
    return found


def executor_imports(documents: Sequence[Mapping[str, Any]]) -> list[frozenset[str]]:
    """For each Python executor of the pipeline, the non-standard-library modules its step imports."""
    found: list[frozenset[str]] = []
    for container in python_containers(documents):
        program = str(container["command"][-1])
        names = _program_imports(program)
        if names is None:
            names = imports_of(program) | _notebook_step_imports(program)
        found.append(
            frozenset(n for n in names if n not in sys.stdlib_module_names and n not in NOT_PRELOADED)
        )
    return found


@functools.lru_cache(maxsize=1024)  # the tasks of one component share its program (a kfp-built chain)
def _program_imports(program: str) -> frozenset[str] | None:
    """What `imports_of(program) | _notebook_step_imports(program)` finds, with the program's last `def`
    (a notebook step's own function) parsed once for both, and what comes before it (kfp's header and,
    inline, the runtime: the same for every step) read once for all steps. None where the program does
    not split so (no `def` at the start of a line, or a part that is not Python on its own)."""
    from .step_sources import call_in_tree

    last_def = program.rfind("\ndef ")
    if last_def < 0:
        return None
    text = program[: last_def + 1]
    head = _parsed_imports(text)
    if head is None:
        return None
    literals = runtime_literals(program[last_def + 1 :])  # no parse where the text tells
    if literals is not None:
        return head.union(*(_literal_imports(literal) for literal in literals))
    try:
        tree = ast.parse(program[last_def + 1 :])
    except (SyntaxError, ValueError):
        return None
    names = set(head | _imports_in(tree))
    call = _returned_call(tree) or call_in_tree(tree)
    if call is None and _may_call_the_runtime(text):
        return None  # the call may sit before the last def: looked for in the whole program
    if call is not None:
        names |= _literal_code_imports(call)
    return frozenset(names)


@functools.lru_cache(maxsize=64)
def _may_call_the_runtime(text: str) -> bool:
    """Whether `text` may hold a step runtime call: it names each of the call's keywords (or is not
    ASCII, where another spelling of a name is the same name)."""
    from .step_sources import KEYWORDS

    return not text.isascii() or all(keyword in text for keyword in KEYWORDS)


# An escape that may stand for a letter: only then can a literal's value hold a word its text does not.
_LETTER_ESCAPE = re.compile(r"\\[xuUN0-7]")


@functools.lru_cache(maxsize=1024)  # the setup's literal is the same in every step
def _literal_imports(literal: str) -> frozenset[str]:
    """What the code in a string literal (its text) imports: read, and the literal evaluated, only if
    the word `import` may be in its value."""
    if "import" not in literal and not _LETTER_ESCAPE.search(literal):
        return frozenset()
    return imports_of(ast.literal_eval(literal))


def _returned_call(tree: ast.Module) -> dict[str, Any] | None:
    """The runtime call's keywords where a notebook step's function makes it: its last statement,
    `return <entry>(step=..., ...)` (the compiler's step_function_source), read without a walk."""
    from .step_sources import call_in_tree

    function = tree.body[-1] if tree.body else None
    if not isinstance(function, ast.FunctionDef) or function.decorator_list or not function.body:
        return None
    last = function.body[-1]
    if isinstance(last, ast.Return) and isinstance(last.value, ast.Call):
        return call_in_tree(ast.Expression(last.value))
    return None


def _literal_code_imports(call: Mapping[str, Any]) -> set[str]:
    names: set[str] = set()
    setup = call.get("setup")
    chunks = [setup] if isinstance(setup, str) else [c[1] for c in setup or [] if len(c) > 1]
    for code in [*chunks, call.get("cell")]:
        if isinstance(code, str):
            names |= imports_of(code)
    return names


@functools.lru_cache(maxsize=256)
def _notebook_step_imports(program: str) -> frozenset[str]:
    """A notebook step carries its cell's code and the setup code as literals of its runtime call
    (`ir/step_sources.py`), not as statements: their imports, read from those literals."""
    from .step_sources import runtime_call

    call = runtime_call(program)
    return frozenset() if call is None else frozenset(_literal_code_imports(call))
