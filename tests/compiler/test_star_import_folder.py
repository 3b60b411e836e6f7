"""`from helpers import *` of a module beside the notebook, compiled from another folder (the command line,
the server): the module is found in the notebook's folder, as the kernel finds it in its working
directory, and the compiling process's import path is left as it was."""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest

from jupyter_mlops.compiler.planner import plan_pipeline
from jupyter_mlops.errors import CellError
from jupyter_mlops.notebook.reader import pipeline_from_notebook


def test_the_notebooks_own_module_is_found_in_its_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "nb"
    folder.mkdir()
    (folder / "h15_star_tools.py").write_text(
        "def triple(x):\n    return 3 * x\n\n\ndef _hidden():\n    pass\n"
    )
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("%%pipeline setup\nfrom h15_star_tools import *"),
        nbformat.v4.new_code_cell("%%component make\nvalues = [triple(1)]"),
    ]
    nbformat.write(notebook, folder / "stars.ipynb")
    monkeypatch.chdir(tmp_path)
    before = list(sys.path)
    plan = plan_pipeline(pipeline_from_notebook(folder / "stars.ipynb"))
    assert plan.step("make").inputs == {}  # `triple` is the setup's, not a missing name
    assert sys.path == before
    # elsewhere, with no such module beside the notebook: the error says why
    (tmp_path / "other").mkdir()
    nbformat.write(notebook, tmp_path / "other" / "stars.ipynb")
    notebook.cells[0].source = "%%pipeline setup\nfrom h15_no_such_module import *"
    nbformat.write(notebook, tmp_path / "other" / "stars.ipynb")
    with pytest.raises(CellError, match="importing h15_no_such_module failed here"):
        plan_pipeline(pipeline_from_notebook(tmp_path / "other" / "stars.ipynb"))
