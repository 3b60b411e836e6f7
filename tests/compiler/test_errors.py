"""Bad input gets a short message that names the cell, line, step or name, and loses nothing."""

from __future__ import annotations

import subprocess
import sys

import pytest

from jupyter_mlops.compiler import plan_pipeline
from jupyter_mlops.errors import CellError, MlopsError, PipelineError
from jupyter_mlops.notebook.workspace import Workspace
from jupyter_mlops.step_runtime.run import _mlops_save

from .conftest import run_cell
from .notebooks import write_notebook


def _plan(steps):
    w = Workspace("errors")
    for line, body in steps:
        w.define_component(line, body)
    return plan_pipeline(w.active)


@pytest.mark.parametrize(
    ("steps", "error", "fragments"),
    [
        ([("a", "x = 1\ny = (2,\n")], CellError, ["cell a, line 3", "was never closed"]),
        ([("a", "x = 1\n"), ("b", "y = x + zed\n")], CellError, ["cell b, line 2", "'zed'"]),
        (
            [("a --after c", "x = 1\n"), ("b --after a", "y = 2\n"), ("c --after b", "z = 3\n")],
            PipelineError,
            ["a -> b -> c -> a", "cycle"],
        ),
        ([("a", "y = z\n"), ("b", "z = 1\n")], CellError, ["cell a", "'z'", "comes later"]),
        # a function defined on some paths only does not travel to the steps that call it
        (
            [("a", "if True:\n    def f(v):\n        return v\n"), ("b", "y = f(2)\n")],
            CellError,
            ["cell b", "'f'", "setup"],
        ),
        ([("a", "from no_such_mod import *\n")], CellError, ["cell a, line 2", "from no_such_mod import *"]),
        (
            [("a", "x = 1\n!pip install foo\n")],
            CellError,
            ["cell a, line 3", "!pip install foo", "--packages"],
        ),
        ([("a --after nowhere", "x = 1\n")], PipelineError, ["nowhere"]),
    ],
)
def test_compile_errors_name_where(steps, error, fragments):
    # Line numbers count the %%component line, as the user sees the cell.
    with pytest.raises(error) as info:
        _plan(steps)
    for fragment in fragments:
        assert fragment in str(info.value)


def test_imports_travel_as_code_not_data():
    plan = _plan([("a", "import json\n"), ("b", "s = json.dumps({})\n")])
    assert plan.step("b").inputs == {} and plan.step("b").source.startswith("import json\n")
    assert plan.edges == []


def test_unserializable_value_names_step_variable_and_type(tmp_path):
    def gen():
        yield 1

    with pytest.raises(TypeError) as info:
        _mlops_save(str(tmp_path / "out"), gen(), "train", "batches", set())
    assert (
        "step 'train'" in str(info.value)
        and "'batches'" in str(info.value)
        and "generator" in str(info.value)
    )


def test_params_cell_errors():
    w = Workspace("p")
    with pytest.raises(CellError, match=r"line 3.*literal"):  # the %%pipeline params line is line 1
        w.define_params("a = 1\nb = compute()\n")
    with pytest.raises(CellError, match="only `name = value`"):
        w.define_params("print('x')\n")


def test_magic_errors_are_one_line_not_a_traceback(ip, capsys):
    from IPython.core.error import UsageError as IPythonUsageError

    with pytest.raises(IPythonUsageError) as info:
        run_cell(ip, "%%component train --cpu lots\nx = 1\n")
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err
    assert "--cpu 'lots'" in str(info.value)
    with pytest.raises(IPythonUsageError) as info:
        run_cell(ip, "%pipeline frobnicate")
    assert "unknown subcommand 'frobnicate'" in str(info.value)


def test_cli_error_names_the_cell_and_exits_2(tmp_path):
    nb = write_notebook(tmp_path / "bad.ipynb", ["%%component a\nx = 1", "%%component b\ny = x + missing"])
    proc = subprocess.run(
        [sys.executable, "-m", "jupyter_mlops.cli", "compile", str(nb)], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert "cell b, line 2" in proc.stderr and "'missing'" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "bad.yaml").exists()


def test_cli_bad_notebook_path(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "jupyter_mlops.cli", "compile", str(tmp_path / "nope.ipynb")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and "no notebook at" in proc.stderr


def test_errors_share_one_hierarchy():
    assert issubclass(CellError, MlopsError) and issubclass(PipelineError, MlopsError)


def test_a_name_bound_on_some_paths_is_unbound_downstream_as_in_the_notebook(tmp_path, monkeypatch):
    """`if flag: late = 1` then a reader: the reader sees `late` undefined when the branch did not run."""
    # The step runtime installs its stand-in modules, as it does in a step's own process: undo that here.
    monkeypatch.setitem(sys.modules, "jupyter_mlops", sys.modules["jupyter_mlops"])
    monkeypatch.delitem(sys.modules, "__mlops_notebook__", raising=False)
    monkeypatch.setitem(sys.modules, "__main__", sys.modules["__main__"])
    import json
    import os

    from jupyter_mlops.step_runtime.run import _MLOPS_UNBOUND, _mlops_load, _mlops_run_step

    class Art:
        def __init__(self, path):
            self.path, self.metadata = path, {}

    out = Art(str(tmp_path / "late"))
    _mlops_run_step(
        "a",
        "",
        "flag = False\nif flag:\n    late = 1\n",
        {"late": out},
        {},
        {"late": ("late", "artifact")},
        False,
    )
    assert out.metadata["format"] == "unbound" and os.path.exists(os.path.join(out.path, "value.unbound"))
    assert _mlops_load(out.path, "b", "late") is _MLOPS_UNBOUND
    report = tmp_path / "r.json"
    cell = f"import json\njson.dump('late' in dir(), open({str(report)!r}, 'w'))\n"
    _mlops_run_step("b", "", cell, {"late": Art(out.path)}, {"late": ("late", "artifact")}, {}, False)
    assert json.loads(report.read_text()) is False
    plan = _plan([("a", "flag = False\nif flag:\n    late = 1\n"), ("b", "v = late\n")])
    assert plan.step("a").outputs == {"late": "artifact"}  # maybe-bound: never a typed parameter
