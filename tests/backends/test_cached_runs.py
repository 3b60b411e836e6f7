"""A run found whole in the step cache is finished by `submit` itself, with no runner process, and is
recorded exactly as a runner records a cached run; a run with any step to compute still goes to a
runner (backends/cached_runs.py)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlops.backends.local import LocalBackend
from jupyter_mlops.models import RunState, StepState

from .contract import explain, finished


def _record(backend: LocalBackend, run_id: str) -> dict[str, Any]:
    """What a user sees of a run, with its id and times taken out (they differ between two runs)."""

    def strip(value: Any) -> Any:
        return value.replace(run_id, "<run>") if isinstance(value, str) else value

    def paths(values: dict[str, Any]) -> dict[str, Any]:
        return {k: strip(v) for k, v in values.items()}

    run = backend.get(run_id)
    return {
        "run": (run.state, run.error, run.parameters, run.pipeline_name, run.experiment, dict(run.metrics)),
        "steps": [
            (
                s.name,
                s.state,
                s.component,
                s.attempts,
                s.error,
                s.cache_key,
                dict(s.metrics),
                paths(s.inputs),
                paths(s.outputs),
            )
            for s in run.steps
        ],
        "edges": run.edges,
        "artifacts": [(a.step, a.name, a.type, a.metadata, strip(a.uri)) for a in backend.artifacts(run_id)],
        "events": [
            (e.kind, e.state, e.step, {k: v for k, v in e.detail.items() if k not in ("pid", "name")})
            for e in backend.events(run_id)
        ],
        "logs": {s.name: backend.logs(run_id, s.name).text for s in run.steps},
    }


def _submit(backend: LocalBackend, spec: str, **arguments: Any) -> str:
    return backend.submit(spec, arguments, working_dir=Path.cwd()).id


def test_a_fully_cached_run_is_recorded_by_submit_exactly_as_a_runner_records_it(
    home: Path, specs: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = LocalBackend(home)
    first = finished(backend, _submit(backend, specs["dataset"]))
    assert first.state is RunState.SUCCEEDED, explain(first)

    with monkeypatch.context() as m:  # as before issue 15: a runner process re-runs it from the cache
        m.setattr(backend, "_resolve_from_cache", lambda *a: False)
        by_runner = _submit(backend, specs["dataset"])
        assert finished(backend, by_runner).state is RunState.SUCCEEDED
    in_process = backend.submit(specs["dataset"], working_dir=Path.cwd())

    assert in_process.state is RunState.SUCCEEDED  # finished when submit returned
    assert {s.state for s in in_process.steps} == {StepState.CACHED}
    assert backend.store.runner_record(in_process.id)["pid"] == os.getpid()  # no runner process
    assert not (backend.run_dir(in_process.id) / "runner.log").exists()
    assert (backend.run_dir(by_runner) / "runner.log").exists()
    assert _record(backend, in_process.id) == _record(backend, by_runner)
    data = backend.artifacts(in_process.id, "write-lines")[0]
    assert Path(data.uri).is_relative_to(backend.run_dir(in_process.id))
    assert Path(data.uri).read_text().count("line") == 5


def test_a_run_with_a_step_to_compute_goes_to_a_runner_and_keeps_no_trace_of_the_attempt(
    home: Path, specs: dict[str, str]
) -> None:
    backend = LocalBackend(home)
    assert finished(backend, _submit(backend, specs["report"], count=4)).state is RunState.SUCCEEDED

    changed = _submit(backend, specs["report"], count=4, scale=2.0)  # `describe` reads scale: it runs
    run = finished(backend, changed)

    assert run.state is RunState.SUCCEEDED, explain(run)
    states = {s.name: s.state for s in run.steps}
    assert StepState.CACHED in states.values() and StepState.SUCCEEDED in states.values(), states
    assert backend.store.runner_record(changed)["pid"] != os.getpid()
    for step, state in states.items():  # one log line per cached step: the attempt's were removed
        if state is StepState.CACHED:
            assert backend.logs(changed, step).text.count("[jupyter-mlops] cached:") == 1
    events = [(e.kind, e.state) for e in backend.events(changed)]
    assert events.count(("run", "PENDING")) == 1 and events.count(("run", "SUCCEEDED")) == 1


def test_a_run_without_the_cache_always_goes_to_a_runner(home: Path, specs: dict[str, str]) -> None:
    backend = LocalBackend(home)
    finished(backend, _submit(backend, specs["arith"]))

    run = backend.submit(specs["arith"], cache=False, working_dir=Path.cwd())

    assert not run.state.terminal or backend.store.runner_record(run.id)["pid"] != os.getpid()
    done = finished(backend, run.id)
    assert {s.state for s in done.steps} == {StepState.SUCCEEDED}
    assert backend.store.runner_record(run.id)["pid"] != os.getpid()


def test_a_run_resolved_from_the_cache_writes_no_step_logs_and_every_reader_shows_the_cached_line(
    home: Path, specs: dict[str, str]
) -> None:
    """Issue 15: a fully cached run creates no log file per step (they cost most of its time); its
    steps' log is the cached line, made from each step's record, the same through every reader."""
    import io
    import shutil

    from jupyter_mlops.run_follow import print_logs
    from jupyter_mlops.run_handle import Run

    backend = LocalBackend(home)
    assert finished(backend, _submit(backend, specs["dataset"])).state is RunState.SUCCEEDED
    run = backend.submit(specs["dataset"], working_dir=Path.cwd())
    assert backend.store.runner_record(run.id)["pid"] == os.getpid()  # resolved in this process

    assert sorted(os.listdir(backend.run_dir(run.id))) == ["artifacts", "pipeline.yaml"]  # no logs folder
    handle = Run(backend, run.id)
    for step in run.steps:
        line = f"[jupyter-mlops] cached: outputs reused from an earlier run (key {step.cache_key})\n"
        chunk = backend.logs(run.id, step.name)
        assert (chunk.text, chunk.next_offset, chunk.complete) == (line, len(line), True)
        assert not chunk.missing
        rest = backend.logs(run.id, step.name, 15)  # read on from an offset, as a follower does
        assert (rest.text, rest.next_offset, rest.complete) == (line[15:], len(line), True)
        assert backend.logs(run.id, step.name, len(line)).text == ""
        assert str(handle.logs(step.name)) == line
        out = io.StringIO()
        print_logs(backend, run.id, step.name, follow=True, out=out)
        assert out.getvalue() == line

    shutil.rmtree(backend.run_dir(run.id))  # the run's folder removed: its logs are gone with it
    chunk = backend.logs(run.id, run.steps[0].name)
    assert chunk.missing and "is gone" in chunk.text
