"""Setup code is held to the rules of steps (issue 9 item 12): the modules it uses travel into it
as imports do into steps, and a name nothing provides is a compile error naming the cell and line."""

from __future__ import annotations

from pathlib import Path

import pytest

import jupyter_mlops as mlops
from jupyter_mlops.compiler import plan_pipeline
from jupyter_mlops.compiler.step_runtime import _mlops_load
from jupyter_mlops.errors import CellError
from jupyter_mlops.models import RunState
from jupyter_mlops.notebook.workspace import Workspace

SOFTMAX = """\
def softmax(x):
    e = np.exp(x - x.max())
    return e / e.sum()
"""


def _workspace(setup: str, steps: list[tuple[str, str]], params: str | None = None) -> Workspace:
    w = Workspace("setup-rules")
    w.define_setup("", setup)
    if params is not None:
        w.define_params(params)
    for line, body in steps:
        w.define_component(line, body)
    return w


def test_a_module_a_step_imports_travels_into_setup_code_keeping_its_line_numbers() -> None:
    w = _workspace(SOFTMAX, [("a", "import numpy as np\np = softmax(np.array([1.0, 2.0]))\n")])
    plan = plan_pipeline(w.active)
    lines = plan.setup.splitlines()
    # The import takes the place of the `%%pipeline setup` line: line 2 is the setup's first line.
    assert lines[0] == "import numpy as np"
    assert lines[1:] == SOFTMAX.splitlines()


def test_setup_code_using_a_module_a_step_imports_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JUPYTER_MLOPS_HOME", str(tmp_path / "home"))
    w = _workspace(
        SOFTMAX,
        [
            ("a", "import numpy as np\np = softmax(np.array([0.0, 0.0]))\n"),
            ("b", "q = softmax(p * 0)\nq.tolist()\n"),  # NameError 'np' inside <pipeline setup> before
        ],
    )
    run = mlops.run(w.active, cache=False).wait(timeout=600)
    assert run.state is RunState.SUCCEEDED, run.logs("b")[-3000:]
    assert _mlops_load(run.outputs["b"]["result"], "b", "result") == [0.5, 0.5]


def test_a_name_setup_code_reads_that_nothing_provides_is_an_error_at_its_line() -> None:
    w = _workspace(
        "import math\n\n\ndef area(r):\n    return math.pi * r * r * scale_factor\n", [("a", "x = area(2)\n")]
    )
    with pytest.raises(CellError) as raised:
        plan_pipeline(w.active)
    assert str(raised.value).startswith(
        "cell %%pipeline setup, line 6: name 'scale_factor' is read by the setup code but no cell "
        "imports or defines it"
    )


def test_parameters_builtins_and_the_provided_helpers_are_fine_in_setup() -> None:
    w = _workspace(
        "def report(v):\n    log_metric('v', v * scale)\n    print(len(str(v)))\n",
        [("a", "report(1)\n")],
        params="scale = 2\n",
    )
    plan = plan_pipeline(w.active)
    assert plan.setup.startswith("\ndef report")  # line 1 stands for the magic line: no import needed
    assert plan.step("a").params == ("scale",)


def test_setup_syntax_errors_count_the_magic_line() -> None:
    w = _workspace("x = 1\ny = (2,\n", [("a", "z = 1\n")])
    with pytest.raises(CellError, match=r"cell %%pipeline setup, line 3"):
        plan_pipeline(w.active)


def test_a_step_calling_a_setup_function_that_reads_a_steps_value_takes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = _workspace(
        "def report():\n    return f'total={total}'\n",
        [("a", "total = 3\n"), ("b", "report()\n")],  # NameError 'total' in <pipeline setup> before
    )
    plan = plan_pipeline(w.active)
    assert plan.step("b").inputs["total"][0] == "a"
    assert [str(n) for n in plan.notes] == [
        "%%pipeline setup, line 3: setup code reads `total`, which only step 'a' defines: a step calling "
        "a setup function that reads it takes `total` as an input, but setup code outside functions runs "
        "before a step's inputs are loaded and would fail there."
    ]
    monkeypatch.setenv("JUPYTER_MLOPS_HOME", str(tmp_path / "home"))
    run = mlops.run(w.active, cache=False).wait(timeout=600)
    assert run.state is RunState.SUCCEEDED, run.logs("b")[-3000:]
    assert _mlops_load(run.outputs["b"]["result"], "b", "result") == "total=3"


def test_a_result_clash_names_the_last_line() -> None:
    w = _workspace("x = 0\n", [("a", "result = 1\nresult + 1\n"), ("b", "print(result)\n")])
    with pytest.raises(CellError, match=r"cell a, line 3: the variable 'result'"):
        plan_pipeline(w.active)


def test_setup_code_reads_parameters_at_its_top_level(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `%%pipeline params` above the setup cell, as in the kernel: setup may compute from a parameter.
    monkeypatch.setenv("JUPYTER_MLOPS_HOME", str(tmp_path / "home"))
    w = _workspace(
        "LIMIT = scale * 2\nSIZES = [s * 10 for s in layers]\n",
        [("a", "x = LIMIT + 1\n[x, SIZES]\n")],
        params="scale = 3\nlayers = [1, 2]\n",
    )
    run = mlops.run(w.active, {"scale": 4}, cache=False).wait(timeout=600)
    assert run.state is RunState.SUCCEEDED, run.logs("a")[-3000:]
    assert _mlops_load(run.outputs["a"]["result"], "a", "result") == [9, [10, 20]]
