"""Issue 9, item 2 in a real kernel: setup and params cells accumulate, told apart by the cell id
JupyterLab sends (or, from nbclient, which sends none, by their text); kernel and CLI compile the same
bytes."""

from __future__ import annotations

import subprocess
import sys

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
    assert b"first" not in kernel  # the renamed cell's old step is gone


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
