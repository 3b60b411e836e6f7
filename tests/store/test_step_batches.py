"""Step reports written as one batch (store/step_batches.py, issue 15: a run resolved from the cache
wrote three statements per report) leave exactly the rows and events that `record_step` leaves when
called report by report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jupyter_mlops.models import StepInfo, StepState
from jupyter_mlops.store import RunStore
from jupyter_mlops.store.step_batches import record_steps


def _reports() -> list[StepInfo]:
    def step(name: str, state: StepState, **kw: Any) -> StepInfo:
        return StepInfo(name=name, state=state, component=name.split(".")[-1], **kw)

    return [
        step("a", StepState.PENDING),  # as planned: no change, no event
        step("a", StepState.CACHED, started_at=1.0, finished_at=1.5, inputs={"x": 1}, cache_key="k-a"),
        step("loop", StepState.RUNNING, started_at=2.0),
        step("loop[0].b", StepState.PENDING),  # not planned: appended after the planned steps
        step("loop[1].b", StepState.PENDING),
        step("loop[0].b", StepState.CACHED, attempts=0, outputs={"z": [1, 2]}, cache_key="k-b0"),
        step("loop[1].b", StepState.FAILED, attempts=2, error="boom"),
        step("loop[1].b", StepState.FAILED, attempts=3, error="boom again"),  # attempts changed: event
        step("loop", StepState.SUCCEEDED, started_at=2.0, finished_at=3.0),
        step("c", StepState.SKIPPED),
        step("c", StepState.SKIPPED),  # the same state again: no second event
    ]


def _contents(store: RunStore, run_id: str) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    steps = [
        tuple(r)
        for r in store._db.execute(
            "SELECT name, position, state, component, started_at, finished_at, attempts, error, inputs, "
            "outputs, cache_key FROM steps WHERE run_id = ? ORDER BY position",
            (run_id,),
        )
    ]
    events = [
        tuple(r)
        for r in store._db.execute(
            "SELECT seq, kind, state, step, detail FROM events WHERE run_id = ? ORDER BY seq", (run_id,)
        )
    ]
    return steps, events


def _store(path: Path) -> RunStore:
    store = RunStore(path)
    store.create_run(run_id="r1", name="r", experiment=None, pipeline_name="p", parameters={},
                     steps=("a", "loop", "c"), edges=[("a", "loop")])  # fmt: skip
    store.mark_running("r1", pid=1, host="h")
    return store


def test_a_batch_of_step_reports_leaves_what_recording_them_one_by_one_leaves(tmp_path: Path) -> None:
    one_by_one, batched = _store(tmp_path / "one"), _store(tmp_path / "batch")
    for report in _reports():
        one_by_one.record_step("r1", report)

    record_steps(batched, "r1", _reports())

    expected = _contents(one_by_one, "r1")
    assert _contents(batched, "r1") == expected
    assert [e[3] for e in expected[1] if e[1] == "step"] == [
        "a", "loop", "loop[0].b", "loop[1].b", "loop[0].b", "loop[1].b", "loop[1].b", "loop", "c",
    ]  # fmt: skip


def test_a_batch_is_one_transaction(tmp_path: Path) -> None:
    store = _store(tmp_path)
    commits: list[str] = []
    store._db.set_trace_callback(lambda s: commits.append(s) if s.strip().upper() == "COMMIT" else None)

    record_steps(store, "r1", _reports())

    assert len(commits) == 1
