"""`jupyter-mlops schedule ...`, `jupyter-mlops scheduler` and `%pipeline schedule` from a real kernel."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from jupyter_mlops.backends.local import LocalBackend
from jupyter_mlops.compiler import compile_yaml
from jupyter_mlops.notebook.workspace import Workspace
from jupyter_mlops.schedules import schedule
from tests.kernel.kernel_notebooks import KernelSession


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "JUPYTER_MLOPS_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "jupyter_mlops.cli", *args], env=env, capture_output=True,
                          text=True, timeout=300)  # fmt: skip


def _pipeline() -> object:
    ws = Workspace("nightly")
    ws.define_params("scale = 2\n", "params")
    ws.define_component("train", "log_metric('score', 1.0 * scale)\n", "train")
    return ws.active


def test_the_schedule_commands_add_list_pause_resume_delete(tmp_path: Path) -> None:
    home = tmp_path / "home"
    spec = tmp_path / "nightly.yaml"
    spec.write_text(compile_yaml(_pipeline()))  # type: ignore[arg-type]
    added = _cli(home, "schedule", "add", str(spec), "0 3 * * *", "--name", "n1", "--tz", "Europe/Paris",
                 "-p", "scale=3")  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert "n1" in added.stdout and "Europe/Paris" in added.stdout and "active" in added.stdout
    listed = _cli(home, "schedule", "list").stdout
    assert "0 3 * * *" in listed and "never" in listed
    assert "Schedule 'n1' is paused." in _cli(home, "schedule", "pause", "n1").stdout
    assert "paused" in _cli(home, "schedule", "list").stdout
    assert "Schedule 'n1' is active." in _cli(home, "schedule", "resume", "n1").stdout
    bad = _cli(home, "schedule", "add", str(spec), "every night")
    assert bad.returncode == 2 and "is not a cron expression" in bad.stderr
    missing = _cli(home, "schedule", "pause", "nope")
    assert missing.returncode == 2 and "no schedule 'nope'" in missing.stderr and "n1" in missing.stderr
    assert "Schedule 'n1' is deleted." in _cli(home, "schedule", "delete", "n1").stdout
    assert "No schedules" in _cli(home, "schedule", "list").stdout


def test_the_headless_scheduler_fires_what_is_due(tmp_path: Path) -> None:
    home = tmp_path / "home"
    schedule(_pipeline(), "* * * * *", name="minutely", backend=LocalBackend(home), working_dir=tmp_path,
             now=time.time() - 120)  # fmt: skip
    once = _cli(home, "scheduler", "--once")
    assert once.returncode == 0, once.stderr
    assert "minutely  run " in once.stdout
    assert len(LocalBackend(home).list_runs(experiment="minutely").runs) == 1


def test_schedule_magics_in_a_kernel(tmp_path: Path) -> None:
    home = tmp_path / "home"
    kernel = KernelSession(tmp_path, env={"JUPYTER_MLOPS_HOME": str(home)})
    try:
        for i, cell in enumerate(["%load_ext jupyter_mlops", "%%pipeline params\nscale = 2\n",
                                  "%%component train\nlog_metric('score', 1.0 * scale)\n"]):  # fmt: skip
            reply, shown = kernel.run(cell, cell_id=f"c{i}")
            assert reply["status"] == "ok", shown
        reply, shown = kernel.run('%pipeline schedule "0 3 * * *" --name nightly scale=4', "c3")
        assert reply["status"] == "ok", shown
        assert "Scheduled a snapshot of pipeline" in shown and "'nightly': 0 3 * * * (UTC)" in shown
        reply, shown = kernel.run("%pipeline schedules", "c4")
        assert "nightly" in shown and "active" in shown
        reply, shown = kernel.run("%pipeline schedule pause nightly", "c5")
        assert "Schedule 'nightly' is paused." in shown
        reply, shown = kernel.run('%pipeline schedule "0 3 * * *" --name other nope=1', "c6")
        assert reply["status"] == "error" and "has no parameter nope (parameters: scale)" in shown
    finally:
        kernel.close()
    from jupyter_mlops.schedules import schedules

    (made,) = schedules(LocalBackend(home))
    assert made.record.arguments == {"scale": 4} and made.record.paused
