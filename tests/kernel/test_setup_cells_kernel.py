"""Issue 9, item 2 in a real kernel: setup and params cells accumulate, told apart by the cell id
JupyterLab sends (or, from nbclient, which sends none, by their text); kernel and CLI compile the same
bytes."""

from __future__ import annotations

import subprocess
import sys

import yaml

from .kernel_notebooks import KernelSession, execute_notebook, notebook, write

IMPORTS = "%%pipeline setup --packages numpy\nimport random\nimport math\n"
PARAMS = "%%pipeline params\nlr = 0.1\n"
HELPERS = "%%pipeline setup\ndef root(v):\n    return math.sqrt(v) + random.random() * 0\n"
MORE_PARAMS = "%%pipeline params\nlabel = 'run'\n"
STEPS = ["%%component a\nx = root(lr * 40)\n", "%%component b\ny = f'{label}: {x:.1f}'\n"]


def _cli_compile(path, out):
    subprocess.run(
        [sys.executable, "-m", "jupyter_mlops.cli", "compile", str(path), "-o", str(out)],
        check=True,
        capture_output=True,
    )
    return out.read_bytes()


def test_rerunning_cells_with_ids_replaces_them_and_compiles_what_the_cli_compiles(tmp_path):
    nb = notebook(["%load_ext jupyter_mlops", IMPORTS, PARAMS, HELPERS, MORE_PARAMS, *STEPS])
    path = write(nb, tmp_path / "many.ipynb")
    ids = [cell.id for cell in nb.cells]
    session = KernelSession(tmp_path, env={"JPY_SESSION_NAME": str(path)})
    try:
        # The user runs the notebook, then edits and re-runs some cells, as in JupyterLab.
        session.run("%load_ext jupyter_mlops", ids[0])
        session.run(IMPORTS.replace("import math\n", ""), ids[1])  # first version lacks math
        session.run(PARAMS.replace("0.1", "0.3"), ids[2])
        session.run(HELPERS, ids[3])
        session.run(MORE_PARAMS, ids[4])
        session.run("%%component first\nx = root(lr * 40)\n", ids[5])  # later renamed to `a`
        session.run(STEPS[1], ids[6])
        for index in (1, 2, 5):  # the cells as saved: each replaces its earlier version
            reply, shown = session.run(nb.cells[index].source, ids[index])
            assert reply["status"] == "ok", shown
        assert session.value("round(x, 6)") == "2.0"
        reply, shown = session.run(f"%pipeline compile {tmp_path / 'kernel.yaml'}")
        assert reply["status"] == "ok", shown
    finally:
        session.close()
    kernel = (tmp_path / "kernel.yaml").read_bytes()
    assert kernel == _cli_compile(path, tmp_path / "cli.yaml")
    steps = yaml.safe_load(kernel)["root"]["dag"]["tasks"]
    assert "first" not in steps and "a" in steps  # the renamed cell's old step is gone


def test_nbclient_without_ids_compiles_what_the_cli_compiles(tmp_path):
    nb = notebook(
        [
            "%load_ext jupyter_mlops",
            IMPORTS,
            PARAMS,
            HELPERS,
            MORE_PARAMS,
            *STEPS,
            "%pipeline compile kernel.yaml",
        ]
    )
    path = write(nb, tmp_path / "many.ipynb")
    execute_notebook(nb, tmp_path, env={"JPY_SESSION_NAME": str(path)})
    assert (tmp_path / "kernel.yaml").read_bytes() == _cli_compile(path, tmp_path / "cli.yaml")


def test_cells_deleted_in_jupyterlab_leave_the_pipeline_as_the_cli_reads_the_saved_notebook(tmp_path):
    extra = "%%pipeline setup\nimport json\n"
    full = notebook(["%load_ext jupyter_mlops", IMPORTS, PARAMS, HELPERS, MORE_PARAMS, *STEPS, extra])
    ids = [cell.id for cell in full.cells]
    kept = [0, 1, 2, 3, 5]  # the second params cell, step b and the last setup cell are deleted
    saved = notebook([full.cells[i].source for i in kept])
    for index, cell in zip(kept, saved.cells, strict=True):
        cell.id = ids[index]
    path = write(saved, tmp_path / "many.ipynb")
    session = KernelSession(tmp_path, env={"JPY_SESSION_NAME": str(path)})
    try:
        for cell_id, cell in zip(ids, full.cells, strict=True):
            reply, shown = session.run(cell.source, cell_id)
            assert reply["status"] == "ok", shown
        # JupyterLab sends the ids of cells deleted since the last execution with the next one.
        reply, shown = session.run("%pipeline show", deleted=[ids[4], ids[6], ids[7]])
        assert "Pipeline 'many': 1 steps" in shown, shown
        reply, shown = session.run(f"%pipeline compile {tmp_path / 'kernel.yaml'}")
        assert reply["status"] == "ok", shown
    finally:
        session.close()
    assert (tmp_path / "kernel.yaml").read_bytes() == _cli_compile(path, tmp_path / "cli.yaml")


def test_several_steps_defined_by_one_cell_in_a_loop_are_all_kept(tmp_path):
    session = KernelSession(tmp_path)
    try:
        session.run("%load_ext jupyter_mlops", "load")
        loop = (
            "for n in ('a', 'b', 'c'):\n    get_ipython().run_cell_magic('component', n, f'{n}_v = 1\\n')\n"
        )
        for _ in range(2):  # and re-running the cell changes nothing
            reply, shown = session.run(loop, "loop")
            assert reply["status"] == "ok", shown
        reply, shown = session.run("%pipeline show")
        assert "Pipeline 'pipeline': 3 steps" in shown, shown
    finally:
        session.close()
