"""A chain's step end and the next step's start reach the listener as one batch (executor/held_ends.py):
one store transaction, one push to the run's watchers, instead of two a step. Every report still
arrives, in the order made; an end with nothing after it is not held back."""

import functools
from pathlib import Path

from kfp import dsl

from jupyter_mlops.models import RunState, StepInfo, StepState

from .conftest import RecordingListener, Runner
from .inc_chain import chain, inc

component = functools.partial(dsl.component, base_image="python:3.11")


class Batches(RecordingListener):
    """Which reports came together (`on_steps`, as the store's listener takes them: one transaction)."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.batches: list[list[tuple[str, StepState]]] = []

    def on_step(self, step: StepInfo) -> None:
        self.batches.append([(step.name, step.state)])
        super().on_step(step)

    def on_steps(self, steps: list[StepInfo]) -> None:
        self.batches.append([(s.name, s.state) for s in steps])
        for step in steps:
            super().on_step(step)


def test_a_chain_steps_end_is_reported_with_the_next_steps_start(
    run_pipeline: Runner, tmp_path: Path
) -> None:
    listener = Batches(tmp_path / "run")
    result = run_pipeline(chain, name="run", listener=listener, cache=False)
    assert result.state is RunState.SUCCEEDED, result.error
    assert result.outputs("inc-3")["Output"] == 3
    ran = StepState.RUNNING, StepState.SUCCEEDED
    after_opening = [b for b in listener.batches if any(state in ran for _, state in b)]
    assert after_opening == [
        [("inc", StepState.RUNNING)],
        [("inc", StepState.SUCCEEDED), ("inc-2", StepState.RUNNING)],
        [("inc-2", StepState.SUCCEEDED), ("inc-3", StepState.RUNNING)],
        [("inc-3", StepState.SUCCEEDED)],  # the last end: written before the run's end
    ]
    assert listener.states() == {
        "inc": StepState.SUCCEEDED,
        "inc-2": StepState.SUCCEEDED,
        "inc-3": StepState.SUCCEEDED,
    }


def test_a_listener_without_batches_gets_every_report_in_order(run_pipeline: Runner, tmp_path: Path) -> None:
    listener = RecordingListener(tmp_path / "run")
    result = run_pipeline(chain, name="run", listener=listener, cache=False)
    assert result.state is RunState.SUCCEEDED, result.error
    ran = [(n, s) for n, s in listener.history if s is not StepState.PENDING]
    assert ran == [
        ("inc", StepState.RUNNING), ("inc", StepState.SUCCEEDED),
        ("inc-2", StepState.RUNNING), ("inc-2", StepState.SUCCEEDED),
        ("inc-3", StepState.RUNNING), ("inc-3", StepState.SUCCEEDED),
    ]  # fmt: skip


@component
def drop_logs(x: int) -> int:
    import os
    import shutil
    from pathlib import Path

    shutil.rmtree(Path(os.environ["JUPYTER_MLOPS_LOGDIR"]).parents[2] / "logs")
    return x + 1


@dsl.pipeline
def logs_dropped(x: int = 0) -> int:
    return inc(x=drop_logs(x=x).output).output


def test_a_logs_folder_removed_during_the_run_is_made_again_for_the_next_step(
    run_pipeline: Runner, tmp_path: Path
) -> None:
    """The runner makes a run's logs folder once (local_runner.py); each step still makes it if gone."""
    result = run_pipeline(logs_dropped, name="run", cache=False)
    assert result.state is RunState.SUCCEEDED, result.error
    assert result.outputs("inc")["Output"] == 2
    assert (tmp_path / "run" / "logs").is_dir()


@component
def drop_step_files(x: int) -> int:
    import os
    import shutil
    from pathlib import Path

    shutil.rmtree(Path(os.environ["JUPYTER_MLOPS_METRICS_FILE"]).parent)
    return x + 1


@dsl.pipeline
def step_files_dropped(x: int = 0) -> int:
    return inc(x=drop_step_files(x=x).output).output


def test_the_step_files_folder_removed_during_the_run_is_made_again_for_the_next_module(
    run_pipeline: Runner,
) -> None:
    """The run's `.steps` folder is made by the first module written, not checked before each one."""
    result = run_pipeline(step_files_dropped, name="run", cache=False)
    assert result.state is RunState.SUCCEEDED, result.error
    assert result.outputs("inc")["Output"] == 2
