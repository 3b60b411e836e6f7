"""One convention for line numbers everywhere the user reads one: the magic line is line 1 of the cell
(as JupyterLab numbers it), so the first line of a cell's body is line 2 (issue 9, item 8)."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError

from jupyter_mlops.errors import CellError
from jupyter_mlops.notebook.workspace import Workspace

from .conftest import run_cell


def test_a_bad_component_cell_is_refused_at_the_line_the_user_sees(ip):
    with pytest.raises(UsageError) as raised:
        run_cell(ip, "%%component a\nx = 1\ny = (\n")
    assert "cell a, line 3" in str(raised.value)


def test_params_cell_problems_count_the_magic_line():
    w = Workspace("p")
    with pytest.raises(CellError) as raised:
        w.define_params("lr = 0.1\nsize = compute()\n")
    assert (raised.value.cell, raised.value.line) == ("%%pipeline params", 3)
    with pytest.raises(CellError) as raised:
        w.define_params("lr = 0.1\nbad = (\n")
    assert raised.value.line is not None and raised.value.line >= 3


def test_kernel_and_plan_agree_on_a_steps_line(ip):
    run_cell(ip, "%%component a --define-only\nx = 1\ny = unknown_name\n")
    with pytest.raises(UsageError) as raised:
        run_cell(ip, "%pipeline show")
    assert "cell a, line 3" in str(raised.value)
