"""Issue 11: the run view's button on a failed step does what `%pipeline debug` does, in the kernel it
is shown in: the step's inputs, as received, land in the notebook; the cell's code then fails alike."""

from __future__ import annotations

from pathlib import Path

import pytest
from executor.notebook_cells import notebook_pipeline

import jupyter_mlops as mlops
from jupyter_mlops.models import RunState
from jupyter_mlops.widgets.debug_step import debug_in_kernel

CELLS = [
    "%%pipeline params\nlimits = [2, 3]",
    "%%component make\nrows = [{'v': 1}, {'v': 0}]\nmaybe = 1\nif len(rows) > 5:\n    extra = 1",
    "%%component check\nratios = [limits[0] / r['v'] for r in rows]",
]


@pytest.fixture
def shell():  # a real IPython shell in this process, as the kernel's is
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    yield shell
    InteractiveShell.clear_instance()


def test_the_debug_button_loads_a_failed_steps_inputs_into_the_notebook(home: Path, shell) -> None:
    run = mlops.run(notebook_pipeline(CELLS, "debugme")).wait(timeout=300)
    assert run.state is RunState.FAILED and run.tasks["check"].value == "FAILED"

    answer = debug_in_kernel(run.backend, run.id, "check")

    assert answer["loaded"] == ["limits", "rows"] and answer["code"].startswith("ratios = ")
    assert shell.user_ns["rows"] == [{"v": 1}, {"v": 0}] and shell.user_ns["limits"] == [2, 3]
    assert type(shell.user_ns["limits"][0]) is int  # as the step had it (KFP carried it as 2.0)
    result = shell.run_cell(answer["code"])
    assert isinstance(result.error_in_exec, ZeroDivisionError)  # the step's error, reproduced here

    missing = debug_in_kernel(run.backend, run.id, "nope")
    assert "no step 'nope'" in missing["error"] and missing["magic"] == f"%pipeline debug {run.id} nope"
