"""`from M import *` in a notebook (fastai's `from fastai.vision.all import *`, `from pylab import *`):
the names it brings are known to the analysis, so the pipeline compiles and runs as the kernel runs it:
from the setup cell every step has them; from a step, a later step using one imports it itself."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
from cli_runs import cli

CELLS = [
    "%load_ext jupyter_mlops",
    "%%pipeline setup\nfrom statistics import *\nimport json",
    "%%component make\nfrom math import *\nvalues = [1.0, 4.0, 9.0]\nroots = [sqrt(v) for v in values]",
    "%%component report\nwith open('report.json', 'w') as f:\n"
    "    json.dump({'mean': mean(roots), 'floor': floor(pi), 'median': median(values)}, f)",
]


def test_star_imports_in_setup_and_steps_compile_and_run(tmp_path: Path) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(c) for c in CELLS]
    nbformat.write(notebook, tmp_path / "stars.ipynb")
    shown = cli(tmp_path / "home", "show", "stars.ipynb", cwd=tmp_path)
    assert "in:  roots <- make (artifact), values <- make (artifact)" in shown, shown  # not sqrt, pi, ...
    out = cli(tmp_path / "home", "run", "stars.ipynb", "--wait", cwd=tmp_path)
    assert "SUCCEEDED" in out, out
    assert json.loads((tmp_path / "report.json").read_text()) == {"mean": 2.0, "floor": 3, "median": 4.0}


def test_a_star_import_of_the_notebooks_own_module_works_from_another_folder(tmp_path: Path) -> None:
    # `from nb_tools import *` of a module beside the notebook: the kernel finds it in its working
    # directory; `jupyter-mlops run` started elsewhere failed ("importing nb_tools failed here").
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "nb_tools.py").write_text("__all__ = ['triple']\n\n\ndef triple(x):\n    return 3 * x\n")
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(c)
        for c in (
            "%load_ext jupyter_mlops",
            "%%pipeline setup\nimport json\nfrom nb_tools import *",
            "%%component make\nvalues = [triple(v) for v in (1, 2)]",
            "%%component report\nwith open('out.json', 'w') as f:\n    json.dump(values, f)",
        )
    ]
    nbformat.write(notebook, folder / "tools.ipynb")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = cli(tmp_path / "home", "run", str(folder / "tools.ipynb"), "--wait", cwd=elsewhere)
    assert "SUCCEEDED" in out, out
    assert json.loads((folder / "out.json").read_text()) == [3, 6]
