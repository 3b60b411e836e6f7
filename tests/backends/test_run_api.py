"""`mlops.run(...)`, the `Run` it returns, and `mlops.log_metric(...)`, as a notebook user meets them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from waiting import wait_until

import jupyter_mlops as mlops
from jupyter_mlops.backends.local import LocalBackend
from jupyter_mlops.backends.registry import get_backend
from jupyter_mlops.errors import UsageError
from jupyter_mlops.models import RunState, StepState
from jupyter_mlops.render.svg import render_run_text
from jupyter_mlops.store import RunStore

from .contract import explain


def test_run_a_kfp_pipeline_function_and_read_the_results(home: Path) -> None:
    from . import pipelines

    run = mlops.run(pipelines.training, {"epochs": 4}, experiment="api", name="first try")
    assert isinstance(run, mlops.Run) and run.id
    assert run.wait(timeout=300) is run
    assert run.state is RunState.SUCCEEDED, explain(run.info)
    assert run.tasks == {"train": StepState.SUCCEEDED}
    assert run.outputs == {"train": {"Output": 0.25}}
    assert run.metrics == {"train.loss": 0.25}  # logged with mlops.log_metric inside the step
    history = LocalBackend(home).store.metric_history(run.id, "loss")
    metric_events = [e for e in run.backend.events(run.id) if e.kind == "metric"]
    assert metric_events and metric_events[0].step == "train"  # live views hear of new metrics
    assert [(p.index, p.value) for p in history] == [(0, 1.0), (1, 0.5), (2, 1 / 3), (3, 0.25)]
    assert run.info.name == "first try" and run.info.experiment == "api"
    assert run.info.parameters == {"epochs": 4}
    text = render_run_text(run.info)  # what a terminal shows for the run (its view's text/plain)
    assert run.id in text and "train" in text and "SUCCEEDED" in text and "0.25" in text
    assert repr(run) == f"Run(id={run.id!r}, name='first try', state=SUCCEEDED)"
    assert run.backend.get(run.id[:6]).id == run.id  # a unique prefix names the run, as in git


def test_run_a_compiled_yaml_file_or_a_notebook_pipeline(
    home: Path, specs: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "arith.yaml"
    path.write_text(specs["arith"])
    from_file = mlops.run(path, {"a": 10}).wait(timeout=300)
    assert from_file.outputs["add-2"] == {"Output": 22}

    class NotebookPipeline:  # what the notebook `Pipeline` offers mlops.run
        def compile_documents(self) -> list[dict[str, Any]]:
            return list(yaml.safe_load_all(specs["arith"]))

    from_object = mlops.run(NotebookPipeline(), {"b": 0}, cache=False).wait(timeout=300)
    assert from_object.outputs["add-2"] == {"Output": 11}
    assert "adding 1 and 0" in from_object.logs("add")


def test_bad_pipelines_and_arguments_are_usage_errors(
    home: Path, specs: dict[str, str], tmp_path: Path
) -> None:
    with pytest.raises(UsageError, match=r"no pipeline file .*missing\.yaml"):
        mlops.run(tmp_path / "missing.yaml")
    with pytest.raises(UsageError, match="cannot run 42"):
        mlops.run(42)
    path = tmp_path / "arith.yaml"
    path.write_text(specs["arith"])
    with pytest.raises(UsageError, match="lr"):
        mlops.run(path, {"lr": 0.1})
    with pytest.raises(UsageError, match="unknown backend 'nope'"):
        mlops.run(path, backend="nope")


def test_wait_times_out_naming_the_run_and_cancel_stops_it(
    home: Path, specs: dict[str, str], runner_mode: str
) -> None:
    run = mlops.run(specs["sleepy"], {"seconds": 120})
    with pytest.raises(TimeoutError, match=f"run {run.id} .* is still (PENDING|RUNNING) after 0.5 s"):
        run.wait(timeout=0.5)
    wait_until(lambda: run.tasks["nap"] is StepState.RUNNING, what="the nap step")
    assert run.cancel() is run
    assert run.wait(timeout=180).state is RunState.CANCELED
    assert run.tasks == {"add": StepState.SUCCEEDED, "nap": StepState.CANCELED}


def test_waiting_reads_the_runs_state_and_the_whole_run_once_at_its_end(
    home: Path, specs: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run's record holds all its steps: re-read every half second while waiting, a long pipeline
    cost more to wait for the longer it was (issue 15, a 1,000-step pipeline)."""
    backend = LocalBackend(home)
    run = mlops.run(specs["sleepy"], {"seconds": 2}, backend=backend)
    reads: list[str] = []
    get_run = backend.store.get_run

    def counted(run_id: str) -> Any:
        reads.append(run_id)
        return get_run(run_id)

    monkeypatch.setattr(backend.store, "get_run", counted)
    assert run.wait(timeout=300).state is RunState.SUCCEEDED
    assert reads == [run.id]  # at the end, for what `wait()` returns
    assert run.tasks == {"add": StepState.SUCCEEDED, "nap": StepState.SUCCEEDED}


