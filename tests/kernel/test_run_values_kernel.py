"""Issue 11 in a real kernel: `%pipeline load` puts a step's outputs in the notebook; `%pipeline debug`
puts a failed step's inputs there, as it received them, and shows its code, which then fails the same way."""

from __future__ import annotations

import re
from pathlib import Path

from .kernel_notebooks import KernelSession

CELLS = [
    "%load_ext jupyter_mlops",
    "%%pipeline params\nscale = 3\nweights = [1, 2]",
    "%%pipeline setup\nclass Box:\n    def __init__(self, v):\n        self.v = v",
    "%%component make_data\nimport numpy as np\nvalues = np.array([4.0, 0.0, 2.0]) * scale\nbox = Box(0)\n",
    "%%component divide\nratios = [100 / float(v - box.v * weights[0]) for v in values]\nbest = max(ratios)",
]


def test_load_outputs_and_debug_a_failed_step(tmp_path: Path) -> None:
    session = KernelSession(tmp_path, env={"JUPYTER_MLOPS_HOME": str(tmp_path / "home")})
    try:
        for cell in CELLS[:4]:
            reply, shown = session.run(cell)
            assert reply["status"] == "ok", shown
        reply, shown = session.run("values = None\nbox = None")  # the kernel's own values differ now
        reply, shown = session.run("%%component divide --define-only\n" + CELLS[4].split("\n", 1)[1])
        assert reply["status"] == "ok", shown
        reply, shown = session.run("r = %pipeline run --wait\nprint(r.state.value, r.name)")
        assert reply["status"] == "ok" and "FAILED" in shown, shown
        name = shown.split()[-1]

        reply, shown = session.run(f"%pipeline load {name} make_data")
        assert reply["status"] == "ok", shown
        assert "values (numpy.ndarray (3,))" in shown and "box (" in shown, shown
        assert session.value("values.tolist()") == "[12.0, 0.0, 6.0]"
        assert session.value("(type(box).__name__, box.v)") == "('Box', 0)"

        session.run("values = box = weights = scale = None")
        reply, shown = session.run(f"%pipeline debug {name} divide")
        assert reply["status"] == "ok", shown
        assert "Step 'divide' of run" in shown and "FAILED" in shown and "ZeroDivisionError" in shown, shown
        assert "ratios = [100 / float(v - box.v * weights[0]) for v in values]" in shown, shown
        assert session.value("(values.tolist(), box.v, weights)") == "([12.0, 0.0, 6.0], 0, [1, 2])"
        assert [p for p in reply.get("payload", []) if p.get("source") == "set_next_input"], reply
        code = shown.split("next cell holds it):\n\n", 1)[1]
        reply, shown = session.run(code)
        assert reply["status"] == "error" and reply["ename"] == "ZeroDivisionError", reply
        assert re.search(r"ratios = \[100 / float\(v - box\.v", shown), shown

        reply, shown = session.run("%pipeline run --wait")  # the cell's last line: the view, once
        assert reply["status"] == "ok" and shown.count("Run pipeline-") == 1, shown
        assert "Run(id=" not in shown, shown  # no stale echo of the run handle under the view

        reply, shown = session.run(f"%pipeline load {name} nope")
        assert reply["status"] == "error" and "no step 'nope'" in shown and "make_data" in shown, shown
    finally:
        session.close()


def test_a_last_line_naming_a_variable_is_that_variables_value(tmp_path: Path) -> None:
    """`final` on a leaf step's last line: nothing downstream reads it, so it is kept as the step's
    `result`; `run.outputs[step]["final"]` and `%pipeline load` find it under the name the cell used."""
    session = KernelSession(tmp_path, env={"JUPYTER_MLOPS_HOME": str(tmp_path / "home")})
    try:
        for cell in [
            "%load_ext jupyter_mlops",
            "%%component make\nparts = [3, 1, 2]\n",
            "%%component pick\nfinal = sorted(parts)\nspare = len(parts)\nfinal\n",
        ]:
            reply, shown = session.run(cell)
            assert reply["status"] == "ok", shown
        reply, shown = session.run(
            "r = %pipeline run --wait\nprint(r.state.value, r.outputs['pick']['final'])"
        )
        assert reply["status"] == "ok" and "SUCCEEDED [1, 2, 3]" in shown, shown
        assert (
            session.value("('final' in r.outputs['pick'], list(r.outputs['pick']))") == "(True, ['result'])"
        )

        reply, shown = session.run("r.outputs['pick']['spare']")
        assert reply["status"] == "error", shown
        assert "has no output 'spare' (outputs: result)" in shown, shown
        assert "end the cell with it or list it in the step's --outputs" in shown, shown

        session.run("final = None")
        reply, shown = session.run("%pipeline load {r.id} pick")
        assert reply["status"] == "ok" and "final (list)" in shown, shown
        assert session.value("final") == "[1, 2, 3]"
        assert session.value("'result' in dir()") == "False"  # not bound under the plumbing's name
    finally:
        session.close()
