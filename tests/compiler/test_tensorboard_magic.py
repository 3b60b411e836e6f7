"""`%pipeline tensorboard [LOGDIR | --run RUN [--step STEP]]` in a real IPython shell."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import jupyter_mlops as mlops


@pytest.fixture
def no_server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A kernel with no Jupyter server of ours above it, its runs and registry in tmp_path."""
    monkeypatch.setenv("JPY_PARENT_PID", "1")
    monkeypatch.setenv("JUPYTER_MLOPS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("JUPYTER_MLOPS_TENSORBOARD_DIR", str(tmp_path / "registry"))


def test_the_magic_shows_the_session_logdir_or_a_run(ip: Any, no_server: None, tmp_path: Path) -> None:
    from executor.notebook_cells import notebook_pipeline
    from IPython.core.error import UsageError as MagicError

    ip.run_cell("log_metric('loss', 0.5)")
    view = ip.run_line_magic("pipeline", "tensorboard")
    assert view.record.logdir == mlops.logdir() and view.record.title == "this notebook session"

    cells = ["%%component one\nlog_metric('a', 1.0)", "%%component two --after one\nlog_metric('b', 2.0)"]
    run = mlops.run(notebook_pipeline(cells), working_dir=tmp_path).wait(timeout=300)
    step_view = ip.run_line_magic("pipeline", f"tensorboard --run {run.id[:6]} --step two")
    assert step_view.record.title == f"run {run.id} step two"
    assert [a.uri for a in run.backend.artifacts(run.id, "two") if a.name == "tensorboard"] == [
        step_view.record.logdir
    ]
    whole = ip.run_line_magic("pipeline", f"tensorboard --run {run.id}")
    assert Path(step_view.record.logdir).is_relative_to(whole.record.logdir)  # every step's logs
    with pytest.raises(MagicError, match="nosuchrun"):
        ip.run_line_magic("pipeline", "tensorboard --run nosuchrun")
    with pytest.raises(MagicError, match="no step 'three'"):
        ip.run_line_magic("pipeline", f"tensorboard --run {run.id} --step three")
