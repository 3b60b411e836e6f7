"""A notebook that reads 'data/train.csv' by a relative path runs as it runs in its kernel: from the API
(default: the caller's current directory, the notebook's folder in a kernel), from the CLI started in
another directory (the notebook's folder), and with an explicit working_dir. Artifacts and logs stay
under the run's directory. (Issue 9, item 3.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

import jupyter_mlops as mlops
from jupyter_mlops.backends.local import LocalBackend
from jupyter_mlops.errors import UsageError
from jupyter_mlops.models import RunState
from jupyter_mlops.notebook.reader import pipeline_from_notebook

from .contract import explain

REPO = Path(__file__).resolve().parents[2]
CELLS = [
    "%load_ext jupyter_mlops",
    "%%component load\nimport csv\nrows = list(csv.DictReader(open('data/train.csv')))",
    "%%component total\ntotal = sum(int(r['x']) for r in rows)\nprint('total', total)",
]


def notebook_folder(root: Path) -> Path:
    """A notebook next to its data, as a user keeps them."""
    folder = root / "project"
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "train.csv").write_text("x\n1\n2\n4\n")
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(c) for c in CELLS]
    nbformat.write(notebook, str(folder / "reads.ipynb"))
    return folder


def check_run(home: Path, run_id: str, folder: Path) -> None:
    backend = LocalBackend(home)
    info = backend.get(run_id)
    assert info.state is RunState.SUCCEEDED, explain(info)
    assert "total 7" in backend.logs(run_id, "total").text
    run_dir = backend.run_dir(run_id)
    artifacts = backend.artifacts(run_id)
    assert [a.name for a in artifacts] == ["rows"]  # what `load` read, passed to `total`
    assert Path(artifacts[0].uri).is_relative_to(run_dir)
    assert sorted(p.name for p in folder.iterdir()) == ["data", "reads.ipynb"]  # nothing of the run here


def test_the_api_runs_steps_in_the_callers_directory(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = notebook_folder(tmp_path)
    monkeypatch.chdir(folder)  # a kernel's current directory is its notebook's folder

    run = mlops.run(pipeline_from_notebook("reads.ipynb")).wait(timeout=300)

    check_run(home, run.id, folder)
    record = LocalBackend(home).store.runner_record(run.id)
    assert record["working_dir"] == str(folder)  # the detached runner reads it from the store


def test_an_explicit_working_dir_wins_and_a_missing_one_is_refused(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = notebook_folder(tmp_path)
    monkeypatch.chdir(tmp_path)
    pipeline = pipeline_from_notebook(folder / "reads.ipynb")

    run = mlops.run(pipeline, working_dir=folder).wait(timeout=300)
    check_run(home, run.id, folder)

    with pytest.raises(UsageError, match="not a directory"):
        mlops.run(pipeline, working_dir=tmp_path / "nowhere")


def test_the_cli_runs_a_notebooks_steps_in_its_folder_from_anywhere(home: Path, tmp_path: Path) -> None:
    folder = notebook_folder(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = dict(os.environ, JUPYTER_MLOPS_HOME=str(home), PYTHONPATH=str(REPO))
    done = subprocess.run(
        [sys.executable, "-m", "jupyter_mlops.cli", "run", str(folder / "reads.ipynb"), "--wait"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (run,) = LocalBackend(home).list_runs().runs
    check_run(home, run.id, folder)
    assert list(elsewhere.iterdir()) == []


def test_a_kernels_pipeline_run_works_in_its_notebook_folder(home: Path, tmp_path: Path) -> None:
    from nbclient import NotebookClient

    folder = notebook_folder(tmp_path)
    notebook = nbformat.read(str(folder / "reads.ipynb"), as_version=4)
    notebook.cells.append(
        nbformat.v4.new_code_cell("r = %pipeline run --wait\nprint('RUN', r.id, r.state.value)")
    )
    # the kernel starts in the notebook's folder, as JupyterLab starts it
    NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
    ).execute()

    printed = "".join(o.get("text", "") for o in notebook.cells[-1].outputs if o.get("name") == "stdout")
    run_id, state = printed.split("RUN ")[1].split()[:2]
    assert state == "SUCCEEDED", printed
    check_run(home, run_id, folder)
