"""A user's name never meets a name of the generated code (issue 9, item 11).

The compiler generates a component function per step (its arguments are the user's variables, its own
name is the step's) and a pipeline function (its arguments are the pipeline parameters). Variables,
parameters and steps called like a module the generated code imports (`time`, `json`, ...), like a
builtin it calls (`open`, `eval`, ...), or like its own helpers (`tasks`, `configure`, ...) must arrive
as the user's values, on this backend and on kfp.local.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from jupyter_mlops.compiler import compile_yaml
from jupyter_mlops.errors import CellError
from jupyter_mlops.models import RunState, StepState

from .conftest import Result, Runner
from .notebook_cells import compiled, notebook_pipeline

# The twelve names of the issue, then what the generated code or kfp binds or calls, then others.
ISSUE = ["time", "json", "os", "sys", "types", "ast", "pickle", "Any", "Dict", "List", "Optional", "Tuple"]
GENERATED = [
    "Input", "Output", "Dataset", "Metrics", "Artifact", "NamedTuple", "tasks", "components", "configure",
    "args", "step", "setup", "cell", "inputs", "outputs", "open", "type", "str", "eval", "exec", "compile",
    "isinstance", "linecache", "builtins", "kfp", "dsl", "mlops_metrics", "mlops_logdir", "_mlops_runtime",
    "_mlops_builtins", "_mlops_run_step", "_mlops_save", "ns", "module", "shim", "value", "path", "meta",
]  # fmt: skip
OTHERS = ["x", "data", "model", "input", "id", "len", "object", "print", "sorted", "Exception", "pipeline"]
NAMES = ISSUE + GENERATED + OTHERS


def _values_pipeline(names: list[str]) -> list[str]:
    """Cells that make every name cross steps, half as parameters (ints), half as artifacts (lists),
    and read each in a step named like another of the names; the last step logs a metric."""
    makers, readers = [], []
    for i, name in enumerate(names):
        literal = f"{i}" if i % 2 else f"[{i}, {name!r}]"
        makers.append(f"{name} = {literal}")
        readers.append(f"assert {name} == {literal}, ({name!r}, {name})")
    return [
        "%%component " + _step_name(names[0]) + "\n" + "\n".join(makers),
        "%%component "
        + _step_name(names[1])
        + "\n"
        + "\n".join(readers)
        + f"\nlog_metric('ok', 1.0)\n{names[0]}",
    ]


def _params_pipeline(names: list[str]) -> list[str]:
    params = "\n".join(f"{name} = {i}" for i, name in enumerate(names))
    reads = "\n".join(f"assert {name} == {i}, ({name!r}, {name})" for i, name in enumerate(names))
    return [f"%%pipeline params\n{params}", f"%%component {_step_name(names[-1])}\n{reads}\nok = 1"]


def _logs(result: Result) -> str:
    return "\n".join(result.listener.log(s) for s in result.listener.steps)


def _step_name(name: str) -> str:
    return name.lstrip("_") or "s"


@pytest.mark.parametrize("start", range(0, len(NAMES), 16))
def test_names_cross_steps_as_the_users_values(run_pipeline: Runner, start: int) -> None:
    names = NAMES[start : start + 16]
    result = run_pipeline(compiled(_values_pipeline(names)))
    assert result.state == RunState.SUCCEEDED, _logs(result)
    assert all(s.state == StepState.SUCCEEDED for s in result.listener.steps.values())


PARAMS = [n for n in NAMES if n != "Output" and not n.startswith("_")]  # kfp refuses those


@pytest.mark.parametrize("start", range(0, len(PARAMS), 25))
def test_names_as_pipeline_parameters(run_pipeline: Runner, start: int) -> None:
    names = PARAMS[start : start + 25]
    result = run_pipeline(compiled(_params_pipeline(names)))
    assert result.state == RunState.SUCCEEDED, _logs(result)
    arguments = {names[0]: 100}
    result = run_pipeline(compiled(_params_pipeline([*names[1:], names[0]])), arguments)
    assert result.state == RunState.FAILED  # the argument arrived: 100 is not the default the step checks
    log = next(iter(result.listener.steps.values())).name
    assert f"({names[0]!r}, 100)" in result.listener.log(log)


def test_steps_named_like_the_generated_code(run_pipeline: Runner) -> None:
    steps = ["time", "json", "open", "eval", "tasks", "components", "configure", "Input", "NamedTuple"]
    cells = [f"%%component {steps[0]}\nv0 = [0]\nw0 = 0"]
    for i, step in enumerate(steps[1:], start=1):
        cells.append(f"%%component {step}\nv{i} = v{i - 1} + [{i}]\nw{i} = w{i - 1} + 1")
    last = len(steps) - 1
    cells.append(f"%%component last\nassert v{last} == list(range({len(steps)}))\nw{last}")
    result = run_pipeline(compiled(cells))
    assert result.state == RunState.SUCCEEDED, _logs(result)
    assert len(result.listener.steps) == len(steps) + 1


def test_kfp_local_gives_the_same_values(tmp_path: Path) -> None:
    """kfp.local (SubprocessRunner) runs the same YAML: the names arrive as values there too."""
    names = [*ISSUE[:4], "tasks", "open", "Input"]
    pipeline = notebook_pipeline([*_params_pipeline(["Dict", "configure"]), *_values_pipeline(names)])
    path = tmp_path / "names.yaml"
    path.write_text(compile_yaml(pipeline))
    code = f"""
from kfp import components, local
local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root={str(tmp_path / "root")!r})
pipeline = components.load_component_from_file({str(path)!r})
pipeline()
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def test_a_parameter_kfp_refuses_is_refused_naming_the_cell() -> None:
    with pytest.raises(CellError, match=r"%%pipeline params.*'Output'.*reserves"):
        compiled(_params_pipeline(["x", "Output"]))
    with pytest.raises(CellError, match=r"%%pipeline params.*'_x'.*begin with a letter"):
        compiled(_params_pipeline(["_x", "y"]))


def test_outputs_kfp_cannot_name_as_they_are_keep_their_values(run_pipeline: Runner) -> None:
    """`_x` (a returned field cannot start with _) and `Output` (kfp's) get other output names, which
    must not meet the step's other names (`out_x`)."""
    cells = [
        "%%component a\nn = 1\nOutput = 2\n_x = 3",
        "%%component b\nassert (n, Output, _x) == (1, 2, 3)\n_x = [n]\nout_x = 5\nOutput_out = 6",
        "%%component c\n_x = _x + [out_x, Output_out, Output]\nout_x = [7]",
        "%%component d\nassert _x == [1, 5, 6, 2] and out_x == [7], (_x, out_x)",
    ]
    result = run_pipeline(compiled(cells))
    assert result.state == RunState.SUCCEEDED, _logs(result)
