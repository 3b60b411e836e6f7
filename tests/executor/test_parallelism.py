"""Independent steps overlap in time, never more than max_workers at once."""

import functools

from kfp import dsl

from jupyter_mlops.models import RunState

from .conftest import Runner

component = functools.partial(dsl.component, base_image="python:3.11")


@component
def nap(i: int) -> int:
    import time

    time.sleep(0.5)
    return i


@dsl.pipeline
def fan_out():
    for i in range(8):
        nap(i=i)


def _intervals(result) -> list:
    return sorted((s.started_at, s.finished_at) for s in result.listener.steps.values())


def _max_overlap(intervals: list) -> int:
    return max(sum(1 for s, f in intervals if s <= start < f) for start, _ in intervals)


def test_eight_independent_steps_run_two_at_a_time_with_two_workers(run_pipeline: Runner) -> None:
    result = run_pipeline(fan_out, max_workers=2, cache=False)

    assert result.state == RunState.SUCCEEDED, result.error
    intervals = _intervals(result)
    assert len(intervals) == 8
    assert _max_overlap(intervals) == 2


def test_one_worker_runs_them_one_after_another(run_pipeline: Runner) -> None:
    result = run_pipeline(fan_out, max_workers=1, cache=False)

    assert _max_overlap(_intervals(result)) == 1
