"""Issue 9, item 4: an exception in a `%%component` or `%%pipeline setup` cell fails the kernel cell.

nbclient (as papermill and "Run All" do) stops at the failing cell; the traceback shown is the user's
code, not this package's.
"""

from __future__ import annotations

import pytest
from nbclient.exceptions import CellExecutionError

from .kernel_notebooks import KernelSession, execute_notebook, notebook, outputs_text


def _failing(cells: list[str], tmp_path):
    nb = notebook(["%load_ext jupyter_mlops", *cells, "after = 'ran'\nafter"])
    with pytest.raises(CellExecutionError) as raised:
        execute_notebook(nb, tmp_path)
    return nb, raised.value


def test_a_raising_component_cell_stops_the_notebook_with_the_users_traceback(tmp_path):
    nb, error = _failing(
        ["%%component boom\nvalues = [1, 2]\nraise ValueError(f'bad values {values}')\n"], tmp_path
    )
    assert error.ename == "ValueError" and error.evalue == "bad values [1, 2]"
    shown = outputs_text(nb.cells[1])
    assert "raise ValueError(f'bad values {values}')" in shown, shown
    assert "jupyter_mlops" not in shown and "magics.py" not in shown, shown
    assert shown.count("Traceback (most recent call last)") == 1, shown  # shown once
    assert [o.output_type for o in nb.cells[1].outputs] == ["error"]
    # numbered as the user's cell: the magic line is line 1
    assert "1 # %%component boom" in shown and "----> 3 raise ValueError" in shown, shown
    assert nb.cells[2].execution_count is None and not nb.cells[2].outputs  # the next cell never ran


def test_a_raising_setup_cell_stops_the_notebook(tmp_path):
    nb, error = _failing(["%%pipeline setup\nimport math\nmath.sqrt(-1)\n"], tmp_path)
    assert error.ename == "ValueError" and "math domain error" in error.evalue
    assert "----> 3 math.sqrt(-1)" in outputs_text(nb.cells[1])
    assert nb.cells[2].execution_count is None


def test_a_step_that_succeeds_after_a_failure_is_fine_and_the_kernel_keeps_the_step(tmp_path):
    session = KernelSession(tmp_path)
    try:
        session.run("%load_ext jupyter_mlops")
        reply, shown = session.run("%%component a\nx = 1 / 0\n", cell_id="c1")
        assert reply["status"] == "error" and reply["ename"] == "ZeroDivisionError", reply
        assert "x = 1 / 0" in shown and "jupyter_mlops" not in shown, shown
        reply, _ = session.run("%%component a\nx = 1 / 1\n", cell_id="c1")
        assert reply["status"] == "ok", reply
        reply, shown = session.run("%pipeline show")
        assert "Pipeline 'pipeline': 1 steps" in shown, shown
    finally:
        session.close()
