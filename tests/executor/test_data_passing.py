"""Values reach the next step as they would on a cluster: every parameter type, artifacts, paths."""

import functools
import json
from pathlib import Path
from typing import NamedTuple

import pytest
from kfp import dsl
from kfp.dsl import Dataset, Input, InputPath, Metrics, Model, Output, OutputPath

from jupyter_mlops.models import RunState, StepState

from .conftest import Runner

component = functools.partial(dsl.component, base_image="python:3.11")


@component
def make_data(
    rows: int, scale: float, label: str, flag: bool, tags: list, config: dict, data: Output[Dataset]
) -> str:
    import json

    assert isinstance(rows, int) and isinstance(scale, float) and isinstance(flag, bool)
    with open(data.path, "w") as f:
        json.dump(
            {"rows": [i * scale for i in range(rows)], "label": label, "tags": tags, "config": config}, f
        )
    data.metadata["rows"] = rows
    return f"{label}:{rows}"


@component
def train(
    data: Input[Dataset], summary: str, model: Output[Model], metrics: Output[Metrics], notes: OutputPath(str)
) -> NamedTuple("Outputs", [("count", int), ("total", float), ("ok", bool)]):
    import json
    from collections import namedtuple

    with open(data.path) as f:
        content = json.load(f)
    assert data.metadata["rows"] == len(content["rows"])
    with open(model.path, "w") as f:
        f.write(f"model for {summary}")
    metrics.log_metric("accuracy", 0.75)
    metrics.log_metric("loss", 0.25)
    with open(notes, "w") as f:
        f.write(f"trained on {content['label']} with {content['tags']} and {content['config']}")
    outputs = namedtuple("Outputs", ["count", "total", "ok"])
    return outputs(len(content["rows"]), float(sum(content["rows"])), True)


@component
def report(
    model_file: InputPath("Model"), notes: str, count: int, total: float, ok: bool, out: OutputPath("Dataset")
):
    with open(model_file) as f:
        model = f.read()
    with open(out, "w") as f:
        f.write(f"{model}|{notes}|{count}|{total}|{ok}")


@component
def log_progress() -> int:
    import json
    import os

    with open(os.environ["JUPYTER_MLOPS_METRICS_FILE"], "a") as f:
        for step in range(3):
            f.write(
                json.dumps({"name": "loss", "value": 1.0 / (step + 1), "step": step, "time": 1.0 + step})
                + "\n"
            )
    return 7


@dsl.pipeline
def data_pipeline(rows: int = 4, scale: float = 0.5, label: str = "iris", flag: bool = True):
    made = make_data(rows=rows, scale=scale, label=label, flag=flag, tags=["a", "b"], config={"k": 1})
    trained = train(data=made.outputs["data"], summary=made.outputs["Output"])
    report(
        model_file=trained.outputs["model"],
        notes=trained.outputs["notes"],
        count=trained.outputs["count"],
        total=trained.outputs["total"],
        ok=trained.outputs["ok"],
    )
    log_progress()


def test_parameters_and_artifacts_arrive_typed_at_the_next_step(run_pipeline: Runner) -> None:
    result = run_pipeline(data_pipeline, {"rows": 3, "label": "wine"})

    assert result.state == RunState.SUCCEEDED, result.error
    made = result.step("make-data")
    assert made.inputs["rows"] == 3 and made.inputs["scale"] == 0.5 and made.inputs["tags"] == ["a", "b"]
    assert made.outputs["Output"] == "wine:3"
    trained = result.step("train")
    assert trained.outputs["count"] == 3 and isinstance(trained.outputs["count"], int)
    assert trained.outputs["total"] == 1.5
    assert trained.outputs["ok"] is True
    # numbers inside a dict or list travel as protobuf doubles, as on a cluster
    assert trained.outputs["notes"] == "trained on wine with ['a', 'b'] and {'k': 1.0}"
    assert trained.inputs["data"] == made.outputs["data"]
    assert trained.metrics == {"accuracy": 0.75, "loss": 0.25}
    final = Path(result.step("report").outputs["out"]).read_text()
    assert final == "model for wine:3|trained on wine with ['a', 'b'] and {'k': 1.0}|3|1.5|True"
    assert Path(made.outputs["data"]).is_relative_to(result.workdir / "artifacts" / "make-data")


def test_artifacts_and_metrics_are_reported_with_their_types(run_pipeline: Runner) -> None:
    result = run_pipeline(data_pipeline)

    by_name = {(a.step, a.name): a for a in result.listener.artifacts}
    assert by_name[("make-data", "data")].type == "system.Dataset"
    assert by_name[("make-data", "data")].metadata == {"rows": 4}
    assert by_name[("train", "model")].type == "system.Model"
    assert by_name[("train", "metrics")].metadata == {"accuracy": 0.75, "loss": 0.25}
    assert all(a.run_id == result.workdir.name for a in result.listener.artifacts)
    from_artifact = {(m.step, m.name): m.value for m in result.listener.metrics if m.step == "train"}
    assert from_artifact == {("train", "accuracy"): 0.75, ("train", "loss"): 0.25}


