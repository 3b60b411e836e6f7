"""Which states are final is known once, in models.py (issue 10): the widget's payload and the REST
answers carry it as `terminal` (a step's `end` in the widget's compact payload), and the front ends
(dag.js, the sidebar's TypeScript) ask it instead of keeping their own lists of states."""

from __future__ import annotations

from pathlib import Path

import pytest

from jupyter_mlops.models import RunInfo, RunState, StepInfo, StepState
from jupyter_mlops.server.run_json import run_detail, run_summary
from jupyter_mlops.widgets.run_widget import run_payload

ROOT = Path(__file__).resolve().parents[2]


def _run(state: RunState) -> RunInfo:
    steps = [StepInfo(name=f"s{i}", state=s, started_at=1.0) for i, s in enumerate(StepState)]
    return RunInfo(id="r", name="r", state=state, created_at=1.0, steps=steps)


@pytest.mark.parametrize("state", list(RunState))
def test_every_payload_says_whether_the_run_and_each_step_are_final(state: RunState) -> None:
    run = _run(state)
    payload = run_payload(run, now=2.0)
    assert payload["terminal"] is state.terminal
    assert {n: s["end"] for n, s in payload["steps"].items()} == {s.name: s.state.terminal for s in run.steps}
    assert run_summary(run)["terminal"] is state.terminal
    detail = run_detail(run, [])
    assert detail["terminal"] is state.terminal
    assert [s["terminal"] for s in detail["steps"]] == [s.state.terminal for s in run.steps]


def test_no_front_end_keeps_its_own_list_of_final_states() -> None:
    sources = [*(ROOT / "jupyter_mlops" / "widgets" / "static").glob("*.js")]
    sources += [*(ROOT / "labextension" / "src").glob("*.ts")]
    for path in sources:
        text = path.read_text(encoding="utf-8")
        assert "TERMINAL" not in text, path
        for number, line in enumerate(text.splitlines(), start=1):  # a list of states on one line
            named = [s.value for s in StepState if s.terminal and f"{s.value}" in line]
            assert len(named) < 2, f"{path}:{number}: {line.strip()}"
