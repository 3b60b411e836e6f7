"""The only step that can run runs on the scheduler's own thread (issue 15, per step and the trivial
run): while it runs nothing else can become ready, so handing it to a pool thread and its outcome back
cost each step of a chain two thread wake-ups (and the run's first step a thread start). Steps that can
run side by side still get threads of their own."""

import functools
import threading
from pathlib import Path

from kfp import dsl

from jupyter_mlops.models import RunState, StepInfo, StepState

from .conftest import RecordingListener, Runner

component = functools.partial(dsl.component, base_image="python:3.11")


@component
def inc(x: int) -> int:
    return x + 1


@component
def nap(x: int) -> int:
    import time

    time.sleep(0.3)
    return x


@dsl.pipeline
def chain(x: int = 0) -> int:
    return inc(x=inc(x=inc(x=x).output).output).output


@component
def add(a: int, b: int) -> int:
    return a + b


@dsl.pipeline
def fan(x: int = 0) -> int:
    return add(a=nap(x=x).output, b=nap(x=x).output).output


class ThreadOfEachStart(RecordingListener):
    """Which thread reported each step RUNNING (the thread that runs the step)."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.threads: dict[str, str] = {}

    def on_step(self, step: StepInfo) -> None:
        if step.state is StepState.RUNNING:
            self.threads[step.name] = threading.current_thread().name
        super().on_step(step)


def test_each_step_of_a_chain_runs_on_the_schedulers_thread(run_pipeline: Runner, tmp_path: Path) -> None:
    listener = ThreadOfEachStart(tmp_path / "run")
    result = run_pipeline(chain, name="run", listener=listener, cache=False)
    assert result.state is RunState.SUCCEEDED, result.error
    assert result.outputs("inc-3")["Output"] == 3
    here = threading.current_thread().name  # execute() is called on this thread
    assert listener.threads == {"inc": here, "inc-2": here, "inc-3": here}


def test_steps_ready_together_run_on_threads_of_their_own(run_pipeline: Runner, tmp_path: Path) -> None:
    listener = ThreadOfEachStart(tmp_path / "run")
    result = run_pipeline(fan, name="run", listener=listener, cache=False)
    assert result.state is RunState.SUCCEEDED, result.error
    assert result.outputs("add")["Output"] == 0
    here = threading.current_thread().name
    assert listener.threads["nap"] != here and listener.threads["nap-2"] != here
    assert listener.threads["nap"] != listener.threads["nap-2"]


def test_a_cancel_stops_a_chain_run_on_the_schedulers_thread(run_pipeline: Runner, tmp_path: Path) -> None:
    @dsl.pipeline
    def naps(x: int = 0) -> int:
        return nap(x=nap(x=nap(x=x).output).output).output

    cancel = threading.Event()

    class CancelOnceRunning(RecordingListener):
        def on_step(self, step: StepInfo) -> None:
            super().on_step(step)
            if step.name == "nap" and step.state is StepState.RUNNING:
                threading.Timer(0.1, cancel.set).start()

    listener = CancelOnceRunning(tmp_path / "run")
    result = run_pipeline(naps, name="run", cancel=cancel, listener=listener, cache=False)
    assert result.state is RunState.CANCELED
    states = result.listener.states()
    assert states["nap"] is StepState.CANCELED
    assert states["nap-2"] is StepState.SKIPPED and states["nap-3"] is StepState.SKIPPED