def test_log_metric_in_a_plain_cell_goes_to_the_notebook_session(home: Path) -> None:
    mlops.log_metric("accuracy", 0.8)
    mlops.log_metric("accuracy", 0.9, step=2)
    mlops.log_metric("loss", 1)
    from jupyter_mlops.api import notebook_session_run_id

    session = notebook_session_run_id()
    backend = get_backend("local")
    run = backend.get(session)
    assert run.experiment == "Notebook sessions" and run.name.startswith("session-")
    assert run.metrics == {"accuracy": 0.9, "loss": 1.0}
    listed = backend.list_runs(experiment="Notebook sessions").runs
    assert [(r.id, r.metrics) for r in listed] == [(session, {"accuracy": 0.9, "loss": 1.0})]
    points = RunStore(home).metric_history(session, "accuracy")
    assert [(p.step, p.index, p.value) for p in points] == [(None, None, 0.8), (None, 2, 0.9)]


def test_log_metric_inside_a_step_appends_to_the_executors_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    metrics_file = tmp_path / "metrics.jsonl"
    monkeypatch.setenv("JUPYTER_MLOPS_METRICS_FILE", str(metrics_file))
    monkeypatch.setenv("JUPYTER_MLOPS_HOME", str(tmp_path / "not-used"))
    mlops.log_metric("loss", 0.5, step=3)
    mlops.log_metric("loss", 0.25)
    lines = [json.loads(line) for line in metrics_file.read_text().splitlines()]
    assert [(m["name"], m["value"], m["step"]) for m in lines] == [("loss", 0.5, 3), ("loss", 0.25, None)]
    assert all(isinstance(m["time"], float) for m in lines)
    assert not (tmp_path / "not-used").exists()  # nothing went to a store
    with pytest.raises(UsageError, match="the value must be a number, got 'high'"):
        mlops.log_metric("loss", "high")
    with pytest.raises(UsageError, match="metric name"):
        mlops.log_metric("", 1.0)


def test_a_steps_log_reads_as_the_magic_and_the_cli_show_it(home: Path) -> None:
    """`print(run.logs(step))` is what the step printed, as `%pipeline logs` and `jupyter-mlops logs`
    show it: before, it began with kfp's executor bookkeeping (its whole input as JSON, dozens of
    lines) that buried the step's own output. Every line is still there on request."""
    from . import pipelines

    run = mlops.run(pipelines.arith, {"a": 1, "b": 2}).wait(timeout=300)
    assert run.state is RunState.SUCCEEDED, explain(run.info)
    assert run.logs("add").strip() == "adding 1 and 2"
    whole = run.logs("add", executor_lines=True)
    assert "Got executor_input:" in whole and "adding 1 and 2" in whole


def test_a_run_handle_says_its_name_and_state_wherever_it_came_from(home: Path) -> None:
    """`mlops.runs()` and a run just submitted: each handle's repr names the run and its state
    (before, a listed run that had not been read whole showed `name='', state=?`)."""
    from . import pipelines

    run = mlops.run(pipelines.arith, {"a": 1, "b": 2}, name="sum it")
    submitted = repr(run)
    assert submitted.startswith(f"Run(id={run.id!r}, name='sum it', state=") and "?" not in submitted
    run.wait(timeout=300)
    listed = mlops.runs(limit=5)
    assert [repr(r) for r in listed] == [f"Run(id={run.id!r}, name='sum it', state=SUCCEEDED)"]


def test_run_a_notebook_file_as_the_cli_does(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`mlops.run("analysis.ipynb")`, as `jupyter-mlops run analysis.ipynb`: the notebook's pipeline,
    its steps working in the notebook's folder. Before: "is not compiled KFP pipeline IR"."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    folder = tmp_path / "my project"
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "numbers.txt").write_text("1\n2\n3\n")
    cells = [
        "%load_ext jupyter_mlops",
        "%%pipeline params\nscale = 2",
        "%%component load\nnumbers = [int(x) for x in open('data/numbers.txt')]",
        "%%component total\nsum(numbers) * scale",
    ]
    path = folder / "analysis nb.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell(c) for c in cells]), path)
    monkeypatch.chdir(tmp_path)  # elsewhere: relative paths in the steps still mean the notebook's folder

    run = mlops.run(path, {"scale": 10}).wait(timeout=300)
    assert run.state is RunState.SUCCEEDED, explain(run.info)
    assert run.outputs["total"]["result"] == 60 and run.info.parameters == {"scale": 10}
    assert mlops.run(str(path)).wait(timeout=300).outputs["total"]["result"] == 12
    with pytest.raises(UsageError, match="no notebook"):
        mlops.run(folder / "missing.ipynb")
