"""The scheduler's work grows linearly with the steps (issue 15: 400+ steps).

A 400-task chain of sub-DAGs with nothing inside (each ends the moment it opens, so no process runs),
listed in the IR in the reverse of their order: the scheduler tried every waiting task after each
change (160,000 attempts for 400 tasks in that order); it tries each task once it is ready now.
The attempts are counted on the real scheduler, not timed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from jupyter_mlops.executor import scheduler
from jupyter_mlops.models import RunState, StepState

from .conftest import Runner


def _empty_dag_chain(count: int) -> list[dict[str, Any]]:
    tasks = {}
    for i in reversed(range(count)):
        task: dict[str, Any] = {"componentRef": {"name": "comp-empty"}, "taskInfo": {"name": f"t{i}"}}
        if i:
            task["dependentTasks"] = [f"t{i - 1}"]
        tasks[f"t{i}"] = task
    return [
        {
            "pipelineInfo": {"name": "chain"},
            "schemaVersion": "2.1.0",
            "sdkVersion": "kfp-2.17.3",
            "components": {"comp-empty": {"dag": {"tasks": {}}}},
            "root": {"dag": {"tasks": tasks}},
        }
    ]


@pytest.mark.parametrize("count", [400, 1000])
def test_each_task_is_tried_a_bounded_number_of_times(
    run_pipeline: Runner, monkeypatch: pytest.MonkeyPatch, count: int
) -> None:
    attempts = 0
    try_start = scheduler.Scheduler._try_start

    def counted(self: scheduler.Scheduler, node: Any) -> bool:
        nonlocal attempts
        attempts += 1
        return try_start(self, node)

    monkeypatch.setattr(scheduler.Scheduler, "_try_start", counted)
    result = run_pipeline(_empty_dag_chain(count))
    assert result.state == RunState.SUCCEEDED, result.error
    assert set(result.listener.states().values()) == {StepState.SUCCEEDED}
    assert len(result.listener.states()) == count
    assert attempts <= 2 * count, attempts


def test_a_stuck_task_still_fails_naming_what_it_waits_on(run_pipeline: Runner, tmp_path: Path) -> None:
    """Two tasks waiting on each other: nothing can start, so both fail (as before the change)."""
    spec = _empty_dag_chain(3)
    tasks = spec[0]["root"]["dag"]["tasks"]
    tasks["t0"]["dependentTasks"] = ["t1"]
    result = run_pipeline(spec)
    assert result.state == RunState.FAILED
    assert "a dependency cycle?" in (result.error or "")
