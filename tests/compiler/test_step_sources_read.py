"""A run's step sources are read back from the step's program: its function's runtime call, found
whether the step's function comes last (the usual layout: the inlined runtime, then the function) or not."""

from __future__ import annotations

from jupyter_mlops.ir.step_sources import runtime_call

RUNTIME = "def _mlops_helper(x):\n    return x\n" * 200
STEP = (
    "def make(out_df: str):\n"
    "    return _mlops_run_step(step='make', setup='', cell='df = 1\\ndef f(): pass',"
    " args={'out_df': out_df}, inputs={}, outputs={'out_df': ('df', 'artifact')}, result=False)\n"
)


def test_the_call_is_found_after_the_runtime() -> None:
    found = runtime_call(RUNTIME + STEP)
    assert found is not None and found["step"] == "make" and found["cell"] == "df = 1\ndef f(): pass"
    assert found["outputs"] == {"out_df": ("df", "artifact")}


def test_the_call_is_found_when_something_follows_the_steps_function() -> None:
    found = runtime_call(RUNTIME + STEP + "\ndef trailing():\n    pass\n")
    assert found is not None and found["step"] == "make"


def test_a_program_without_the_call_has_no_step_source() -> None:
    assert runtime_call(RUNTIME) is None
