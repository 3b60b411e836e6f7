"""examples/embeddings.ipynb runs top to bottom in a real kernel (here with no Jupyter server of ours
above it: each TensorBoard cell says how to see it instead of drawing an iframe)."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from kernel.kernel_notebooks import execute_notebook

EXAMPLE = Path(__file__).parents[2] / "examples" / "embeddings.ipynb"


@pytest.mark.timeout(600)
def test_the_embeddings_example_runs(tmp_path: Path) -> None:
    shutil.copy(EXAMPLE, tmp_path / EXAMPLE.name)
    nb = nbformat.read(tmp_path / EXAMPLE.name, as_version=4)
    env = {
        "JUPYTER_MLOPS_HOME": str(tmp_path / "home"),
        "JUPYTER_MLOPS_TENSORBOARD_DIR": str(tmp_path / "reg"),
    }
    execute_notebook(nb, tmp_path, env)
    shown = [
        out["data"]["text/html"]
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if "text/html" in out.get("data", {}) and "jupyter-mlops-tensorboard" in out["data"]["text/html"]
    ]
    assert len(shown) == 3 and all("jupyter server extension enable jupyter_mlops" in h for h in shown)
    step_logs = list(
        (tmp_path / "home" / "runs").glob("*/artifacts/embed/mlops_logdir/projector_config.pbtxt")
    )
    assert len(step_logs) == 1 and 'tensor_name: "words:00000"' in step_logs[0].read_text()
    session_configs = list((tmp_path / "home" / "sessions").glob("*/logs/projector_config.pbtxt"))
    [config] = session_configs
    assert "compass:00000" in config.read_text() and "clusters:00000" in config.read_text()
