"""Values cross steps faithfully in a real run (issue 9, item 13): what the next step reads is what
the previous step had: type, dtype, contents, memory order and writability."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from jupyter_mlops.compiler import compile_yaml, plan_pipeline
from jupyter_mlops.models import RunState

from .conftest import Runner
from .notebook_cells import compiled, notebook_pipeline

SETUP = """%%pipeline setup
import numpy as np
import pandas as pd


class Point:
    def __init__(self, x, y):
        self.x, self.y = x, y


def scale(v, k=2):
    return v * k
"""

MAKE = """%%component make
errors = []
for i in range(3):
    errors.append(np.float64(i) / 4)
frame = pd.DataFrame({
    "meta": [{"k": 1}, {"k": 2, "j": "x"}],
    "when": pd.date_range("2024-03-30", periods=2, tz="Europe/Paris"),
    "n": pd.array([1, None], dtype="Int64"),
    "ok": pd.array([True, None], dtype="boolean"),
    "c": pd.Categorical(["a", "b"]),
})
plain = pd.DataFrame({"a": [1, 2], "b": [0.5, 1.5]})
grid = np.asfortranarray(np.arange(6.0).reshape(2, 3))
frozen = np.arange(3)
frozen.flags.writeable = False
points = [Point(1, 2), Point(3, 4)]
rule = {"fn": scale, "k": 2}
info = {"n": 6, "ratio": 0.5}
count = 3
frame_dtypes = str(frame.dtypes.to_dict())
"""

USE = """%%component use
assert type(errors) is list and [type(e) for e in errors] == [np.float64] * 3, errors
assert errors == [0.0, 0.25, 0.5]
assert frame["meta"].tolist() == [{"k": 1}, {"k": 2, "j": "x"}] and type(frame["meta"][0]["k"]) is int
assert str(frame.dtypes.to_dict()) == frame_dtypes, (frame.dtypes, frame_dtypes)
assert str(frame["when"].dtype).endswith(", Europe/Paris]")
assert str(frame["n"].dtype) == "Int64" and frame["n"].isna().tolist() == [False, True]
assert str(frame["ok"].dtype) == "boolean" and str(frame["c"].dtype) == "category"
plain.loc[0, "a"] = 7
values = plain.to_numpy()
values[0, 0] = 9.0
assert plain["a"].tolist() == [7, 2]
assert grid.flags.f_contiguous and grid.flags.writeable
grid[0, 0] = 5.0
assert not frozen.flags.writeable
assert [(p.x, p.y) for p in points] == [(1, 2), (3, 4)] and type(points[0]).__name__ == "Point"
assert rule["fn"](3) == 6
assert type(info["n"]) is int and info == {"n": 6, "ratio": 0.5}
assert type(count) is int and count == 3
"""


def test_values_of_many_kinds_arrive_as_they_were(run_pipeline: Runner) -> None:
    cells = [SETUP, MAKE, USE]
    plan = plan_pipeline(notebook_pipeline(cells))
    assert (
        plan.step("make").outputs["errors"] == "artifact" and plan.step("make").outputs["info"] == "artifact"
    )
    assert plan.step("make").outputs["count"] == "int"
    run = run_pipeline(compiled(cells))
    assert run.state == RunState.SUCCEEDED, run.listener.log("make")[-3000:] + run.listener.log("use")[-3000:]
    formats = {a.name: a.metadata["format"] for a in run.listener.artifacts if a.step == "make"}
    assert formats == {
        "errors": "pickle",
        "frame": "pickle",  # a column of dicts: parquet would change them
        "plain": "parquet",
        "grid": "npy",
        "frozen": "npy",
        "points": "pickle",
        "rule": "pickle",
        "info": "json",
    }


def test_a_value_referring_to_a_function_of_a_step_loads_in_a_later_step_that_carries_it(
    run_pipeline: Runner,
) -> None:
    # (it failed the making step once, saying to move `rule` to setup; now `rule` travels with `use`)
    cells = [
        SETUP,
        "%%component make\ndef rule(x):\n    return x + 1\n\n\nmodel = {'rule': rule, 'k': 1}",
        "%%component use\nprint('got', model['k'], model['rule'](2))",
    ]
    run = run_pipeline(compiled(cells))
    assert run.state == RunState.SUCCEEDED, run.listener.log("make")[-2000:]
    assert "got 1 3" in run.listener.log("use")


def test_kfp_local_passes_them_alike(tmp_path: Path) -> None:
    """kfp.local (SubprocessRunner) runs the same YAML and the reading step finds the same values."""
    path = tmp_path / "values.yaml"
    path.write_text(compile_yaml(notebook_pipeline([SETUP, PARAMS, MAKE, USE, READ_PARAMS])))
    code = f"""
from kfp import components, local
local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root={str(tmp_path / "root")!r})
components.load_component_from_file({str(path)!r})()
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


PARAMS = """%%pipeline params
layers = [64, 32]
config = {"n": 3, "rate": 0.5, "sizes": [1, 2], "name": "x"}
mixed = [1, 2.5, "a"]
"""

READ_PARAMS = """%%component read
assert [type(v) for v in layers] == [int] * len(layers), layers
assert type(config["n"]) is int and type(config["rate"]) is float, config
assert [type(v) for v in config["sizes"]] == [int] * len(config["sizes"]), config
assert [type(v) for v in mixed] == [int, float, str], mixed
seen = [layers, config, mixed]
"""


def test_list_and_dict_parameters_keep_the_params_cells_ints(run_pipeline: Runner) -> None:
    """KFP carries the numbers inside list/dict parameters as doubles: the step gets ints back where
    the params cell's literal has ints (nn.Linear(layers[0], ...) needs an int)."""
    spec = compiled([PARAMS, READ_PARAMS, "%%component show\nprint(seen)"])
    run = run_pipeline(spec)
    assert run.state == RunState.SUCCEEDED, run.listener.log("read")[-2000:]
    run = run_pipeline(spec, {"layers": [8, 4, 2], "config": {"n": 5, "rate": 1, "sizes": [3], "name": "y"}})
    assert run.state == RunState.SUCCEEDED, run.listener.log("read")[-2000:]
    assert "[[8, 4, 2], {'n': 5, 'rate': 1.0, 'sizes': [3], 'name': 'y'}, [1, 2.5, 'a']]" in run.listener.log(
        "show"
    )
