"""Issue 9, item 10: a headless kernel names the pipeline after the notebook when its environment says
which notebook it runs, so its YAML is the CLI's.

What decides the name, in order: `%pipeline new/use NAME`; papermill's injected `PAPERMILL_INPUT_PATH`
(`--inject-input-path` / `--inject-paths`); VS Code's `__vsc_ipynb_file__`; ipykernel's `__session__`
/ the `JPY_SESSION_NAME` environment variable (Jupyter Server sets it); else `pipeline`.
"""

from __future__ import annotations

import os
import subprocess
import sys

import nbformat
import yaml
from nbformat.v4 import new_code_cell

from jupyter_mlops.notebook.workspace import Workspace

from .kernel_notebooks import execute_notebook, notebook, outputs_text, write

PARAMS = "%%pipeline params\nlr = 0.1\n"
STEPS = ["%%component a\nx = lr * 2\n", "%%component b\ny = x + 1\n"]


def _cli_yaml(path, out):
    subprocess.run(
        [sys.executable, "-m", "jupyter_mlops.cli", "compile", str(path), "-o", str(out)],
        check=True,
        capture_output=True,
    )
    return out.read_bytes()


def _name(yaml_bytes: bytes) -> str:
    return next(yaml.safe_load_all(yaml_bytes))["pipelineInfo"]["name"]


def _parameters_notebook():
    nb = notebook(["%load_ext jupyter_mlops", PARAMS, *STEPS, "%pipeline compile kernel.yaml"])
    nb.cells[1].metadata["tags"] = ["parameters"]  # papermill injects its cell after this one
    return nb


def test_nbclient_with_jpy_session_name_uses_the_notebooks_name(tmp_path):
    nb = notebook(["%load_ext jupyter_mlops", PARAMS, *STEPS, "%pipeline compile kernel.yaml"])
    path = write(nb, tmp_path / "trained.ipynb")
    execute_notebook(nb, tmp_path, env={"JPY_SESSION_NAME": str(path)})
    kernel = (tmp_path / "kernel.yaml").read_bytes()
    assert _name(kernel) == "trained" and kernel == _cli_yaml(path, tmp_path / "cli.yaml")


def test_papermills_injected_input_path_names_the_pipeline_even_after_the_params_cell(tmp_path):
    """The cell papermill injects (as `--inject-input-path` writes it) comes after the cell tagged
    `parameters`: the pipeline that cell started takes the notebook's name then."""
    nb = _parameters_notebook()
    path = write(nb, tmp_path / "trained.ipynb")
    injected = new_code_cell(f"# Parameters\nPAPERMILL_INPUT_PATH = {str(path)!r}\n")
    injected.metadata["tags"] = ["injected-parameters"]
    nb.cells.insert(2, injected)
    execute_notebook(nb, tmp_path, env={"JPY_SESSION_NAME": ""})
    kernel = (tmp_path / "kernel.yaml").read_bytes()
    assert _name(kernel) == "trained" and kernel == _cli_yaml(path, tmp_path / "cli.yaml")


def test_papermill_run_with_inject_input_path(tmp_path):
    path = write(_parameters_notebook(), tmp_path / "trained.ipynb")
    done = subprocess.run(
        [
            *(sys.executable, "-m", "papermill", str(path), str(tmp_path / "out.ipynb")),
            *("--inject-input-path", "-k", "python3", "--cwd", str(tmp_path), "--no-progress-bar"),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "JPY_SESSION_NAME": ""},
    )
    assert done.returncode == 0, done.stderr
    kernel = (tmp_path / "kernel.yaml").read_bytes()
    assert _name(kernel) == "trained" and kernel == _cli_yaml(path, tmp_path / "cli.yaml")


def test_vs_codes_notebook_file_names_the_pipeline(tmp_path):
    nb = notebook(["%load_ext jupyter_mlops", PARAMS, *STEPS, "%pipeline show"])
    path = tmp_path / "from_vscode.ipynb"
    nb.cells.insert(0, new_code_cell(f"__vsc_ipynb_file__ = {str(path)!r}"))  # as VS Code sets it
    execute_notebook(nb, tmp_path, env={"JPY_SESSION_NAME": ""})
    assert "Pipeline 'from_vscode': 2 steps" in outputs_text(nb.cells[-1])


def test_without_any_hint_the_pipeline_is_called_pipeline_and_new_names_it(tmp_path):
    nb = notebook(
        [
            "%load_ext jupyter_mlops",
            PARAMS,
            *STEPS,
            "%pipeline show",
            "%pipeline new chosen",
            PARAMS,
            *STEPS,
            "%pipeline show",
        ]
    )
    execute_notebook(nb, tmp_path, env={"JPY_SESSION_NAME": ""})
    assert "Pipeline 'pipeline': 2 steps" in outputs_text(nb.cells[4])
    assert "Pipeline 'chosen': 2 steps" in outputs_text(nb.cells[-1])
    nbformat.validate(nb)


def test_a_name_the_user_chose_is_kept_when_the_notebooks_name_arrives_later():
    w = Workspace("pipeline")
    w.new("chosen")
    w.define_component("a", "x = 1\n")
    w.set_default_name("trained")
    assert w.active.name == "chosen" and list(w.pipelines) == ["chosen"]
    unnamed = Workspace("pipeline")
    unnamed.define_component("a", "x = 1\n")
    unnamed.set_default_name("trained")
    assert unnamed.active.name == "trained" and list(unnamed.pipelines) == ["trained"]
