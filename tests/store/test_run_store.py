"""The run store as the local backend and the readers use it: runs, steps, metrics, events, paging."""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path

import pytest

from jupyter_mlops.errors import RunNotFound, StoreError, UsageError
from jupyter_mlops.models import ArtifactInfo, MetricPoint, RunState, StepInfo, StepState
from jupyter_mlops.store import RunStore, new_run_id


@pytest.fixture
def store(tmp_path: Path) -> RunStore:
    return RunStore(tmp_path / "home")


def make_run(store: RunStore, experiment: str | None = None, steps: tuple[str, ...] = ("a", "b")) -> str:
    run_id = new_run_id()
    store.create_run(
        run_id=run_id,
        name=f"run-{run_id}",
        experiment=experiment,
        pipeline_name="demo",
        parameters={"lr": 0.1},
        steps=steps,
        edges=[("a", "b")] if steps == ("a", "b") else [],
    )
    return run_id


def test_a_new_run_is_pending_with_its_planned_steps_and_edges(store: RunStore) -> None:
    run_id = make_run(store)
    run = store.get_run(run_id)
    assert run.state is RunState.PENDING
    assert run.experiment == "Default"
    assert run.parameters == {"lr": 0.1}
    assert [(s.name, s.state) for s in run.steps] == [("a", StepState.PENDING), ("b", StepState.PENDING)]
    assert run.edges == [("a", "b")]
    assert (store.home / "store.db").exists()
    assert store._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_runner_reports_become_steps_metrics_artifacts_and_ordered_events(store: RunStore) -> None:
    run_id = make_run(store)
    store.metric_event_every = 3600  # so exactly one "metric" event, however slow this machine is
    assert store.mark_running(run_id, pid=123, host="h") is RunState.RUNNING
    store.record_step(
        run_id, StepInfo("a", StepState.RUNNING, component="comp-a", started_at=1.0, attempts=1)
    )
    store.record_metric(MetricPoint(run_id, "a", "loss", 0.5, index=0, time=2.0))
    store.record_metric(MetricPoint(run_id, "a", "loss", 0.25, index=1, time=3.0))
    store.record_metric(MetricPoint(run_id, "a", "nan", math.nan, time=3.0))
    store.record_artifact(ArtifactInfo(run_id, "a", "model", "/tmp/x", "system.Model", {"k": 1}))
    done = StepInfo("a", StepState.SUCCEEDED, "comp-a", 1.0, 4.0, attempts=1, outputs={"Output": 3})
    store.record_step(run_id, done)
    store.record_step(run_id, StepInfo("loop[0].inner", StepState.RUNNING, attempts=1))  # found at run time
    run = store.get_run(run_id)
    assert run.state is RunState.RUNNING
    assert run.step("a").outputs == {"Output": 3}
    assert run.step("a").metrics["loss"] == 0.25
    assert math.isnan(run.step("a").metrics["nan"])
    assert run.metrics["a.loss"] == 0.25
    assert [s.name for s in run.steps] == ["a", "b", "loop[0].inner"]
    assert [p.value for p in store.metric_history(run_id, "loss")] == [0.5, 0.25]
    assert store.artifacts(run_id, "a")[0].metadata == {"k": 1}
    assert store.artifacts(run_id, "b") == []
    events = store.events(run_id)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert [(e.kind, e.state, e.step) for e in events] == [
        ("run", "PENDING", None),
        ("run", "RUNNING", None),
        ("step", "RUNNING", "a"),
        ("metric", "RUNNING", "a"),  # one for the three points (throttled)
        ("step", "SUCCEEDED", "a"),
        ("step", "RUNNING", "loop[0].inner"),
    ]
    assert events[3].detail == {"name": "loss", "value": 0.5, "index": 0}
    assert [e.seq for e in store.events(run_id, after=4)] == [5, 6]


