"""A run's steps start in the notebook's folder even when the kernel has been moved (a setup cell's
`os.chdir`, `%cd` in a plain cell): a run is the notebook from the top, where the kernel started in its
folder (notebook/folder.py)."""

from __future__ import annotations

from pathlib import Path

from .kernel_notebooks import execute_notebook, notebook, outputs_text


def test_steps_start_in_the_notebook_folder_after_the_kernel_moved(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "t.csv").write_text("a,b\n1,2\n3,4\n")
    (tmp_path / "elsewhere").mkdir()
    nb = notebook(
        [
            "%load_ext jupyter_mlops",
            "%%pipeline setup\nimport os\nos.chdir('data')\n",  # in the kernel, and again in each step
            "%%component count\nwith open('t.csv') as f:\n    n = len(f.read().splitlines())\n"
            "(n, os.getcwd())\n",
            "%cd ../elsewhere",  # a plain cell moves the kernel further
            "r = %pipeline run --wait\nprint('state', r.state.value)\n"
            "print('n, where', r.outputs['count']['result'])",
        ]
    )
    done = execute_notebook(nb, tmp_path, env={"JUPYTER_MLOPS_HOME": str(tmp_path / "home")})
    shown = outputs_text(done.cells[-1])
    assert "state SUCCEEDED" in shown, shown
    assert f"n, where (3, {str(tmp_path / 'data')!r})" in shown, shown
