"""A run read again after some of its steps changed reads those steps, not all of them (issue 15: a live
view of a 1,000-step run read every row for each burst of changes), and gives what a whole read gives."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from jupyter_mlops.models import MetricPoint, RunState, StepInfo, StepState
from jupyter_mlops.store import RunStore, records
from jupyter_mlops.store.run_refresh import refreshed_run

STEPS = 300


@pytest.fixture
def store(tmp_path: Path) -> RunStore:
    store = RunStore(tmp_path / "home")
    names = [f"s{i}" for i in range(STEPS)]
    store.create_run(run_id="r1", name="r", experiment=None, pipeline_name="p", parameters={"x": 1},
                     steps=names, edges=list(itertools.pairwise(names)))  # fmt: skip
    store.mark_running("r1", 1, "here")
    return store


def _changed_since(store: RunStore, seq: int) -> tuple[set[str], int]:
    events = store.events("r1", after=seq)
    return {e.step for e in events if e.step}, events[-1].seq if events else seq


def test_the_steps_named_by_the_events_are_read_and_the_rest_kept(
    store: RunStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    previous = store.get_run("r1")
    seq = store.events("r1")[-1].seq
    done = StepInfo("s2", StepState.SUCCEEDED, "inc", 1.0, 2.0, attempts=1, outputs={"y": 3})
    store.record_step("r1", done)
    store.record_step("r1", StepInfo("s3", StepState.RUNNING, "inc", 2.0, attempts=1, inputs={"y": 3}))
    store.record_step("r1", StepInfo("loop[0].s", StepState.RUNNING, "s", 2.5, attempts=1))  # at run time
    store.record_metrics(
        [MetricPoint("r1", "s2", "loss", 0.5, index=0), MetricPoint("r1", "s2", "loss", 0.25)]
    )
    store.record_step("r1", StepInfo("s4", StepState.PENDING, "inc"))  # a report with no event
    changed, seq = _changed_since(store, seq)
    assert changed == {"s2", "s3", "loop[0].s"}
    built = 0
    real = records.step_from_row

    def counted(row: object) -> StepInfo:
        nonlocal built
        built += 1
        return real(row)  # type: ignore[arg-type]

    monkeypatch.setattr(records, "step_from_row", counted)
    fresh = refreshed_run(store, previous, changed)
    assert built == len(changed)
    monkeypatch.undo()
    whole = store.get_run("r1")
    assert fresh.step("s4").component == ""  # not announced: as the previous read had it
    fresh.step("s4").component = "inc"
    assert fresh == whole
    assert fresh.step("s2").metrics == {"loss": 0.25}
    assert [s.name for s in fresh.steps][-2:] == ["s299", "loop[0].s"]
    assert fresh.steps[5] is previous.steps[5]  # not read again
    assert previous.step("s2").state is StepState.PENDING  # the previous read is left as it was


def test_the_end_of_a_run_is_read_like_a_whole_read(store: RunStore) -> None:
    previous = store.get_run("r1")
    seq = store.events("r1")[-1].seq
    store.record_step("r1", StepInfo("s0", StepState.RUNNING, "inc", 1.0, attempts=1))
    store.finish_run("r1", RunState.FAILED, "boom")  # s0 FAILED, the pending steps SKIPPED
    changed, _ = _changed_since(store, seq)
    fresh = refreshed_run(store, previous, changed)
    whole = store.get_run("r1")
    assert fresh.state is RunState.FAILED and fresh.error == "boom"
    for step in fresh.steps:
        step.component = whole.step(step.name).component
    assert fresh == whole


def test_a_step_added_without_its_name_makes_a_whole_read(store: RunStore) -> None:
    previous = store.get_run("r1")
    store.record_step("r1", StepInfo("late", StepState.RUNNING, "late", 3.0, attempts=1))
    fresh = refreshed_run(store, previous, {"s1"})
    assert fresh == store.get_run("r1")
    assert fresh.steps[-1].name == "late"
