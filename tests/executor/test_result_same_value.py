"""A cell whose last line is one of its outputs' values (`model.fit(x, y)` returns the model) stores that
value once: the step's `result` is a hard link to the output's files, not a second pickle, and both read
back as the value. Also with the step runtime pasted into the step (--inline-runtime)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from jupyter_mlops.models import RunState

from .conftest import Runner
from .notebook_cells import compiled

SETUP = """%%pipeline setup{inline}
class Model:
    def __init__(self):
        self.w = None

    def fit(self, xs):
        self.w = sum(xs) / len(xs)
        return self
"""
CELLS = [
    "%%component train\nmodel = Model()\nmodel.fit([1.0, 2.0, 6.0])\n",
    "%%component use\nprint('w', model.w)\n",
]


@pytest.mark.parametrize("inline", ["", " --inline-runtime"])
def test_a_last_value_that_is_an_output_is_stored_once(run_pipeline: Runner, inline: str) -> None:
    run = run_pipeline(compiled([SETUP.format(inline=inline), *CELLS]))

    assert run.state == RunState.SUCCEEDED, run.listener.log("train")[-3000:]
    made = {a.name: a for a in run.listener.artifacts if a.step == "train"}
    result, model = Path(made["result"].uri), Path(made["model"].uri)
    assert (
        sorted(p.name for p in result.iterdir()) == sorted(p.name for p in model.iterdir()) == ["value.pkl"]
    )
    assert os.path.samefile(result / "value.pkl", model / "value.pkl")  # one file, two names
    assert made["result"].metadata["format"] == made["model"].metadata["format"] == "pickle"
    assert made["result"].metadata["repr"].startswith("<__main__.Model object")  # as in the kernel
    assert "w 3.0" in run.listener.log("use")
