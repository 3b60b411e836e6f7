"""A cell that calls `sys.exit()` (scripts pasted into notebooks do): in the kernel the cell stops there
and what it bound so far stays; a step does the same, keeping its values for later steps. A non-zero
exit fails the step, naming it. Before, any exit ended the step's process as a success with no values
at all, and the next step failed with "input 'x' needs output 'x' of step 'a', which has none"."""

from __future__ import annotations

import pytest

from jupyter_mlops.models import RunState, StepState

from .conftest import Runner
from .notebook_cells import compiled

SETUP = "%%pipeline setup{inline}\nimport sys\n"
CELLS = [
    "%%component a\nimport sys\nx = 1\nif x == 1:\n    sys.exit(0)\ny = 2\n",
    "%%component b\nprint('b sees x =', x)\nprint('and y' if 'y' in dir() else 'no y, as in the notebook')\n",
]


@pytest.mark.parametrize("inline", ["", " --inline-runtime"])
def test_a_cell_that_exits_with_0_stops_there_and_keeps_its_values(run_pipeline: Runner, inline: str) -> None:
    run = run_pipeline(compiled([SETUP.format(inline=inline), *CELLS]))
    assert run.state == RunState.SUCCEEDED, run.listener.log("b")[-3000:] + run.listener.log("a")[-3000:]
    assert "b sees x = 1" in run.listener.log("b")
    assert "no y, as in the notebook" in run.listener.log("b")


@pytest.mark.parametrize("inline", ["", " --inline-runtime"])
def test_a_cell_that_exits_with_an_error_code_fails_its_step_saying_so(
    run_pipeline: Runner, inline: str
) -> None:
    cells = [SETUP.format(inline=inline), "%%component a\nx = 1\nexit(3)\n", CELLS[1]]
    run = run_pipeline(compiled(cells))
    assert run.state == RunState.FAILED
    step = run.step("a")
    assert step.state == StepState.FAILED
    assert "sys.exit(3)" in (step.error or "") and "line 3" in (step.error or ""), step.error


def test_a_step_whose_process_ends_before_its_code_does_fails_saying_so(run_pipeline: Runner) -> None:
    """`os._exit(0)` ends the step's process at once, exit code 0, before kfp's executor writes its
    outputs: the step failed to finish, and says so (it was SUCCEEDED with no values)."""
    run = run_pipeline(compiled(["%%component a\nimport os\nx = 1\nos._exit(0)\n", CELLS[1]]))
    assert run.state == RunState.FAILED
    step = run.step("a")
    assert step.state == StepState.FAILED, step
    assert step.error is not None and "ended before its code did" in step.error, step.error
    assert run.step("b").state == StepState.SKIPPED
