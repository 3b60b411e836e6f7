"""A live view of a long run reads again the steps that changed, not the whole run, for each burst of
changes (issue 15: following a 1,000-step run read 1,000 rows, ~11 ms of the kernel's CPU, up to 20
times a second), and shows what a whole read shows. The real LocalBackend and store; the test plays
the runner by writing step states, as in test_run_view.py; rows read are counted, not timed."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlops.backends.local import LocalBackend
from jupyter_mlops.models import RunState, StepInfo, StepState
from jupyter_mlops.store import new_run_id, records
from jupyter_mlops.widgets import run_view
from jupyter_mlops.widgets.run_widget import run_payload

from .test_run_view import eventually, step_state

pytestmark = pytest.mark.timeout(60)
STEPS = 200


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[LocalBackend]:
    b = LocalBackend(tmp_path / "home", stale_after=3600)  # no runner: the test writes what one would
    yield b
    b.close()


def test_a_burst_of_changes_reads_the_steps_it_names(
    backend: LocalBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_id = new_run_id()
    names = [f"s{i}" for i in range(STEPS)]
    store = backend.store
    store.create_run(run_id=run_id, name="long", experiment=None, pipeline_name="long", parameters={},
                     steps=names, edges=list(itertools.pairwise(names)))  # fmt: skip
    store.mark_running(run_id, 0, "test-host")  # pid 0: liveness falls back to the heartbeat
    view = run_view(backend, run_id, live=True)
    try:
        eventually(lambda: view.run["state"] == "RUNNING", "the view saw the run start")
        built = 0
        real = records.step_from_row

        def counted(row: Any) -> StepInfo:
            nonlocal built
            built += 1
            return real(row)

        monkeypatch.setattr(records, "step_from_row", counted)
        t0 = time.time()
        for i in range(10):
            store.record_step(run_id, StepInfo(f"s{i}", StepState.RUNNING, started_at=t0 + i))
            store.record_step(
                run_id, StepInfo(f"s{i}", StepState.SUCCEEDED, started_at=t0 + i, finished_at=t0 + i + 1)
            )
        eventually(lambda: step_state(view, "s9") == "SUCCEEDED", "s9 shown SUCCEEDED")
        assert built <= 2 * 10, built  # each step at most once per report; a whole read is 200 rows
        monkeypatch.undo()
        assert view.run == run_payload(backend.get(run_id), now=view.run["server_time"])
        store.finish_run(run_id, RunState.CANCELED)
        eventually(lambda: not view.polling, "the view stopped at the run's end")
        assert step_state(view, "s10") == "SKIPPED" and view.run["done"] == STEPS
    finally:
        view.close()
