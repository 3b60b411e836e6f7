"""The example notebook runs top to bottom: a sweep over the demo, then a nightly schedule of its best."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from jupyter_mlops.backends.local import LocalBackend
from jupyter_mlops.schedules import schedules
from jupyter_mlops.sweeps import get_sweep
from tests.kernel.kernel_notebooks import execute_notebook, outputs_text

pytestmark = pytest.mark.slow  # a whole notebook: a 12-trial sweep in a kernel

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sweep_and_schedule.ipynb"


def test_the_sweep_and_schedule_example_runs(tmp_path: Path) -> None:
    home = tmp_path / "home"
    nb = execute_notebook(nbformat.read(EXAMPLE, 4), tmp_path, env={"JUPYTER_MLOPS_HOME": str(home)})
    backend = LocalBackend(home)
    sweep = get_sweep("demo-lr", backend=backend)
    assert sweep.state == "FINISHED" and len(sweep.trials) == 12
    best = sweep.best
    assert best is not None and all(t.value is None or t.value <= (best.value or 0) for t in sweep.trials)
    # load, stats and scale read neither lr nor epochs: they ran in one trial, the others reused them
    states = [backend.get(t.run_id or "").step("load").state.value for t in sweep.trials]
    trials = [(t.number, t.state, t.error) for t in sweep.trials]
    assert states.count("SUCCEEDED") == 1 and states.count("CACHED") == 11, (states, trials)
    (nightly,) = schedules(backend)
    assert nightly.name == "demo-nightly" and nightly.record.cron == "0 3 * * *"
    assert nightly.record.arguments == {"lr": best.params["lr"], "epochs": best.params["epochs"]}
    listed = outputs_text(nb.cells[-1])
    assert "demo-nightly" in listed and "active" in listed