def test_finishing_closes_unfinished_steps_once(store: RunStore) -> None:
    run_id = make_run(store, steps=("a", "b", "c"))
    store.mark_running(run_id, 1, "h")
    store.record_step(run_id, StepInfo("a", StepState.SUCCEEDED, outputs={"x": 1}))
    store.record_step(run_id, StepInfo("b", StepState.RUNNING))
    assert store.finish_run(run_id, RunState.FAILED, "runner died")
    assert not store.finish_run(run_id, RunState.SUCCEEDED)  # the first final state stands
    run = store.get_run(run_id)
    assert run.state is RunState.FAILED and run.error == "runner died"
    assert run.step("a").state is StepState.SUCCEEDED and run.step("a").outputs == {"x": 1}
    assert run.step("b").state is StepState.FAILED and run.step("b").error == "runner died"
    assert run.step("c").state is StepState.SKIPPED
    assert run.finished_at is not None


def test_cancel_request_only_applies_to_unfinished_runs(store: RunStore) -> None:
    pending = make_run(store)
    assert store.request_cancel(pending) is RunState.CANCELING
    assert store.mark_running(pending, 1, "h") is RunState.CANCELING  # a late runner sees the request
    finished = make_run(store)
    store.finish_run(finished, RunState.SUCCEEDED)
    assert store.request_cancel(finished) is RunState.SUCCEEDED


def test_list_pages_newest_first_with_filters(store: RunStore) -> None:
    ids = [make_run(store, experiment="exp-a" if i % 2 else "exp-b") for i in range(7)]
    store.finish_run(ids[0], RunState.SUCCEEDED)
    page = store.list_runs(limit=3)
    assert [r.id for r in page.runs] == ids[::-1][:3]
    assert page.total == 7 and page.next_offset == 3
    last = store.list_runs(limit=3, offset=6)
    assert [r.id for r in last.runs] == [ids[0]] and last.next_offset is None
    exp_a = store.list_runs(experiment="exp-a")
    assert [r.id for r in exp_a.runs] == [ids[5], ids[3], ids[1]] and exp_a.total == 3
    assert [r.id for r in store.list_runs(state=RunState.SUCCEEDED).runs] == [ids[0]]
    assert store.list_runs(experiment="nope").total == 0
    assert {e.name: e.run_count for e in store.experiments()} == {"exp-b": 4, "exp-a": 3}


def test_unknown_runs_are_named_in_the_error(store: RunStore) -> None:
    for call in (store.get_run, store.events, store.artifacts, store.request_cancel):
        with pytest.raises(RunNotFound, match="no run 'missing' in the run store"):
            call("missing")


def test_a_home_that_cannot_be_written_is_a_clear_error(tmp_path: Path) -> None:
    # Root ignores permission bits, so use a path below a regular file: that fails for everyone.
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(
        StoreError, match=r"cannot write the jupyter-mlops home .*a-file/home.*set JUPYTER_MLOPS_HOME"
    ):
        RunStore(blocker / "home")
    with pytest.raises(StoreError, match=r"cannot write the artifact root .*a-file/artifacts"):
        RunStore(tmp_path / "home", artifact_root=blocker / "artifacts")


def test_a_corrupt_database_is_a_clear_error(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "store.db").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match=r"cannot open the run store .*store.db.*move it aside"):
        RunStore(home)


def test_a_store_from_a_newer_release_is_refused(tmp_path: Path) -> None:
    RunStore(tmp_path).close()
    with sqlite3.connect(tmp_path / "store.db") as db:
        db.execute("UPDATE schema_version SET version = 99")
    with pytest.raises(StoreError, match="schema version 99, newer than this jupyter-mlops"):
        RunStore(tmp_path)


def test_a_unique_prefix_of_four_or_more_characters_names_a_run(store: RunStore) -> None:
    for run_id in ("abcd1111", "abcd2222", "ffff0000"):
        store.create_run(run_id=run_id, name=run_id, experiment=None, pipeline_name="p", parameters={})
    assert store.resolve_run_id("abcd1111") == "abcd1111"
    assert store.resolve_run_id("abcd1") == "abcd1111"
    assert store.resolve_run_id("ffff") == "ffff0000"
    with pytest.raises(UsageError, match="run id 'abcd' is ambiguous: it starts abcd1111, abcd2222"):
        store.resolve_run_id("abcd")
    with pytest.raises(RunNotFound, match="no run 'fff'"):  # too short to be taken as a prefix
        store.resolve_run_id("fff")
    with pytest.raises(RunNotFound, match="no run 'abcd3'"):
        store.resolve_run_id("abcd3")