def test_a_step_logs_metrics_through_the_metrics_file(run_pipeline: Runner) -> None:
    result = run_pipeline(data_pipeline)

    points = [(m.name, m.value, m.index, m.time) for m in result.listener.metrics if m.step == "log-progress"]
    assert points == [("loss", 1.0, 0, 1.0), ("loss", 0.5, 1, 2.0), ("loss", 1.0 / 3, 2, 3.0)]
    assert result.step("log-progress").metrics == {"loss": 1.0 / 3}


def test_each_step_has_its_own_log_and_times(run_pipeline: Runner) -> None:
    result = run_pipeline(data_pipeline)

    for name in ("make-data", "train", "report"):
        step = result.step(name)
        assert step.state == StepState.SUCCEEDED and step.attempts == 1
        assert step.started_at is not None and step.finished_at is not None
        assert step.started_at <= step.finished_at
        assert "KFP Executor" in result.listener.log(name)  # kfp's own executor_main wrote it
    assert result.step("make-data").finished_at <= result.step("train").started_at  # type: ignore[operator]


def test_arguments_are_checked_before_anything_runs(run_pipeline: Runner) -> None:
    result = run_pipeline(data_pipeline, {"rowz": 3})

    assert result.state == RunState.FAILED
    assert result.error is not None and "rowz" in result.error and "rows" in result.error
    assert result.listener.steps == {}


def test_plain_subprocess_mode_gives_the_same_outputs(run_pipeline: Runner) -> None:
    forked = run_pipeline(data_pipeline, cache=False)
    spawned = run_pipeline(data_pipeline, cache=False, fork=False)

    assert spawned.state == RunState.SUCCEEDED, spawned.error
    for name in ("make-data", "train"):
        left = {k: v for k, v in forked.outputs(name).items() if not str(v).startswith(str(forked.workdir))}
        right = {
            k: v for k, v in spawned.outputs(name).items() if not str(v).startswith(str(spawned.workdir))
        }
        assert left == right
    assert json.loads(Path(spawned.outputs("make-data")["data"]).read_text())["label"] == "iris"


@component
def who_am_i(job: str, task: str) -> str:
    return f"{job}/{task}"


@dsl.pipeline
def placeholders():
    who_am_i(job=dsl.PIPELINE_JOB_ID_PLACEHOLDER, task=dsl.PIPELINE_TASK_NAME_PLACEHOLDER)


def test_kfp_runtime_placeholders_are_filled_in(run_pipeline: Runner) -> None:
    result = run_pipeline(placeholders, name="run-42")

    assert result.step("who-am-i").outputs == {"Output": "run-42/who-am-i"}


@component
def train_with_both(metrics: Output[Metrics]):
    import json
    import os

    for step, loss in enumerate([0.9, 0.5, 0.2]):  # what a notebook step's log_metric does
        metrics.log_metric("loss", loss)
        with open(os.environ["JUPYTER_MLOPS_METRICS_FILE"], "a") as f:
            f.write(json.dumps({"name": "loss", "value": loss, "step": step, "time": 10.0 + step}) + "\n")
    metrics.log_metric("accuracy", 0.8)  # only in the Metrics artifact


@dsl.pipeline
def both_sinks():
    train_with_both()


def test_a_metric_logged_to_the_file_and_the_metrics_artifact_is_recorded_once(run_pipeline: Runner) -> None:
    result = run_pipeline(both_sinks)

    points = sorted((m.name, m.value, m.index) for m in result.listener.metrics)
    assert points == [("accuracy", 0.8, None), ("loss", 0.2, 2), ("loss", 0.5, 1), ("loss", 0.9, 0)]
    assert result.step("train-with-both").metrics == {"loss": 0.2, "accuracy": 0.8}


@component
def writes_tensorboard_logs() -> str:
    import os

    logdir = os.environ["JUPYTER_MLOPS_LOGDIR"]  # what mlops.logdir() returns in a step
    os.makedirs(logdir, exist_ok=True)
    with open(os.path.join(logdir, "events.out.tfevents.1"), "wb") as f:
        f.write(b"\0")
    return logdir


@dsl.pipeline
def tensorboard_logs():
    writes_tensorboard_logs()


def test_a_steps_tensorboard_logdir_is_collected_as_an_artifact(run_pipeline: Runner) -> None:
    result = run_pipeline(tensorboard_logs)

    logdir = result.step("writes-tensorboard-logs").outputs["Output"]
    assert Path(logdir).is_relative_to(result.workdir / "artifacts" / "writes-tensorboard-logs")
    collected = [a for a in result.listener.artifacts if a.name == "tensorboard"]
    assert [(a.step, a.uri, a.metadata) for a in collected] == [
        ("writes-tensorboard-logs", logdir, {"kind": "tensorboard-logdir"})
    ]


@component
def count_items(items: list) -> int:
    return len(items)


@dsl.pipeline
def big_parameter(items: list):
    count_items(items=items)


@pytest.mark.parametrize("fork", [True, False], ids=["forked", "subprocess"])
def test_a_large_parameter_value_reaches_the_step(run_pipeline: Runner, fork: bool) -> None:
    items = [f"item-{i:07d}" for i in range(200_000)]  # ~3 MB of JSON: more than one argv entry may hold

    result = run_pipeline(big_parameter, {"items": items}, fork=fork)

    assert result.state == RunState.SUCCEEDED, result.error
    assert result.step("count-items").outputs == {"Output": 200_000}
