"""The third-party modules a pipeline's Python steps import, read from the component source kfp embeds
in each executor's command (the step's own import statements, and the setup cell's, which the compiler
puts in the step). What the runner service preloads in a zygote (backends/zygotes.py)."""

from __future__ import annotations

import ast
import functools
import sys
from collections.abc import Mapping, Sequence
from typing import Any

NOT_PRELOADED = frozenset({"kfp", "jupyter_mlops", "__future__", "__main__"})


@functools.lru_cache(maxsize=1024)
def imports_of(source: str) -> frozenset[str]:
    """Top-level names of the absolute imports anywhere in `source` (function bodies included)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return frozenset()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
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
        names = imports_of(program) | _notebook_step_imports(program)
        found.append(
            frozenset(n for n in names if n not in sys.stdlib_module_names and n not in NOT_PRELOADED)
        )
    return found


@functools.lru_cache(maxsize=256)
def _notebook_step_imports(program: str) -> frozenset[str]:
    """A notebook step carries its cell's code and the setup code as literals of its runtime call
    (`ir/step_sources.py`), not as statements: their imports, read from those literals."""
    from .step_sources import runtime_call

    call = runtime_call(program)
    if call is None:
        return frozenset()
    names: set[str] = set()
    setup = call.get("setup")
    chunks = [setup] if isinstance(setup, str) else [c[1] for c in setup or [] if len(c) > 1]
    for code in [*chunks, call.get("cell")]:
        if isinstance(code, str):
            names |= imports_of(code)
    return frozenset(names)
