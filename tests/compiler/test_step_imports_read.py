"""The modules a pipeline's steps import, as the runner service reads them from the IR to choose a zygote
(ir/step_imports.py), before it forks the run's runner: each notebook step's program is parsed once
(issue 15: a 1,000-step notebook pipeline waited ~0.35 s for three parses a step before its first
step could start), and the names found are those the whole program and the step's literal cell and
setup code import, as before.
"""

# No `from __future__ import annotations`: kfp reads the component signature's real types.
import ast
import sys
from typing import Any

import pytest

from jupyter_mlops.compiler import compile_documents
from jupyter_mlops.ir import step_imports
from jupyter_mlops.ir.step_imports import NOT_PRELOADED, executor_imports, imports_of, python_containers
from jupyter_mlops.ir.step_sources import runtime_call
from jupyter_mlops.notebook.reader import feed_cell
from jupyter_mlops.notebook.workspace import Workspace

from .notebooks import PARAMS, SETUP, STEPS
from .test_linear_compile import chain

SETUP_IMPORTS = (
    "%%pipeline setup\nimport json\nimport numpy as np\nfrom collections import Counter\nimport pandas\n"
)
CELLS = [
    "%%component a\nimport yaml\nx = int(np.int64(1)) + len(Counter())\n",
    "%%component b\ny = x + 1  # import nothing, though the comment says import\n",
    "%%component c\ndef f():\n    from scipy import stats\n    return stats\nz = y + len('import sklearn')\n",
]


def _reference(documents: list[dict[str, Any]]) -> list[frozenset[str]]:
    """Each executor's imports as read before: the whole program parsed, then the runtime call's literals."""
    found = []
    for container in python_containers(documents):
        program = str(container["command"][-1])
        names = set(imports_of(program))
        call = runtime_call(program)
        if call is not None:
            setup = call.get("setup")
            chunks = [setup] if isinstance(setup, str) else [c[1] for c in setup or [] if len(c) > 1]
            for code in [*chunks, call.get("cell")]:
                if isinstance(code, str):
                    names |= imports_of(code)
        kept = {n for n in names if n not in sys.stdlib_module_names and n not in NOT_PRELOADED}
        found.append(frozenset(kept))
    return found


def _workspace(name: str, cells: list[str]) -> Workspace:
    workspace = Workspace(name)
    for index, source in enumerate(cells, start=1):
        feed_cell(workspace, source, f"code cell {index}")
    return workspace


@pytest.mark.parametrize("inline", [False, True])
def test_the_imports_read_are_those_of_the_whole_program_and_its_literal_code(inline: bool) -> None:
    flag = " --inline-runtime" if inline else ""
    notebooks = [
        _workspace("flow", [SETUP.replace("setup", "setup" + flag, 1), PARAMS, *STEPS]),
        _workspace("imports", [SETUP_IMPORTS.replace("setup", "setup" + flag, 1), *CELLS]),
    ]
    for workspace in notebooks:
        documents = compile_documents(workspace.active)
        read = executor_imports(documents)
        assert read == _reference(documents)
        assert read  # notebook steps: each executor was read
    imported = executor_imports(compile_documents(notebooks[1].active))
    assert set().union(*imported) >= {"numpy", "yaml", "scipy"}


