"""Values changed in place reach later steps (issue 9 item 1): planned, shown, and run for real."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import jupyter_mlops as mlops
from jupyter_mlops.compiler import plan_pipeline
from jupyter_mlops.compiler.plan import PipelinePlan
from jupyter_mlops.compiler.planner import describe
from jupyter_mlops.compiler.step_runtime import _mlops_load
from jupyter_mlops.models import RunState
from jupyter_mlops.notebook.workspace import Workspace
from jupyter_mlops.render.plan_text import plan_text

from .conftest import run_cell


def _plan(setup: str | None, steps: list[tuple[str, str]]) -> PipelinePlan:
    w = _workspace(setup, steps)
    return plan_pipeline(w.active)


def _workspace(setup: str | None, steps: list[tuple[str, str]]) -> Workspace:
    w = Workspace("changes")
    if setup is not None:
        w.define_setup("", setup)
    for line, body in steps:
        w.define_component(line, body)
    return w


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "mlops-home"
    monkeypatch.setenv("JUPYTER_MLOPS_HOME", str(path))
    return path


def _run(w: Workspace) -> Any:
    run = mlops.run(w.active, cache=False).wait(timeout=600)
    logs = "".join(run.logs(step) for step in run.tasks)
    assert run.state is RunState.SUCCEEDED, logs[-4000:]
    return run


LOGISTIC = [
    ("make", "from sklearn.linear_model import LogisticRegression\nmodel = LogisticRegression()\n"),
    ("fit", "model.fit([[0], [1]], [0, 1])\n"),
    ("use", "model.predict([[1]]).tolist()\n"),
]


def test_the_fitted_model_is_what_use_reads_and_use_runs_after_fit() -> None:
    plan = _plan(None, LOGISTIC)
    assert plan.step("fit").inputs["model"][0] == "make"
    assert plan.step("use").inputs["model"][0] == "fit"
    assert ("fit", "use", "model") in plan.edges
    assert [s.name for s in plan.steps] == ["make", "fit", "use"]


def test_an_unsure_change_is_marked_may_change_in_show_and_in_the_notes() -> None:
    plan = _plan(
        "def helper(frame):\n    frame.tidy()\n",  # a method the analysis does not know
        [("make", "df = {'a': 1}\n"), ("change", "helper(df)\n"), ("use", "print(df)\n")],
    )
    assert plan.step("use").inputs["df"][0] == "change"
    assert ("change", "use", "df (may change)") in plan.edges
    text = plan_text(plan)
    assert "df <- change (artifact, may change)" in text
    assert "out: df (artifact, may change)" in text
    assert (
        "change, line 2: `df` may be changed by `helper(...)` (its parameter `frame`); later steps "
        "that read `df` take it from this step"
    ) in describe(plan)["notes"]


def test_what_a_setup_helper_changes_is_read_from_its_code() -> None:
    setup = "def add_col(frame):\n    frame['c'] = 1\n\n\ndef peek(frame):\n    print(frame.head())\n"
    steps = [
        ("make", "df = {'a': 1}\n"),
        ("change", "add_col(df)\n"),
        ("look", "peek(df)\n"),
        ("use", "print(df)\n"),
    ]
    plan = _plan(setup, steps)
    assert ("change", "use", "df") in plan.edges  # surely changed: no mark, no note
    assert plan.step("look").outputs == {} and plan.notes == []


def test_read_only_steps_stay_parallel_and_make_no_copies() -> None:
    plan = _plan(
        "import numpy as np\n",
        [
            ("make", "arr = np.arange(6)\n"),
            ("look", "print(arr.shape, arr.mean(), np.std(arr), len(arr))\n"),
            ("sum", "total = arr.sum()\n"),
            ("use", "print(arr.tolist(), total)\n"),
        ],
    )
    assert plan.step("look").outputs == {} and plan.step("sum").outputs == {"total": "artifact"}
    assert plan.step("use").inputs["arr"][0] == "make"
    assert plan.notes == []


def test_the_logistic_regression_repro_runs(home: Path) -> None:
    pytest.importorskip("sklearn")
    run = _run(_workspace(None, LOGISTIC))  # NotFittedError in `use` before
    assert _mlops_load(run.outputs["use"]["result"], "use", "result") == [1]


SETUP = """\
import pandas as pd

history = []


def helper(frame):
    frame["c"] = frame["a"] * 10


def log(entry):
    history.append(entry)
"""

STEPS = [
    (
        "make",
        "import numpy as np\n"
        "df = pd.DataFrame({'a': [1, 2], 'b': [3, 4]})\n"
        "lst = []\n"
        "rng = np.random.default_rng(0)\n"
        "arr = np.arange(8)\n"
        "frames = {'x': pd.DataFrame({'v': [1]})}\n",
    ),
    (
        "change",
        "df.drop(columns=['b'], inplace=True)\n"
        "lst.append(1)\n"
        "rng.shuffle(arr)\n"
        "helper(df)\n"
        "for d in [frames['x']]:\n"
        "    d['w'] = 2\n"
        "del df['a']\n"
        "log('changed')\n",
    ),
    (
        "use",
        "summary = {\n"
        "    'columns': list(df.columns), 'c': df['c'].tolist(), 'lst': lst,\n"
        "    'arr': sorted(arr.tolist()), 'shuffled': arr.tolist() != list(range(8)),\n"
        "    'frame': sorted(frames['x'].columns), 'draw': float(rng.random()), 'history': history,\n"
        "}\n"
        "summary\n",
    ),
]


def test_values_changed_in_place_reach_later_steps_when_run(home: Path) -> None:
    w = _workspace(SETUP, STEPS)
    plan = plan_pipeline(w.active)
    assert {v: p for v, (p, _) in plan.step("use").inputs.items()} == {
        "arr": "change",
        "df": "change",
        "frames": "change",
        "history": "change",  # a setup list, changed by a setup helper
        "lst": "change",
        "rng": "change",
    }
    run = _run(w)
    got = _mlops_load(run.outputs["use"]["result"], "use", "result")
    # What the notebook gives, run top to bottom in one namespace:
    namespace: dict[str, Any] = {}
    exec(SETUP, namespace)
    for _, source in STEPS:
        exec(source, namespace)
    assert got == namespace["summary"]
    assert got["columns"] == ["c"] and got["c"] == [10, 20] and got["lst"] == [1]
    assert got["shuffled"] and got["arr"] == list(range(8)) and got["frame"] == ["v", "w"]
    assert got["history"] == ["changed"]


def test_pipeline_show_in_the_kernel_marks_may_change_and_says_why(ip) -> None:
    run_cell(ip, "%%pipeline setup\ndef tidy(frame):\n    frame.tidy_up()\n")
    run_cell(ip, "%%component make --define-only\nbox = [1]\n")
    run_cell(ip, "%%component fill --define-only\nn = len(box)\ntidy(box);\n")
    run_cell(ip, "%%component use --define-only\nprint(box)\n")
    text = repr(run_cell(ip, "%pipeline show"))
    assert "box <- fill (artifact, may change)" in text
    assert "fill, line 3: `box` may be changed by `tidy(...)` (its parameter `frame`)" in text
