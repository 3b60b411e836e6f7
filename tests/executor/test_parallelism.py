"""Independent steps overlap in time: steps that compute, never more than max_workers at once; steps
that wait (sleep, I/O, a child process) give their core up, so more of them overlap (issue 15)."""

import functools
from pathlib import Path

import pytest
from kfp import dsl

from jupyter_mlops.models import RunState

from .conftest import Runner

component = functools.partial(dsl.component, base_image="python:3.11")
linux_only = pytest.mark.skipif(
    not Path("/proc/self/stat").exists(), reason="steps are watched through /proc"
)


@component
def nap(i: int) -> int:
    import time

    time.sleep(0.5)
    return i


@component
def wait_for_child(i: int) -> int:
    import subprocess

    subprocess.run(["sleep", "0.5"], check=True)
    return i


@component
def spin(i: int) -> int:
    import time

    end = time.process_time() + 0.3  # 0.3 s of CPU, however busy the machine is
    while time.process_time() < end:
        pass
    return i


@component
def join(values: list) -> int:
    return len(values)


@dsl.pipeline
def fan_out():
    for i in range(8):
        nap(i=i)


@dsl.pipeline
def fan_out_then_join() -> int:
    with dsl.ParallelFor([0, 1, 2, 3, 4, 5, 6, 7]) as i:
        napped = nap(i=i)
    return join(values=dsl.Collected(napped.output)).output


@dsl.pipeline
def children():
    for i in range(4):
        wait_for_child(i=i)


@dsl.pipeline
def spinning():
    for i in range(4):
        spin(i=i)


def _intervals(result, suffix: str = "") -> list:
    return sorted(
        (s.started_at, s.finished_at) for n, s in result.listener.steps.items() if n.endswith(suffix)
    )


def _max_overlap(intervals: list) -> int:
    return max(sum(1 for s, f in intervals if s <= start < f) for start, _ in intervals)


@linux_only
def test_sleeping_steps_do_not_hold_a_core(run_pipeline: Runner) -> None:
    result = run_pipeline(fan_out, max_workers=2, cache=False)

    assert result.state == RunState.SUCCEEDED, result.error
    intervals = _intervals(result)
    assert len(intervals) == 8
    assert _max_overlap(intervals) > 2


@linux_only
def test_a_step_waiting_for_a_process_it_started_does_not_hold_a_core(run_pipeline: Runner) -> None:
    result = run_pipeline(children, max_workers=1, cache=False)

    assert result.state == RunState.SUCCEEDED, result.error
    assert _max_overlap(_intervals(result)) > 1


def test_computing_steps_stay_at_max_workers(run_pipeline: Runner) -> None:
    result = run_pipeline(spinning, max_workers=1, cache=False)

    assert result.state == RunState.SUCCEEDED, result.error
    assert _max_overlap(_intervals(result)) == 1


@linux_only
def test_waiting_steps_never_exceed_max_running_and_a_join_gets_them_all(run_pipeline: Runner) -> None:
    result = run_pipeline(fan_out_then_join, max_workers=1, max_running=3, cache=False)

    assert result.state == RunState.SUCCEEDED, result.error
    assert result.outputs("join") == {"Output": 8}
    naps = _intervals(result, ".nap")
    assert len(naps) == 8
    overlap = _max_overlap(naps)
    assert 1 < overlap <= 3


def test_with_max_running_at_max_workers_steps_run_one_after_another(run_pipeline: Runner) -> None:
    """The behaviour before issue 15, still available: every running step holds a core."""
    result = run_pipeline(fan_out, max_workers=1, max_running=1, cache=False)

    assert _max_overlap(_intervals(result)) == 1
