"""`mlops.tensorboard(...)` where no server proxies it, and `jupyter-mlops tensorboard` from a shell
(`%pipeline tensorboard`: tests/compiler/test_tensorboard_magic.py)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import psutil
import pytest

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
