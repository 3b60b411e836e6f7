"""The contract every backend must pass: the same assertions against every registered backend.

Subclass `BackendContract` in a test module and provide a `backend` fixture returning a fresh backend
(and the `specs` fixture from conftest.py gives the compiled test pipelines). test_local_contract.py
runs it against each backend found through the `jupyter_mlops.backends` entry points.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from waiting import wait_until

from jupyter_mlops.backends.base import Backend
from jupyter_mlops.errors import ArtifactNotFound, NotFound, RunNotFound, StepNotFound, UsageError
from jupyter_mlops.models import BackendStatus, Capabilities, RunInfo, RunState, StepState

Specs = dict[str, str]

FINISH_TIMEOUT = 180.0


def succeeded(backend: Backend, run_id: str, timeout: float = FINISH_TIMEOUT) -> RunInfo:
    run = finished(backend, run_id, timeout)
    assert run.state is RunState.SUCCEEDED, explain(run)
    return run


def finished(backend: Backend, run_id: str, timeout: float = FINISH_TIMEOUT) -> RunInfo:
    def done() -> RunInfo | None:
        run = backend.get(run_id)
        return run if run.state.terminal else None

    result: RunInfo = wait_until(done, timeout, f"run {run_id} to finish")
    return result


def explain(run: RunInfo) -> str:
    """What went wrong, for an assertion message: the run's error and every step's state and error."""
    steps = "; ".join(f"{s.name}={s.state.value}" + (f" ({s.error})" if s.error else "") for s in run.steps)
    text = f"run {run.id} {run.state.value}: {run.error}; steps: {steps}"
    if run.error and "its output: " in run.error:  # the local backend names its runner's log
        log = Path(run.error.split("its output: ")[-1].strip())
        text += f"\n--- {log}:\n" + (log.read_text() if log.is_file() else "(missing)")
    return text


class BackendContract:
    def test_submit_returns_at_once_with_the_planned_dag(self, backend: Backend, specs: Specs) -> None:
        run = backend.submit(specs["arith"], {"a": 5})
        assert run.state in (RunState.PENDING, RunState.RUNNING)
        assert [s.name for s in run.steps] == ["add", "add-2"]
        assert run.edges == [("add", "add-2")]
        assert run.parameters["a"] == 5 and run.parameters["b"] == 2  # defaults filled in
        assert run.pipeline_name == "arith"
        assert isinstance(backend, Backend)

    def test_a_run_finishes_with_its_outputs(self, backend: Backend, specs: Specs) -> None:
        run = succeeded(backend, backend.submit(specs["arith"], {"a": 5, "b": 7}).id)
        assert {s.name: s.state for s in run.steps} == {
            "add": StepState.SUCCEEDED,
            "add-2": StepState.SUCCEEDED,
        }
        assert run.step("add").outputs["Output"] == 12
        assert run.step("add-2").outputs["Output"] == 22
        assert run.started_at is not None and run.finished_at is not None and run.error is None

    def test_bad_arguments_are_named_before_anything_runs(self, backend: Backend, specs: Specs) -> None:
        before = backend.list_runs(limit=1000).total
        with pytest.raises(UsageError, match="lr"):
            backend.submit(specs["arith"], {"lr": 0.1})
        with pytest.raises(UsageError, match=r"missing 1 required argument.*\bn\b"):
            backend.submit(specs["needs_n"], {})
        assert backend.list_runs(limit=1000).total == before  # nothing was recorded

    def test_unknown_runs_raise_run_not_found_naming_the_run(self, backend: Backend) -> None:
        for call in (backend.get, backend.cancel, backend.events, backend.artifacts):
            with pytest.raises(RunNotFound, match="no-such-run"):
                call("no-such-run")
        with pytest.raises(RunNotFound, match="no-such-run"):
            backend.logs("no-such-run", "add")

    def test_list_pages_newest_first_and_filters(self, backend: Backend, specs: Specs) -> None:
        experiment = f"paging-{uuid.uuid4().hex[:8]}"
        ids = [
            backend.submit(specs["arith"], {"a": i}, experiment=experiment, name=f"r{i}").id for i in range(3)
        ]
        page = backend.list_runs(experiment=experiment, limit=2)
        assert [r.id for r in page.runs] == [ids[2], ids[1]]
        assert page.total == 3 and page.next_offset == 2
        rest = backend.list_runs(experiment=experiment, limit=2, offset=2)
        assert [r.id for r in rest.runs] == [ids[0]] and rest.next_offset is None
        assert [r.name for r in rest.runs] == ["r0"]
        assert all(r.experiment == experiment for r in page.runs + rest.runs)
        for run_id in ids:
            succeeded(backend, run_id)
        done = backend.list_runs(experiment=experiment, state=RunState.SUCCEEDED)
        assert sorted(r.id for r in done.runs) == sorted(ids)
        assert backend.list_runs(experiment=experiment, state=RunState.FAILED).total == 0
        counts = {e.name: e.run_count for e in backend.experiments()}
        assert counts[experiment] == 3

    def test_cancel_stops_running_steps_and_keeps_finished_ones(self, backend: Backend, specs: Specs) -> None:
        run_id = backend.submit(specs["sleepy"], {"seconds": 120}).id
        wait_until(lambda: backend.get(run_id).step("nap").state is StepState.RUNNING, what="nap to run")
        cancelling = backend.cancel(run_id)
        assert cancelling.state in (RunState.CANCELING, RunState.CANCELED)
        run = finished(backend, run_id, timeout=180)
        assert run.state is RunState.CANCELED
        assert run.step("nap").state is StepState.CANCELED
        assert run.step("add").state is StepState.SUCCEEDED and run.step("add").outputs["Output"] == 2
        assert "adding 1 and 1" in backend.logs(run_id, "add").text
        assert backend.cancel(run_id).state is RunState.CANCELED  # cancelling again changes nothing

    def test_a_failed_step_fails_the_run_and_skips_what_follows(self, backend: Backend, specs: Specs) -> None:
        run = finished(backend, backend.submit(specs["failing"]).id)
        assert run.state is RunState.FAILED
        assert run.step("add").state is StepState.SUCCEEDED
        assert run.step("explode").state is StepState.FAILED
        assert "the model diverged" in (run.step("explode").error or "")
        assert run.step("add-2").state is StepState.SKIPPED
        assert "ValueError: the model diverged" in backend.logs(run.id, "explode").text

    def test_logs_read_from_an_offset(self, backend: Backend, specs: Specs) -> None:
        run = succeeded(backend, backend.submit(specs["arith"]).id)
        whole = backend.logs(run.id, "add")
        assert "adding 1 and 2" in whole.text and whole.offset == 0 and whole.complete
        at = whole.text.encode().index(b"adding")
        tail = backend.logs(run.id, "add", at)
        assert tail.text.startswith("adding 1 and 2") and tail.offset == at
        assert tail.next_offset == whole.next_offset
        end = backend.logs(run.id, "add", whole.next_offset)
        assert end.text == "" and end.complete
        with pytest.raises(StepNotFound, match="no step 'nope'"):
            backend.logs(run.id, "nope")

    def test_artifacts_and_metrics_are_recorded(self, backend: Backend, specs: Specs) -> None:
        run = succeeded(backend, backend.submit(specs["dataset"], {"count": 7}).id)
        assert run.step("count-lines").outputs["Output"] == 7
        written = backend.artifacts(run.id, "write-lines")
        assert [(a.name, a.type) for a in written] == [("data", "system.Dataset")]
        assert written[0].metadata.get("lines") == 7 and written[0].uri
        names = {(a.step, a.name) for a in backend.artifacts(run.id)}
        assert {("write-lines", "data"), ("count-lines", "metrics")} <= names
        assert run.metrics["count-lines.lines"] == 7
        assert run.step("count-lines").metrics == {"lines": 7}

    def test_events_are_ordered_and_can_be_resumed(self, backend: Backend, specs: Specs) -> None:
        run = succeeded(backend, backend.submit(specs["arith"]).id)
        events = backend.events(run.id)
        assert [e.seq for e in events] == sorted(e.seq for e in events) and len(
            {e.seq for e in events}
        ) == len(events)
        run_states = [e.state for e in events if e.kind == "run"]
        assert run_states[-1] == "SUCCEEDED" and "RUNNING" in run_states
        assert ("add-2", "SUCCEEDED") in [(e.step, e.state) for e in events if e.kind == "step"]
        assert backend.events(run.id, after=events[-1].seq) == []
        assert backend.events(run.id, after=events[1].seq) == events[2:]

    def test_status_says_what_and_whether_reachable(self, backend: Backend) -> None:
        status = backend.status()
        assert isinstance(status, BackendStatus)
        assert status.reachable is True and status.backend == backend.name
        assert backend.name in str(status)
        assert isinstance(backend.capabilities, Capabilities)

    def test_an_artifact_is_opened_through_the_backend(self, backend: Backend, specs: Specs) -> None:
        if not backend.capabilities.artifact_download:
            pytest.skip(f"the {backend.name} backend declares no artifact download")
        run = succeeded(backend, backend.submit(specs["dataset"], {"count": 3}).id)
        artifact = backend.open_artifact(run.id, "write-lines", "data")
        try:
            assert artifact.stream.read() == b"line 0\nline 1\nline 2\n"
            assert artifact.filename and artifact.size == len(b"line 0\nline 1\nline 2\n")
        finally:
            artifact.close()
        with pytest.raises(ArtifactNotFound, match="no artifact 'nope'"):
            backend.open_artifact(run.id, "write-lines", "nope")
        with pytest.raises(RunNotFound):
            backend.open_artifact("no-such-run", "write-lines", "data")

    def test_what_does_not_exist_is_not_found(self, backend: Backend, specs: Specs) -> None:
        run = succeeded(backend, backend.submit(specs["arith"]).id)
        if backend.capabilities.logs:
            with pytest.raises(StepNotFound, match="no step 'nope'") as caught:
                backend.logs(run.id, "nope")
            assert isinstance(caught.value, NotFound)
        with pytest.raises(NotFound):
            backend.get("no-such-run")

    def test_session_metrics_go_through_the_backend(self, backend: Backend) -> None:
        if not backend.capabilities.session_metrics:
            pytest.skip(f"the {backend.name} backend keeps no notebook-session metrics")
        first = backend.log_session_metric("loss", 0.5, None, 1.0)
        again = backend.log_session_metric("loss", 0.25, 2, 2.0)
        assert first == again  # one session per process
        session = backend.get(first)
        assert session.metrics == {"loss": 0.25}
        assert session.experiment == "Notebook sessions"
