"""The README's 30-second tour runs as written, pasted cell by cell into a notebook (comments too)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.kernel.kernel_notebooks import execute_notebook, notebook, outputs_text

README = Path(__file__).resolve().parents[2] / "README.md"


def tour_cells() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## A 30-second tour", 1)[1].split("\n## ", 1)[0]
    return [block.strip("\n") for block in re.findall(r"```python\n(.*?)```", section, flags=re.S)]


def test_the_tour_runs_as_written(tmp_path: Path) -> None:
    cells = tour_cells()
    assert cells[0].startswith("%load_ext jupyter_mlops") and len(cells) >= 5
    check = (
        "run.wait(timeout=300)\n"
        "assert run.state == 'SUCCEEDED', (run.state, run.logs('train'))\n"
        "print('accuracy', run.metrics)"
    )
    nb = notebook([*cells, check])
    execute_notebook(nb, tmp_path, env={"JUPYTER_MLOPS_HOME": str(tmp_path / "home")})
    shown = outputs_text(nb.cells[-2])
    assert "train" in shown and "load" in shown  # %pipeline show and %pipeline runs said something
    assert "train_accuracy" in outputs_text(nb.cells[-1])
    assert list(tmp_path.glob("*.yaml"))  # %pipeline compile wrote the pipeline's YAML
