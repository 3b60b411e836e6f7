"""Reading a run's step rows (store/records.py, issue 15): a 1,000-step run is read whole when it is
submitted and again when `wait()` returns; each row's empty inputs and outputs were decoded as JSON
and its state looked up through the enum's constructor (~25 µs a row). What is read stays the same."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jupyter_mlops.models import StepInfo, StepState
from jupyter_mlops.store import RunStore, new_run_id


def test_a_run_of_empty_steps_is_read_without_decoding_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = RunStore(tmp_path)
    run_id = new_run_id()
    names = [f"s{i}" for i in range(50)]
    store.create_run(run_id=run_id, name="r", experiment=None, pipeline_name="p", parameters={"x": 1},
                     steps=names, edges=[])  # fmt: skip
    store.record_step(
        run_id, StepInfo(name="s3", state=StepState.SUCCEEDED, inputs={"a": [1]}, outputs={"b": 2})
    )
    decoded = 0
    real = json.loads

    def counted(text: str | bytes, *args: object, **kwargs: object) -> object:
        nonlocal decoded
        decoded += 1
        return real(text, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(json, "loads", counted)
    run = store.get_run(run_id)
    assert [s.name for s in run.steps] == names
    assert run.steps[3].state is StepState.SUCCEEDED and run.steps[3].inputs == {"a": [1]}
    assert run.steps[3].outputs == {"b": 2}
    assert all(
        s.state is StepState.PENDING and s.inputs == {} == s.outputs
        for i, s in enumerate(run.steps)
        if i != 3
    )
    run.steps[0].inputs["changed"] = 1  # each row its own dict
    assert run.steps[1].inputs == {}
    assert decoded <= 4, decoded  # the run's parameters and metrics, s3's inputs and outputs