def _counted_parses(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """`ast.parse` counting its calls from now on: the count is the list's one item."""
    count = [0]
    real = ast.parse

    def counting(source: Any, *args: Any, **kwargs: Any) -> Any:
        count[0] += 1
        return real(source, *args, **kwargs)

    monkeypatch.setattr(ast, "parse", counting)
    return count


def test_a_kfp_component_with_its_own_imports_keeps_them() -> None:
    from kfp import dsl

    from jupyter_mlops.ir.documents import load_pipeline

    @dsl.component(base_image="python:3.11")
    def uses(x: int) -> int:
        import yaml  # noqa: F401

        return x

    @dsl.pipeline(name="own")
    def own(x: int = 1) -> int:
        return uses(x=x).output

    documents = load_pipeline(own)
    assert executor_imports(documents) == _reference(documents) == [frozenset({"yaml"})]


def test_each_notebook_step_program_is_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    steps = 60
    documents = compile_documents(chain(steps, setup="%%pipeline setup\nimport numpy\n"))
    step_imports.imports_of.cache_clear()
    step_imports._notebook_step_imports.cache_clear()
    parses = _counted_parses(monkeypatch)
    read = executor_imports(documents)
    assert read == [frozenset({"numpy"})] * steps
    assert parses[0] <= steps + 3, parses


def test_the_tasks_of_one_component_share_one_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    """kfp gives each task of a component used 50 times its own executor, with the same program."""
    from kfp import dsl

    from jupyter_mlops.ir.documents import load_pipeline

    @dsl.component(base_image="python:3.11")
    def inc(x: int) -> int:
        return x + 1

    @dsl.pipeline(name="chain")
    def chained(x: int = 0) -> int:
        task = inc(x=x)
        for _ in range(49):
            task = inc(x=task.output)
        return task.output

    documents = load_pipeline(chained)
    step_imports.imports_of.cache_clear()
    step_imports._program_imports.cache_clear()
    parses = _counted_parses(monkeypatch)
    assert executor_imports(documents) == [frozenset()] * 50
    assert parses[0] <= 3, parses


# Cells whose text could mislead a reading of the program's text instead of its syntax: import words in
# strings and comments, escapes, the runtime call's keywords in the cell, several setup cells.
TRICKY_CELLS = [
    "%%component a\nimport yaml\nx = 1\n",
    "%%component b\ny = x + len('\\x69mport numpy')  # an escape: no import\n",
    "%%component c\nz = y + len(\"cell='import os', setup='import scipy'\")\n",
    "%%component d\nw = z + 1\nimport sys as q  # stdlib\n",
    "%%component e\nv = w + len('''\nimport sklearn\n''')\n",
    "%%component f\nu = v + 1\ndef g():\n    import sqlite3, packaging\n    return u\n",
]


@pytest.mark.parametrize("inline", [False, True])
def test_tricky_cells_read_as_the_whole_program_and_its_literal_code(inline: bool) -> None:
    flag = " --inline-runtime" if inline else ""
    workspace = _workspace("tricky", [SETUP_IMPORTS.replace("setup", "setup" + flag, 1), *TRICKY_CELLS])
    documents = compile_documents(workspace.active)
    step_imports.imports_of.cache_clear()
    step_imports._program_imports.cache_clear()
    read = executor_imports(documents)
    assert read == _reference(documents)
    assert {"numpy", "pandas", "yaml"} <= read[0]
    assert "sklearn" not in set().union(*read)  # only in a string


def _rewritten(documents: list[dict[str, Any]], old: str, new: str) -> list[dict[str, Any]]:
    """The documents with `old` replaced by `new` in each executor's program (IR written otherwise)."""
    for container in python_containers(documents):
        container["command"][-1] = container["command"][-1].replace(old, new)
    return documents


@pytest.mark.parametrize(
    ("old", "new"),
    [
        # the setup as chunks (what the step runtime also accepts), its imports in them
        ("setup=''", "setup=[['%%pipeline setup', 'import numpy', [[1, 2]]]]"),
        # literals written otherwise than repr writes them: joined, escaped, triple-quoted, spaced
        ("setup=''", "setup='imp' 'ort numpy'"),
        ("setup=''", "setup='\\x69mport numpy'"),
        ("setup=''", 'setup="""import numpy"""'),
        ("setup=''", "setup = 'import numpy'"),
        ("setup=''", "setup=r'import numpy'"),
        # an import statement beside the runtime's, another call with a `cell=` keyword
        ("    return ", "    import numpy\n    return "),
        ("    return ", "    f(cell='import scipy')\n    return "),
    ],
)
def test_programs_written_otherwise_read_as_the_whole_program(old: str, new: str) -> None:
    documents = _rewritten(compile_documents(chain(3)), old, new)
    step_imports.imports_of.cache_clear()
    step_imports._program_imports.cache_clear()
    read = executor_imports(documents)
    assert read == _reference(documents)
    assert read[1] <= {"numpy", "scipy"}


def test_notebook_steps_are_read_without_parsing_their_programs(monkeypatch: pytest.MonkeyPatch) -> None:
    """A 1,000-step notebook pipeline's first run waited ~0.25 s in the runner service for a parse and
    a literal reading of every step's program: only the cells' code that imports is parsed now."""
    steps = 60
    documents = compile_documents(chain(steps, setup="%%pipeline setup\nimport numpy\n"))
    step_imports.imports_of.cache_clear()
    step_imports._parsed_imports.cache_clear()
    step_imports._program_imports.cache_clear()
    parses = _counted_parses(monkeypatch)
    read = executor_imports(documents)
    assert read == [frozenset({"numpy"})] * steps
    assert parses[0] <= 3, parses
