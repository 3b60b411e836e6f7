""" "Open in TensorBoard" in the notebook run view's step panel: there when the kernel's Jupyter server
proxies TensorBoard and the step has logs on this machine, absent otherwise."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from executor.notebook_cells import notebook_pipeline

import jupyter_mlops as mlops
from jupyter_mlops.tensorboards.registry import announce_server, lookup
from jupyter_mlops.widgets import run_view


def test_a_step_with_logs_gets_a_link_under_our_server_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JUPYTER_MLOPS_HOME", str(tmp_path / "home"))
    cells = ["%%component fit\nlog_metric('loss', 0.5)", "%%component quiet --after fit\nx = 1"]
    run = mlops.run(notebook_pipeline(cells), working_dir=tmp_path).wait(timeout=300)
    view = run_view(run.backend, run.id, live=False)

    monkeypatch.setenv("JPY_PARENT_PID", str(os.getpid()))
    assert view.step_detail("fit")["tensorboard"] is None  # no server of ours above this "kernel"

    marker = announce_server("/user/ana/")  # as the server extension does when it starts
    try:
        link = view.step_detail("fit")["tensorboard"]
        assert link is not None and link.startswith("/user/ana/mlops/tensorboard/")
        record = lookup(link.rstrip("/").rsplit("/", 1)[1])
        assert record is not None and (Path(record.logdir) / "..").resolve().name == "fit"
        assert view.step_detail("quiet")["tensorboard"] is None  # it logged nothing
    finally:
        marker.unlink()
