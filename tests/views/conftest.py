from __future__ import annotations

import pytest

from jupyter_mlops.models import RunInfo, RunState, StepInfo, StepState


def make_run(
    run_id: str = "r1",
    *,
    state: RunState = RunState.SUCCEEDED,
    name: str = "demo",
    experiment: str = "Default",
    created_at: float = 1_700_000_000.0,
    parameters: dict[str, object] | None = None,
    metrics: dict[str, float] | None = None,
) -> RunInfo:
    t = created_at
    steps = [
        StepInfo("load", StepState.SUCCEEDED, started_at=t, finished_at=t + 1.5),
        StepInfo("train", StepState.SUCCEEDED, started_at=t + 1.5, finished_at=t + 75, metrics={"acc": 0.9}),
        StepInfo("evaluate", StepState.SUCCEEDED, started_at=t + 75, finished_at=t + 80),
    ]
    return RunInfo(
        id=run_id,
        name=name,
        state=state,
        experiment=experiment,
        created_at=t,
        started_at=t,
        finished_at=t + 80 if state.terminal else None,
        parameters=dict(parameters or {}),
        steps=steps,
        edges=[("load", "train"), ("train", "evaluate")],
        metrics=dict(metrics or {}),
    )


@pytest.fixture
def finished_run() -> RunInfo:
    return make_run(metrics={"train.acc": 0.9})
