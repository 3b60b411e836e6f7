"""What a runner writes to the store grows with the steps it runs, not with one write per step more
(issue 15: a 1,000-step pipeline). The steps a DAG lists are reported PENDING as it opens, all at
once: that was one store transaction per step (1,000 before the first step could start), now one.

The runner's own listener (local_runner.StoreListener) on a real store, the real scheduler, and a
chain of sub-DAGs with nothing inside (no process runs); write transactions are counted, not timed.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from jupyter_mlops.backends.local_runner import StoreListener
from jupyter_mlops.executor.engine import ExecutionOptions, execute, plan
from jupyter_mlops.models import RunState, StepState
from jupyter_mlops.store import RunStore


def _empty_dag_chain(count: int) -> list[dict[str, Any]]:
    tasks: dict[str, Any] = {}
    for i in range(count):
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


def _run_counting_writes(tmp_path: Path, count: int) -> tuple[RunState, int, RunStore, str]:
    spec = _empty_dag_chain(count)
    store = RunStore(tmp_path / "home")
    steps, edges = plan(spec)
    store.create_run(run_id="r1", name="chain", experiment=None, pipeline_name="chain", parameters={},
                     steps=steps, edges=edges)  # fmt: skip
    writes = 0

    def trace(statement: str) -> None:
        nonlocal writes
        if statement.startswith("BEGIN IMMEDIATE"):
            writes += 1

    store._db.set_trace_callback(trace)
    listener = StoreListener(store, "r1", store.run_dir("r1"), threading.Event())
    options = ExecutionOptions(workdir=store.run_dir("r1"), cache_dir=None, fork=False)
    state, error = execute(spec, {}, options, listener, threading.Event())
    store._db.set_trace_callback(None)
    assert state is RunState.SUCCEEDED, error
    return state, writes, store, "r1"


def test_the_steps_of_a_dag_are_reported_pending_in_one_write(tmp_path: Path) -> None:
    count = 150
    _, writes, store, run_id = _run_counting_writes(tmp_path, count)
    # each (empty) group: RUNNING, then SUCCEEDED; the DAG's steps PENDING: once for all of them
    assert writes <= 2 * count + 3, writes
    run = store.get_run(run_id)
    assert [s.name for s in run.steps] == [f"t{i}" for i in range(count)]
    assert {s.state for s in run.steps} == {StepState.SUCCEEDED}
    assert {s.component for s in run.steps} == {"empty"}  # what the PENDING reports set
    states = [(e.step, e.state) for e in store.events(run_id) if e.kind == "step"]
    assert states[:2] == [("t0", "RUNNING"), ("t0", "SUCCEEDED")]  # no event for PENDING again
    assert len(states) == 2 * count
