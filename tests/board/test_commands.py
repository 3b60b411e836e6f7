"""`%pipeline tensorboard`, `mlops.tensorboard(...)` where no server proxies it, and
`jupyter-mlops tensorboard` from a shell."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import psutil
import pytest
from IPython.testing.globalipapp import start_ipython

import jupyter_mlops as mlops
import jupyter_mlops.tensorboards.files
from jupyter_mlops.errors import UsageError


@pytest.fixture
def no_server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A kernel with no Jupyter server of ours above it (a plain IPython, a Kaggle-like Jupyter)."""
    monkeypatch.setenv("JPY_PARENT_PID", "1")
    monkeypatch.setenv("JUPYTER_MLOPS_HOME", str(tmp_path / "home"))


def test_without_our_server_extension_the_message_says_what_to_do(no_server: None, tmp_path: Path) -> None:
    assert callable(mlops.tensorboard)
    logdir = mlops.log_embedding([[1.0, 2.0]], ["a"], logdir=tmp_path / "logs")
    view = mlops.tensorboard(logdir)
    assert view.how == "unavailable" and view.url is None
    text = view._repr_html_()
    assert "jupyter server extension enable jupyter_mlops" in text and "jupyter-server-proxy" in text
    assert f"jupyter-mlops tensorboard {tmp_path / 'logs'}" in text
    assert "<iframe" not in text


def test_bad_targets_are_usage_errors(no_server: None, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="is not a folder"):
        mlops.tensorboard(tmp_path / "missing")
    with pytest.raises(UsageError, match="not both"):
        mlops.tensorboard(tmp_path, run="abc")
    with pytest.raises(UsageError, match="step= needs run="):
        mlops.tensorboard(step="train")


def test_the_magic_shows_the_session_logdir_or_a_run(no_server: None, tmp_path: Path) -> None:
    from executor.notebook_cells import notebook_pipeline
    from IPython.core.error import UsageError as MagicError

    ip = start_ipython()
    assert ip is not None
    ip.run_line_magic("load_ext", "jupyter_mlops")
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


def test_the_command_line_serves_a_logdir_until_stopped(tmp_path: Path) -> None:
    logdir = mlops.log_embedding([[1.0, 2.0], [3.0, 4.0]], ["a", "b"], logdir=tmp_path / "logs" / "run")
    env = {**os.environ, "JUPYTER_MLOPS_TENSORBOARD_DIR": str(tmp_path / "registry")}
    process = subprocess.Popen(
        [sys.executable, "-m", "jupyter_mlops.cli", "tensorboard", str(Path(logdir).parent)],
        stdout=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.search(r"at (http://127\.0\.0\.1:\d+/)", line)
        assert match, line
        with urllib.request.urlopen(match.group(1) + "data/plugin/projector/runs", timeout=60) as answer:
            assert answer.read() == b'["run"]'
        children = psutil.Process(process.pid).children(recursive=True)
        assert children  # TensorBoard
    finally:
        process.terminate()
        assert process.wait(30) == 0
    _, alive = psutil.wait_procs(children, timeout=30)
    assert not alive  # stopped with the command
