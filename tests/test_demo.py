"""The README's main job: the demo notebook runs end to end on the local backend, in a real kernel and
from the command line, and shows its steps and metrics."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

DEMO = Path(__file__).resolve().parent.parent / "examples" / "demo.ipynb"


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("JUPYTER_MLOPS_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_main_job_command_runs_the_demo(home, tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "jupyter_mlops.cli", "run", str(DEMO), "--wait"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=os.environ,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "SUCCEEDED, 6/6 steps" in out
    for step in ("load", "stats", "scale", "train_slow", "train_fast", "evaluate"):
        assert step in out
    assert "evaluate.accuracy" in out and "train_fast.train_accuracy" in out
    # The summary lists steps in the order the DAG runs them (the IR sorts them by name).
    listed = [line.split()[1] for line in out.splitlines() if line.startswith("  ✓ ")]
    assert listed[0] == "load" and listed[-1] == "evaluate", listed
    # Then the run as a newcomer wants to see it: parameters, the DAG drawn by stage, each step's result.
    assert "parameters: epochs=60, lr=0.5, n_samples=400, seed=0" in out
    drawing = out.split("DAG (", 1)[1].split("steps:", 1)[0].splitlines()
    assert drawing[1].split() == ["1", "[✓", "load]"], drawing
    assert drawing[2].split("│", 1)[1].split() == ["load", "─▶", "scale,", "stats"], drawing
    assert "[✓ train_fast]" in drawing[5] and "[✓ train_slow]" in drawing[5], drawing
    assert drawing[7].split() == ["4", "[✓", "evaluate]"], drawing
    # Each step's values as the views show them (the cell's names, shapes, reprs; never a file's path),
    # a line each, then its metrics.
    steps: dict[str, list[str]] = {}
    for line in out.split("steps:\n", 1)[1].splitlines()[:-1]:
        if not line.startswith("   "):
            steps[line.split()[0]] = []
        steps[list(steps)[-1]].append(line.strip().removeprefix(list(steps)[-1]).strip())
    assert steps["load"] == ["x: numpy.ndarray (400, 4) float64", "y: numpy.ndarray (400,) int64"], steps
    assert steps["scale"][0] == "scaler: Standardizer object", steps  # a class of the notebook's setup
    assert steps["stats"] == ["summary: {'rows': 400, 'positive': 0.5325}"], steps  # result == summary
    assert steps["evaluate"][0].startswith("result: best: ") and steps["evaluate"][1].startswith(
        "metrics: accuracy="
    ), steps
    assert steps["train_fast"][-1].startswith("metrics: train_accuracy="), steps
    assert str(home) not in out.split("steps:\n", 1)[1].rsplit("\n", 2)[0], out  # no artifact paths

    def cli(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "jupyter_mlops.cli", *args], capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    assert "SUCCEEDED" in cli("runs", "--state", "succeeded")
    assert cli("runs", "--state", "FAILED").strip() == "No runs match."


def test_demo_notebook_runs_in_a_real_kernel(home, tmp_path):
    from nbclient import NotebookClient

    nb = nbformat.read(str(DEMO), as_version=4)
    NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    last = nb.cells[-1]
    text = "".join(
        o.get("data", {}).get("text/plain", "") for o in last.outputs if o.output_type == "execute_result"
    )
    metrics = eval(text)  # the cell's value is run.metrics, a dict of floats
    assert set(metrics) >= {"evaluate.accuracy", "evaluate.positive_rate", "train_fast.train_accuracy"}
    assert 0.5 < metrics["evaluate.accuracy"] <= 1.0
    show = nb.cells[-2]
    shown = "".join(o.get("data", {}).get("text/plain", "") for o in show.outputs if "data" in o)
    assert "Pipeline 'demo': 6 steps" in shown
