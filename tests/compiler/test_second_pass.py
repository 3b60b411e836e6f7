"""The second analysis pass takes a cell's first analysis when nothing it would be told could change it
(analysis/across_cells.py `_unaffected`): no word of the cell is a name other cells import or define,
or a function any cell defines, and no star import. The analyses, the plan and kfp's YAML are the
same as when every cell is analysed again, on the examples, the real-world notebooks, the compiler
tests' notebooks and random notebooks whose cells share functions, imports and names.
"""

from __future__ import annotations

import random
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlops.analysis import across_cells
from jupyter_mlops.compiler import compile_yaml
from jupyter_mlops.notebook.pipeline import Pipeline
from jupyter_mlops.notebook.reader import feed_cell, read_notebook
from jupyter_mlops.notebook.workspace import Workspace

from .test_linear_compile import _notebooks, chain

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
from random_cells import RandomCell  # noqa: E402


def _files() -> dict[str, Pipeline]:
    found = {}
    for path in [
        *sorted((ROOT / "examples").glob("*.ipynb")),
        *sorted((ROOT / "tests/realworld/notebooks").glob("*.ipynb")),
    ]:
        try:
            found[path.name] = read_notebook(path).active
        except Exception:  # a notebook without a pipeline, or with another magic
            continue
    return found


def _random(seed: int) -> Pipeline:
    """Steps that import, define functions others call, share names, and a setup cell with both."""
    rng = random.Random(seed)
    workspace = Workspace(f"random-{seed}")
    setup = "%%pipeline setup\nimport math\n\ndef helper(v):\n    return v + 1\n\nc = 3\n"
    feed_cell(workspace, setup, "setup")
    feed_cell(workspace, "%%pipeline params\nb = 7\nd = 2\n", "params")
    for index in range(rng.randint(4, 9)):
        cell = RandomCell(rng)
        lines = cell.block("", 0, size=rng.randint(1, 3))
        source = re.sub(r"\bg(\d+)", rf"s{index}g\1", "\n".join(lines)) + "\n"
        extra = rng.choice(
            [
                "",
                "import json\n",
                f"a = helper({rng.choice(['b', 'c', 'd'])})\n",
                "a = math.floor(b / 2)\n",
                "log_metric('m', 1)\n",
                f"def f{index}(v):\n    return v * 2\n",
                f"a = f{max(0, index - 1)}(c) if 'f{max(0, index - 1)}' in dir() else c\n",
                "from os.path import *\n",
            ]
        )
        feed_cell(workspace, f"%%component s{index}\n{extra}{source}", f"cell {index}")
    return workspace.active


def _pipelines() -> dict[str, Pipeline]:
    found: dict[str, Pipeline] = {**_files(), **_notebooks(), "chain": chain(30)}
    found.update({f"random {seed}": _random(seed) for seed in range(40)})
    return found


def _analysed(pipeline: Pipeline) -> Any:
    try:
        cells = across_cells.analyze_pipeline(pipeline)
    except Exception as exc:  # the same error both ways
        return ("error", type(exc).__name__, str(exc))
    return (
        cells.setup,
        cells.steps,
        cells.complete,
        [str(e) for e in cells.errors],
        cells.outside_code,
        cells.notes,
    )


def _yaml(pipeline: Pipeline) -> str:
    try:
        return compile_yaml(pipeline)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"


def test_the_second_pass_gives_what_analysing_every_cell_again_gives(monkeypatch: pytest.MonkeyPatch) -> None:
    pipelines = _pipelines()
    ours = {name: (_analysed(p), _yaml(p)) for name, p in pipelines.items()}
    kept = sum(
        len(across_cells._unaffected(across_cells._analyze(p, {}, {}), {})) for p in pipelines.values()
    )
    monkeypatch.setattr(across_cells, "_unaffected", lambda first, code: {})
    again = {name: (_analysed(p), _yaml(p)) for name, p in pipelines.items()}
    for name in pipelines:
        assert ours[name] == again[name], name
    assert kept > 100  # (it was used)


def test_a_chains_cells_are_analysed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The chain's cells use nothing another cell imports or defines: each is analysed once, not twice."""
    from jupyter_mlops.analysis import cell

    analysed = 0
    real = cell.analyze_cell

    def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal analysed
        analysed += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(across_cells, "analyze_cell", counted)
    across_cells.analyze_pipeline(chain(40))
    assert analysed == 40, analysed  # 80 before


def test_a_cell_using_another_cells_import_is_analysed_again(monkeypatch: pytest.MonkeyPatch) -> None:
    workspace = Workspace("uses")
    feed_cell(workspace, "%%pipeline params\nx = 1\n", "params")
    feed_cell(workspace, "%%component a\nimport numpy as np\nv = x + 1\n", "a")
    feed_cell(workspace, "%%component b\nw = np.mean([v])\n", "b")  # np: a's import
    feed_cell(workspace, "%%component c\nu = v * 2\n", "c")
    first = across_cells._analyze(workspace.active, {}, {})
    code = {"np": "numpy"}
    assert set(across_cells._unaffected(first, code)) == {"c"}  # a binds np itself, b reads it
