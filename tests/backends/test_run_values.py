"""Results, not file paths (issue 11): a run's outputs come back as the values the steps made, under the
step and variable names the user wrote; runs are found by id, name or id prefix; run names are unique."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from executor.notebook_cells import compiled, notebook_pipeline

import jupyter_mlops as mlops
from jupyter_mlops.errors import RunNotFound, UsageError
from jupyter_mlops.models import RunState

from .contract import explain

CELLS = [
    "%%pipeline setup\nclass Box:\n    def __init__(self, v):\n        self.v = v",
    "%%component make_df\n"
    "import numpy as np\nimport pandas as pd\n"
    "df = pd.DataFrame({'a': [1, 2, 3], 'b': ['x', 'y', 'z']})\n"
    "arr = np.arange(6, dtype='float32').reshape(2, 3)\n"
    "config = {'lr': 0.1, 'layers': [64, 32]}\n"
    "tags = {'red', 'blue'}\n"
    "box = Box(7)\n"
    "frames = [df]\n"
    "_hidden = 5\n"
    "table = pd.DataFrame({'n': [1, 2], 'w': [0.5, 1.5]})\n"
    "log_metric('rows', len(df))\n"
    "len(df)",
    "%%component use_them\n"
    "total = float(arr.sum()) + len(df) + len(tags) + box.v + len(frames) + _hidden + len(table)\n"
    "print(config)\n"
    "assert frames[0] is df",
]
SMALL = ["%%component make_df\nprint('made')\n1 + 2"]


def _run_cells() -> mlops.Run:
    run = mlops.run(notebook_pipeline(CELLS, "values")).wait(timeout=300)
    assert run.state is RunState.SUCCEEDED, explain(run.info)
    return run


class Box:  # the notebook's class, as the kernel defines it (`__main__` here stands for the notebook)
    def __init__(self, v: int) -> None:
        self.v = v


def test_outputs_are_the_values_under_the_users_names(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.modules["__main__"], "Box", Box, raising=False)
    run = _run_cells()
    assert list(run.tasks) == ["make_df", "use_them"]  # as written, not kfp's make-df
    made = run.outputs["make_df"]
    assert set(made) == {"df", "arr", "config", "tags", "box", "frames", "_hidden", "table", "result"}
    assert "mlops_metrics" not in made  # the compiler's Metrics output is not the user's
    assert "make_df.rows" in run.metrics
    pd.testing.assert_frame_equal(made["df"], pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]}))
    arr = made["arr"]
    assert arr.dtype == np.float32 and arr.shape == (2, 3) and arr[1, 2] == 5
    assert made["config"] == {"lr": 0.1, "layers": [64, 32]}
    assert made["tags"] == {"red", "blue"}
    assert isinstance(made["box"], Box) and made["box"].v == 7
    assert made["frames"][0] is made["df"]  # stored together, loaded together: still one object
    assert made["_hidden"] == 5
    pd.testing.assert_frame_equal(made["table"], pd.DataFrame({"n": [1, 2], "w": [0.5, 1.5]}))
    assert run.artifact_path("make_df", "table").suffix == ".parquet"  # stored as parquet, read back
    assert made["result"] == 3  # the cell's last value
    assert made["df"] is made["df"]  # loaded once, then kept
    assert "numpy.ndarray (2, 3) float32" in repr(made)  # listed without loading
    assert run.outputs["make_df"] is made
    assert "use_them" not in run.outputs  # it made nothing later steps read
    path = run.artifact_path("make_df", "arr")
    assert path.is_file() and np.array_equal(np.load(path), arr)
    assert run.artifact_path("make_df", "config").read_text() == '{"lr": 0.1, "layers": [64, 32]}'
    with pytest.raises(KeyError, match=r"no output .nope. .outputs: arr, box"):
        made["nope"]
    with pytest.raises(KeyError, match="no step 'make-df'"):
        run.artifact_path("make-df", "df")
    from jupyter_mlops.widgets import run_view

    detail = run_view(run.backend, run.id).step_detail("make_df")  # the run view's step panel
    assert detail["outputs"]["arr"] == "numpy.ndarray (2, 3) float32" and detail["outputs"]["result"] == "3"
    assert "mlops_metrics" not in detail["outputs"] and "_hidden" in detail["outputs"]
    used = run_view(run.backend, run.id).step_detail("use_them")
    assert (
        used["inputs"]["df"] == "pandas.DataFrame (3, 2) from make_df"
    )  # shape from its preview and used["outputs"] == {}
    assert str(home) not in repr(detail) + repr(used)  # no paths
    previews = detail["previews"]  # made by the step when it stored each value
    assert previews["df"]["kind"] == "table" and previews["df"]["rows"][0] == ["1", "x"]
    assert (previews["arr"]["min"], previews["arr"]["max"], previews["arr"]["mean"]) == (0.0, 5.0, 2.5)
    assert (
        previews["config"]["text"] == "{'lr': 0.1, 'layers': [64, 32]}" and previews["result"]["text"] == "3"
    )
    assert "mlops_metrics" not in previews
    assert "{'lr': 0.1" in run.logs("use_them")
    from IPython.lib.pretty import pretty

    log = run.logs("use_them")
    assert pretty(log) == str(log) and "\n" in pretty(log)  # shown as its lines, not a quoted repr


def test_kfp_names_stay_in_the_yaml_only(home: Path) -> None:
    documents = compiled(CELLS, "values")
    tasks = documents[0]["root"]["dag"]["tasks"]
    assert set(tasks) == {"make-df", "use-them"}
    assert {t["taskInfo"]["name"] for t in tasks.values()} == {"make_df", "use_them"}
    assert "make_df" in yaml.safe_dump(documents[0]["root"])


def test_get_run_by_id_name_or_prefix_and_list_runs(home: Path) -> None:
    first = mlops.run(notebook_pipeline(SMALL, "same"), name="twin").wait(timeout=300)
    second = mlops.run(notebook_pipeline(SMALL, "same"), name="twin").wait(timeout=300)
    assert first.state is second.state is RunState.SUCCEEDED, explain(first.info) + explain(second.info)
    assert first.name == "twin" and second.name == "twin-2"  # two runs are never named alike
    auto = [mlops.run(notebook_pipeline(SMALL, "auto")) for _ in range(3)]
    names = [r.wait(timeout=300).name for r in auto]
    assert len(set(names)) == 3, names  # started in the same second, still told apart
    for ref in (second.id, second.name, second.id[:6]):
        assert mlops.get_run(ref).id == second.id
    assert mlops.get_run("twin").id == first.id
    with pytest.raises(RunNotFound, match="no run 'nobody'"):
        mlops.get_run("nobody")
    listed = mlops.runs(limit=2)
    assert [r.id for r in listed] == [auto[2].id, auto[1].id]
    assert [r.name for r in mlops.runs(state="succeeded", limit=10)][-2:] == ["twin-2", "twin"], [
        (r.name, r.info.created_at, r.state) for r in mlops.runs(limit=10)
    ]
    assert mlops.runs(experiment="nothing-here") == []
    assert mlops.runs(limit=1)[0].outputs["make_df"]["result"] == 3
    with pytest.raises(UsageError, match="no such run state"):
        mlops.runs(state="DONE")


def test_every_cli_command_takes_an_id_a_prefix_or_a_name(home: Path) -> None:
    run = mlops.run(notebook_pipeline(SMALL, "cli"), name="cli-run").wait(timeout=300)
    base = [sys.executable, "-m", "jupyter_mlops.cli"]
    for ref in (run.id, run.id[:5], "cli-run"):
        status = subprocess.run([*base, "status", ref], capture_output=True, text=True, timeout=120)
        assert status.returncode == 0 and run.id in status.stdout and "make_df" in status.stdout, status
        logs = subprocess.run([*base, "logs", ref, "make_df"], capture_output=True, text=True, timeout=120)
        assert logs.returncode == 0 and "made" in logs.stdout, logs.stderr
        assert "KFP Executor" not in logs.stdout  # kfp's bookkeeping is left out, as in the views
        cancel = subprocess.run([*base, "cancel", ref], capture_output=True, text=True, timeout=120)
        assert cancel.returncode == 0 and "SUCCEEDED" in cancel.stdout, cancel


def test_cli_runs_status_and_logs_read_as_tables(home: Path) -> None:
    base = [sys.executable, "-m", "jupyter_mlops.cli"]
    empty = subprocess.run([*base, "status"], capture_output=True, text=True, timeout=120)
    assert empty.returncode == 0 and empty.stdout.strip() == "No runs yet.", empty
    first = mlops.run(notebook_pipeline(SMALL, "table"), name="short").wait(timeout=300)
    newest = mlops.run(notebook_pipeline(SMALL, "table"), experiment="a longer experiment").wait(timeout=300)
    status = subprocess.run([*base, "status"], capture_output=True, text=True, timeout=120)
    assert status.returncode == 0 and newest.id in status.stdout and first.id not in status.stdout, status
    listed = subprocess.run([*base, "runs"], capture_output=True, text=True, timeout=120).stdout.splitlines()
    assert listed[0].split() == ["id", "started", "state", "took", "experiment", "name"]
    assert [line.split()[0] for line in listed[1:]] == [newest.id, first.id]
    starts = {line.index("SUCCEEDED") for line in listed[1:]} | {listed[0].index("state")}
    assert len(starts) == 1, listed  # the columns line up
    assert listed[1].endswith(newest.name) and listed[2].endswith("short")
    every = subprocess.run(
        [*base, "logs", first.name, "make_df", "--executor-lines"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "KFP Executor" in every.stdout and "made" in every.stdout, every


def test_the_tensorboard_command_takes_an_id_a_prefix_or_a_name(home: Path, tmp_path: Path) -> None:
    cells = ["%%component fit\nfor i in range(3):\n    log_metric('loss', 1 / (i + 1), step=i)"]
    run = mlops.run(notebook_pipeline(cells, "boards"), name="board-run").wait(timeout=300)
    assert run.state is RunState.SUCCEEDED, explain(run.info)
    env = {**os.environ, "JUPYTER_MLOPS_TENSORBOARD_DIR": str(tmp_path / "registry")}
    for ref in (run.id, run.id[:5], "board-run"):
        command = [sys.executable, "-m", "jupyter_mlops.cli", "tensorboard", ref, "--step", "fit"]
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            assert "TensorBoard for" in line and "http://127.0.0.1:" in line, (ref, line, process.stderr)
        finally:
            process.terminate()
            process.wait(30)


def test_the_path_of_a_value_passed_as_a_parameter_says_how_to_read_it(home: Path) -> None:
    """A number that crosses steps as a KFP parameter has no file. Before, `artifact_path` said the
    step had "no stored output 'rows' (stored: none)" though `run.outputs[step]['rows']` held it."""
    cells = ["%%component count\nrows = len('abc')", "%%component report\nprint(rows * 2)"]
    run = mlops.run(notebook_pipeline(cells, "counted")).wait(timeout=300)
    assert run.state is RunState.SUCCEEDED, explain(run.info)
    assert run.outputs["count"]["rows"] == 3
    with pytest.raises(KeyError) as caught:
        run.artifact_path("count", "rows")
    said = caught.value.args[0]
    assert "'rows' of step 'count'" in said and "as a parameter (3)" in said, said
    assert "run.outputs['count']['rows']" in said, said
    with pytest.raises(KeyError, match=r"no output 'nope' \(outputs: rows\)"):
        run.artifact_path("count", "nope")
