"""A run recorded finished at once (store/finished_runs.py, issue 15: a run resolved from the cache)
leaves the rows and events that recording it call by call leaves: create_run, mark_running, each step
report, each artifact, finish_run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jupyter_mlops.models import ArtifactInfo, RunState, StepInfo, StepState
from jupyter_mlops.store import RunStore
from jupyter_mlops.store.finished_runs import record_succeeded_run

RECORD: dict[str, Any] = {
    "run_id": "r1", "name": "chain-1", "experiment": "exp", "pipeline_name": "chain",
    "parameters": {"x": 1, "p": "/data"}, "steps": ["a", "group", "c"],
    "edges": [("a", "group"), ("group", "c")], "spec_path": Path("/runs/r1/pipeline.json"), "cache": True,
    "working_dir": Path("/notebooks"),
}  # fmt: skip


def _reports() -> list[StepInfo]:
    return [
        StepInfo(name="a", state=StepState.PENDING, component="a"),
        StepInfo(name="group", state=StepState.PENDING, component="group"),
        StepInfo(name="c", state=StepState.PENDING, component="c"),
        StepInfo(
            name="a",
            state=StepState.CACHED,
            component="a",
            started_at=1.0,
            finished_at=1.0,
            inputs={"x": 1},
            outputs={"out": "/runs/r1/artifacts/a/out"},
            cache_key="ka",
        ),
        StepInfo(name="group", state=StepState.RUNNING, component="group", started_at=2.0),
        StepInfo(name="group.b", state=StepState.PENDING, component="b"),  # known at run time only
        StepInfo(name="group.b", state=StepState.CACHED, component="b", outputs={"y": 2}, cache_key="kb"),
        StepInfo(name="group", state=StepState.SUCCEEDED, component="group", started_at=2.0, finished_at=3.0),
        StepInfo(name="c", state=StepState.SKIPPED, component="c"),
    ]


ARTIFACTS = [
    ArtifactInfo("r1", "a", "out", "/runs/r1/artifacts/a/out", "system.Dataset", {"rows": 3}),
    ArtifactInfo("r1", "group.b", "m", "/runs/r1/artifacts/group.b/m", "system.Model", {}),
]


def _contents(store: RunStore) -> dict[str, list[tuple[Any, ...]]]:
    def rows(sql: str) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in store._db.execute(sql)]

    return {
        "runs": rows(
            "SELECT r.id, r.name, e.name, pipeline_name, backend, state, parameters, error, spec_path, "
            "cache, kind, working_dir, metrics_summary, started_at IS NOT NULL, "
            "r.finished_at >= r.started_at, r.started_at >= r.created_at "
            "FROM runs r JOIN experiments e ON e.id = r.experiment_id"
        ),
        "steps": rows("SELECT * FROM steps ORDER BY position"),
        "edges": rows("SELECT * FROM edges ORDER BY rowid"),
        "events": rows("SELECT run_id, seq, kind, state, step, detail FROM events ORDER BY seq"),
        "artifacts": rows("SELECT * FROM artifacts ORDER BY id"),
        "runners": rows("SELECT run_id, pid, host, started, service, heartbeat IS NOT NULL FROM runners"),
    }


def _taken(store: RunStore) -> None:
    """A run already named chain-1: the new one gets chain-1-2 either way."""
    store.create_run(run_id="r0", name="chain-1", experiment="exp", pipeline_name="chain", parameters={})


def test_a_run_recorded_at_once_equals_the_run_recorded_call_by_call(tmp_path: Path) -> None:
    by_calls, at_once = RunStore(tmp_path / "calls"), RunStore(tmp_path / "once")
    _taken(by_calls)
    _taken(at_once)
    by_calls.create_run(**RECORD)
    by_calls.mark_running("r1", 4242, "host-a")
    for report in _reports():
        by_calls.record_step("r1", report)
    for artifact in ARTIFACTS:
        by_calls.record_artifact(artifact)
    by_calls.finish_run("r1", RunState.SUCCEEDED)

    assert record_succeeded_run(at_once, RECORD, 4242, "host-a", _reports(), ARTIFACTS)

    assert _contents(at_once) == _contents(by_calls)
    assert at_once.get_run("r1").name == "chain-1-2"


def test_a_run_with_a_step_left_unfinished_is_not_recorded_at_once(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    reports = [r for r in _reports() if r.name != "c"]  # c stays PENDING: finish_run would skip it

    assert not record_succeeded_run(store, RECORD, 4242, "host-a", reports, ARTIFACTS)
    assert store._db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 0
