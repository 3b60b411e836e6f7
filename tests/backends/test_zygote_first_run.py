"""A run whose steps import third-party modules that no zygote holds yet: when several of its steps
import them, the runner service waits for the new zygote and forks the run from it, so its steps start
with them loaded (one import in all, not one per step); a run with one such step does not wait. The
imports are learned from the cells' and setup cell's code (notebook steps carry them as literals)."""

from __future__ import annotations

from pathlib import Path

import nbformat
from cli_runs import cli

PROBE = "import sys\nprint('preloaded', 'markdown' in sys.modules)\nimport markdown\n"


def _run(folder: Path, home: Path, cells: list[str]) -> list[str]:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(c) for c in ["%load_ext jupyter_mlops", *cells]]
    nbformat.write(notebook, folder / "nb.ipynb")

    def run_cli(*args: str) -> str:
        return cli(home, *args, cwd=folder)

    run_cli("run", "nb.ipynb", "--wait", "--no-cache")
    run_id = run_cli("runs", "--limit", "1").splitlines()[1].split()[0]
    steps = [line.split()[1] for line in run_cli("status", run_id).splitlines() if "SUCCEEDED" in line[:20]]
    return [run_cli("logs", run_id, step).strip() for step in steps]


def test_the_first_run_of_several_steps_importing_a_module_starts_them_with_it_loaded(tmp_path: Path) -> None:
    logs = _run(
        tmp_path,
        tmp_path / "home",
        [f"%%component a\n{PROBE}x = 1", f"%%component b\n{PROBE}y = x + 1", f"%%component c\n{PROBE}z = y"],
    )
    assert logs == ["preloaded True"] * 3, logs


def test_a_one_step_run_does_not_wait_for_a_zygote(tmp_path: Path) -> None:
    logs = _run(tmp_path, tmp_path / "home", [f"%%component a\n{PROBE}x = 1"])
    assert logs == ["preloaded False"], logs
