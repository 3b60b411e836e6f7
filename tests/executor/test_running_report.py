"""When a step's RUNNING is reported (issue 15, a 1,000-step pipeline): a step handed to the warm step
worker is reported RUNNING once its request is with the worker, so that it runs while the report is
written (a store transaction each step of a chain waited for before it could start). Every attempt is
still reported RUNNING once, before its end, also when it could not start."""

import functools
import time
from pathlib import Path

from kfp import dsl

from jupyter_mlops.models import RunState, StepInfo, StepState

from .conftest import RecordingListener, Runner

component = functools.partial(dsl.component, base_image="python:3.11")


@component
def mark(path: str) -> str:
    with open(path, "w") as f:
        f.write("started")
    return path


@dsl.pipeline
def marked(path: str) -> str:
    return mark(path=path).output


@component
def fails_once(path: str) -> str:
    import os

    if not os.path.exists(path):
        open(path, "w").close()
        raise SystemExit(3)
    return "second"


@dsl.pipeline
def retried(path: str) -> str:
    return fails_once(path=path).set_retry(num_retries=1, backoff_duration="0s").output


class WaitsForTheStep(RecordingListener):
    """On the step's RUNNING report, waits (up to 20 s) for the file the step writes first, and notes
    whether the step had started: it cannot have if RUNNING is reported before its request is sent."""

    def __init__(self, root: Path, marker: Path) -> None:
        super().__init__(root)
        self.marker = marker
        self.started_while_reported: bool | None = None

    def on_step(self, step: StepInfo) -> None:
        if step.state is StepState.RUNNING and self.started_while_reported is None:
            deadline = time.monotonic() + 20
            while not self.marker.exists() and time.monotonic() < deadline:
                time.sleep(0.01)
            self.started_while_reported = self.marker.exists()
        super().on_step(step)


def test_a_forked_step_runs_while_its_running_report_is_written(run_pipeline: Runner, tmp_path: Path) -> None:
    marker = tmp_path / "started"
    listener = WaitsForTheStep(tmp_path / "run", marker)
    result = run_pipeline(marked, {"path": str(marker)}, name="run", listener=listener)
    assert result.state is RunState.SUCCEEDED, result.error
    assert listener.started_while_reported is True
    assert listener.history == [("mark", StepState.PENDING), ("mark", StepState.RUNNING),
                                ("mark", StepState.SUCCEEDED)]  # fmt: skip


def test_each_attempt_is_reported_running_once_before_its_end(run_pipeline: Runner, tmp_path: Path) -> None:
    result = run_pipeline(retried, {"path": str(tmp_path / "once")})
    assert result.state is RunState.SUCCEEDED, result.error
    states = [state for name, state in result.listener.history if name == "fails-once"]
    assert states == [StepState.PENDING, StepState.RUNNING, StepState.RUNNING, StepState.SUCCEEDED]
    assert result.step("fails-once").attempts == 2
    assert "attempt 2 of 2" in result.listener.log("fails-once")


def test_a_step_that_cannot_start_is_reported_running_then_failed(
    run_pipeline: Runner, tmp_path: Path
) -> None:
    gone = tmp_path / "gone"
    gone.mkdir()
    gone.rmdir()  # the steps' working directory is gone before the step
    result = run_pipeline(marked, {"path": str(tmp_path / "never")}, step_cwd=gone)
    assert result.state is RunState.FAILED
    states = [state for name, state in result.listener.history if name == "mark"]
    assert states == [StepState.PENDING, StepState.RUNNING, StepState.FAILED]
    assert "working directory" in (result.step("mark").error or "")
