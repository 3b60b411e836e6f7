"""A notebook written before jupyter-mlops keeps its imports and helpers in plain cells, which steps do
not see. The error for such a name says which cell defines it and what to do, in the kernel (cells run
before and after `%load_ext`) and from the CLI (code cells by number)."""

from __future__ import annotations

import subprocess
import sys

from .kernel_notebooks import KernelSession, notebook, write

IMPORTS = "import json\nimport numpy as np\n"
HELPER = "def scaled(v, by=2):\n    return np.asarray(v) * by\n"
STEP = "%%component make\nx = scaled([1, 2, 3])\ntext = json.dumps(x.tolist())\n"


def test_the_kernel_says_which_plain_cell_defines_a_name_no_step_has(tmp_path):
    session = KernelSession(tmp_path)
    try:
        imports, _ = session.run(IMPORTS)  # before the extension is loaded: known from IPython's history
        session.run("%load_ext jupyter_mlops")
        helper, _ = session.run(HELPER)  # after it: seen as it runs
        reply, shown = session.run(STEP)
        assert reply["status"] == "ok", shown  # the cell itself runs in the kernel, which has them
        reply, shown = session.run("%pipeline show")
    finally:
        session.close()
    assert reply["status"] == "error", shown
    defined, imported = helper["execution_count"], imports["execution_count"]  # as the user sees them
    assert (
        "name 'scaled' is read" in shown and f"It is defined (a function) in In [{defined}], line 1" in shown
    )
    assert "name 'json' is read" in shown and f"It is imported in In [{imported}], line 1" in shown, shown
    assert "Put `%%pipeline setup` as that cell's first line" in shown, shown


def test_the_cli_names_the_code_cell_and_following_the_hint_compiles(tmp_path):
    cells = ["%load_ext jupyter_mlops", IMPORTS, "limit = 10\n", HELPER, STEP + "small = x[x < limit]\n"]
    path = write(notebook(cells), tmp_path / "old.ipynb")

    def compile_() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "jupyter_mlops.cli", "compile", str(path), "-o", str(tmp_path / "o.yaml")],
            capture_output=True,
            text=True,
        )

    failed = compile_()
    assert failed.returncode != 0
    err = failed.stderr
    assert "name 'np' is read" not in err  # np is read inside the helper, which the step does not have
    assert "name 'scaled' is read but no earlier step" in err and "defined (a function) in code cell 4" in err
    assert "name 'json' is read" in err and "imported in code cell 2, line 1" in err, err
    assert "name 'limit' is read" in err and "assigned in code cell 3, line 1, a plain cell" in err, err
    assert "%%component NAME" in err and "%%pipeline params" in err, err

    cells[1] = "%%pipeline setup\n" + IMPORTS
    cells[2] = "%%pipeline params\n" + cells[2]
    cells[3] = "%%pipeline setup\n" + HELPER
    write(notebook(cells), path)
    done = compile_()
    assert done.returncode == 0, done.stderr


def test_metrics_a_plain_cell_logs_are_all_kept_when_the_kernel_is_shut_down_at_once(tmp_path):
    # log_metric in a plain cell writes its points in batches (backends/session_points.py): the last
    # batch, still waiting when the user shuts the kernel down, is written as the kernel exits.
    from jupyter_mlops.store import RunStore

    home = tmp_path / "home"
    session = KernelSession(tmp_path, env={"JUPYTER_MLOPS_HOME": str(home)})
    try:
        session.run("import jupyter_mlops as mlops")
        reply, shown = session.run("for i in range(500):\n    mlops.log_metric('loss', 1 / (i + 1), step=i)")
        assert reply["status"] == "ok", shown
        run_id = session.value("mlops.api.notebook_session_run_id()").strip("'")
    finally:
        session.kc.stop_channels()
        session.km.shutdown_kernel(now=False)  # a shutdown request, as the Shut Down menu sends
    points = RunStore(home).metric_history(run_id, "loss")
    assert [p.index for p in points] == list(range(500))
