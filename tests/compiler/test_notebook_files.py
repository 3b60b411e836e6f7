"""Reading .ipynb files for the CLI and the server (issue 15: `jupyter-mlops compile` paid 0.77 s for
`import nbformat`, whose validation loads jsonschema's format checkers, and validation only logs).

A version 4 notebook is read as the JSON it is, without nbformat; what it defines is the same as
through nbformat; an older notebook still goes through nbformat's conversion; a file that is not a
notebook is refused naming the file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from jupyter_mlops.compiler import describe, plan_pipeline
from jupyter_mlops.errors import UsageError
from jupyter_mlops.notebook.reader import cell_key, feed_cell, read_notebook
from jupyter_mlops.notebook.workspace import Workspace, default_pipeline_name

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo.ipynb"


def test_compiling_a_notebook_imports_neither_nbformat_nor_jsonschema() -> None:
    code = (
        "import sys\nfrom jupyter_mlops.compiler import plan_pipeline\n"
        "from jupyter_mlops.notebook.reader import pipeline_from_notebook\n"
        f"plan_pipeline(pipeline_from_notebook({str(DEMO)!r}))\n"
        "print(sorted(m for m in ('nbformat', 'jsonschema') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_what_a_notebook_defines_is_what_nbformat_reads(tmp_path: Path) -> None:
    nb = nbformat.read(str(DEMO), as_version=4)
    nb.cells[1].source = nb.cells[1].source.splitlines(True)  # as a list of lines, as files often hold it
    path = tmp_path / "demo.ipynb"
    path.write_text(json.dumps(nb))
    through = Workspace(default_pipeline_name(str(path)))
    index = 0
    for cell in nbformat.read(str(path), as_version=4).cells:
        if cell.cell_type == "code":
            index += 1
            feed_cell(through, cell.source, f"code cell {index}", cell_key(cell, index))
    ours = read_notebook(path)
    assert describe(plan_pipeline(ours.get("demo"))) == describe(plan_pipeline(through.get("demo")))
    assert ours.get("demo").step_cells == through.get("demo").step_cells


def test_an_old_notebook_is_converted_by_nbformat(tmp_path: Path) -> None:
    v3 = {
        "nbformat": 3,
        "nbformat_minor": 0,
        "metadata": {},
        "worksheets": [
            {
                "cells": [
                    {"cell_type": "code", "input": "%%component only\nx = 1", "language": "python",
                     "outputs": [], "metadata": {}},
                ]
            }
        ],
    }  # fmt: skip
    path = tmp_path / "old.ipynb"
    path.write_text(json.dumps(v3))
    assert list(read_notebook(path).get("old").steps) == ["only"]


@pytest.mark.parametrize("text", ["not json", "[1, 2]", '{"nbformat": 4, "cells": [5]}'])
def test_a_file_that_is_not_a_notebook_is_refused_naming_it(tmp_path: Path, text: str) -> None:
    path = tmp_path / "bad.ipynb"
    path.write_text(text)
    with pytest.raises(UsageError, match=r"bad\.ipynb is not a readable notebook"):
        read_notebook(path)
