"""Compile reports every problem in the notebook at once, each with its cell and line (issue 9
item 8), and says where a seeded random stream will not behave as in the kernel."""

from __future__ import annotations

import subprocess
import sys

import pytest

from jupyter_mlops.compiler import plan_pipeline
from jupyter_mlops.compiler.planner import describe
from jupyter_mlops.errors import CellError, CellErrors
from jupyter_mlops.notebook.workspace import Workspace

from .notebooks import write_notebook


def _workspace(steps: list[tuple[str, str]], setup: str | None = None) -> Workspace:
    w = Workspace("problems")
    if setup is not None:
        w.define_setup("", setup)
    for line, body in steps:
        w.define_component(line, body)
    return w


PROBLEMS = [
    ("a", "x = 1\ny = x + zed\n"),  # unknown name, line 3
    ("b", "f = lambda v: v\nw = y + undefined_too\n"),  # unknown name, line 3
    ("c", "z = f(w)\n"),  # a lambda from another step, line 2
    ("d", "q = (1,\n"),  # a syntax error, line 2
]


def test_every_problem_is_reported_at_once_in_notebook_order() -> None:
    with pytest.raises(CellErrors) as raised:
        plan_pipeline(_workspace(PROBLEMS).active)
    errors = raised.value.errors
    assert [(e.cell, e.line) for e in errors] == [("a", 3), ("b", 3), ("c", 2), ("d", 2)]
    text = str(raised.value)
    assert text.splitlines()[0] == "4 problems in the notebook:"
    assert "  - cell a, line 3: name 'zed' is read but" in text
    assert "  - cell b, line 3: name 'undefined_too' is read but" in text
    assert "  - cell c, line 2: uses 'f', a lambda defined in step 'b'" in text
    assert "  - cell d, line 2: " in text and "never closed" in text
    assert isinstance(raised.value, CellError)  # callers catching CellError still do


def test_after_a_cell_that_does_not_parse_only_sure_problems_are_reported() -> None:
    # Step c reads `t`, which the broken step b may define: no error is made up for it.
    steps = [("a", "y = zed\n"), ("b", "t = (1,\n"), ("c", "print(t)\n")]
    with pytest.raises(CellErrors) as raised:
        plan_pipeline(_workspace(steps).active)
    assert [(e.cell, e.line) for e in raised.value.errors] == [("a", 2), ("b", 2)]


def test_a_cycle_is_reported_with_the_cells_problems() -> None:
    steps = [("a --after b", "x = zed\n"), ("b --after a", "y = 1\n")]
    with pytest.raises(CellErrors) as raised:
        plan_pipeline(_workspace(steps).active)
    text = str(raised.value)
    assert "  - cell a, line 2: name 'zed'" in text and "  - steps a -> b -> a form a cycle" in text


def test_one_problem_keeps_its_own_message() -> None:
    with pytest.raises(CellError) as raised:
        plan_pipeline(_workspace([("a", "y = zed\n")]).active)
    assert not isinstance(raised.value, CellErrors)
    assert str(raised.value).startswith("cell a, line 2: name 'zed' is read but")


def test_the_cli_prints_every_problem(tmp_path):
    nb = write_notebook(
        tmp_path / "broken.ipynb",
        ["%%pipeline setup\nimport math\n", *[f"%%component {line}\n{body}" for line, body in PROBLEMS]],
    )
    proc = subprocess.run(
        [sys.executable, "-m", "jupyter_mlops.cli", "compile", str(nb), "-o", str(tmp_path / "out.yaml")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    lines = proc.stderr.splitlines()
    assert lines[0] == "jupyter-mlops: error: 4 problems in the notebook:"
    assert [line.split(":")[0] for line in lines[1:]] == [
        "  - cell a, line 3",
        "  - cell b, line 3",
        "  - cell c, line 2",
        "  - cell d, line 2",
    ]


def test_seeding_a_global_stream_is_noted_where_it_happens() -> None:
    setup = "import numpy as np\nimport random\nnp.random.seed(0)\nrandom.seed(1)\n"
    steps = [
        ("a", "import torch\ntorch.manual_seed(3)\nx = np.random.rand()\n"),
        ("b", "y = random.random()\n"),
    ]
    notes = describe(plan_pipeline(_workspace(steps, setup).active))["notes"]
    assert [n.split(": ")[0] for n in notes] == [
        "%%pipeline setup, line 4",
        "%%pipeline setup, line 5",
        "a, line 3",
    ]
    assert "np.random.seed(...) seeds a global random stream: every step runs the setup code" in notes[0]
    assert "each step starts that stream again from the seed" in notes[0]
    assert "random.seed(...)" in notes[1]
    assert "torch.manual_seed(...) seeds a global random stream for this step only" in notes[2]


def test_a_generator_made_in_setup_is_noted_and_its_stream_passes_through_steps() -> None:
    setup = "import numpy as np\nrng = np.random.default_rng(0)\n"
    steps = [("a", "x = rng.normal()\n"), ("b", "y = rng.normal()\n"), ("c", "print(x, y)\n")]
    plan = plan_pipeline(_workspace(steps, setup).active)
    notes = describe(plan)["notes"]
    assert len(notes) == 1 and notes[0].startswith("%%pipeline setup, line 3: `rng` is a random generator")
    # Drawing advances the generator: b continues a's stream, as in the kernel.
    assert plan.step("b").inputs["rng"][0] == "a"
