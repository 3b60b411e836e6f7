"""Metric histories in TensorBoard, and a run's or a step's logs: `log_metric` in a plain cell writes
event files in the session's `logdir()`; a pipeline step's `log_metric`, `log_embedding` and `logdir()`
files are kept with the run and served for `--run RUN [--step STEP]`."""

from __future__ import annotations

import time
import urllib.error
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from executor.notebook_cells import notebook_pipeline

import jupyter_mlops as mlops
from jupyter_mlops.errors import UsageError
from jupyter_mlops.tensorboards.logdirs import run_logdirs, served_folder

from .conftest import Board

Start = Callable[[Any], Board]


def eventually(read: Callable[[], Any], deadline_s: float = 60.0) -> Any:
    """`read()` once it returns something truthy (TensorBoard loads event files in the background)."""
    end = time.monotonic() + deadline_s
    while True:
        try:
            value = read()
        except urllib.error.HTTPError:
            value = None
        if value or time.monotonic() > end:
            return value
        time.sleep(0.2)


def scalars(board: Board, run: str, tag: str) -> list[tuple[int, float]]:
    points = eventually(lambda: board.json("data/plugin/scalars/scalars", run=run, tag=tag))
    return [(step, value) for _, step, value in points or []]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("JUPYTER_MLOPS_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("JUPYTER_MLOPS_LOGDIR", raising=False)
    monkeypatch.delenv("JUPYTER_MLOPS_METRICS_FILE", raising=False)
    return tmp_path / "home"


def test_session_metrics_are_a_history_in_tensorboard(home: Path, tensorboard: Start) -> None:
    for loss in (0.875, 0.5, 0.25):  # exact in float32, as TensorBoard keeps them
        mlops.log_metric("loss", loss)  # no step: the points count up
    mlops.log_metric("accuracy", 0.75, step=10)

    logdir = mlops.logdir()
    assert Path(logdir).is_relative_to(home)
    board = tensorboard(logdir)
    assert scalars(board, ".", "loss") == [(0, 0.875), (1, 0.5), (2, 0.25)]
    assert scalars(board, ".", "accuracy") == [(10, 0.75)]


STEP_CELL = """%%component train
import numpy as np
for epoch, loss in enumerate([1.0, 0.5, 0.125]):
    log_metric("loss", loss, step=epoch)
mlops.log_embedding(np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.5, 0.5]]), ["w", "x", "y", "z"])
with open(logdir() + "/notes.txt", "w") as f:
    f.write("written by the step")
"""
OTHER_CELL = """%%component evaluate --after train
for i, acc in enumerate([0.5, 0.75]):
    log_metric("accuracy", acc, step=i)
"""


def test_a_steps_metrics_and_embeddings_are_served_for_the_run(
    home: Path, tmp_path: Path, tensorboard: Start
) -> None:
    pipeline = notebook_pipeline([STEP_CELL, OTHER_CELL])
    run = mlops.run(pipeline, working_dir=tmp_path).wait(timeout=300)
    assert run.state.value == "SUCCEEDED", run.summary()

    run_id, folders = run_logdirs(run.backend, run.id[:6])
    assert run_id == run.id and sorted(folders) == ["evaluate", "train"]
    assert (Path(folders["train"]) / "notes.txt").read_text() == "written by the step"

    board = tensorboard(served_folder(folders))  # what `%pipeline tensorboard --run RUN` serves
    # train called logdir(): its folder is an output artifact; evaluate's is the local backend's
    assert scalars(board, "train/mlops_logdir", "loss") == [(0, 1.0), (1, 0.5), (2, 0.125)]
    assert scalars(board, "evaluate/tensorboard", "accuracy") == [(0, 0.5), (1, 0.75)]
    assert board.metadata("train/mlops_logdir", "embedding:00000") == [["w"], ["x"], ["y"], ["z"]]
    assert board.tensor("train/mlops_logdir", "embedding:00000") == [[0, 1], [1, 0], [1, 1], [0.5, 0.5]]

    _, only = run_logdirs(run.backend, run.id, "evaluate")
    assert list(only) == ["evaluate"]
    with pytest.raises(UsageError, match="no step 'nope'"):
        run_logdirs(run.backend, run.id, "nope")
