"""Stopping a sweep cancels its running trials and starts no more; resuming runs only what is left.
The command line drives the same sweeps."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlops.backends.local import LocalBackend
from jupyter_mlops.compiler import compile_yaml
from jupyter_mlops.errors import UsageError
from jupyter_mlops.sweeps import get_sweep, sweep
from tests.waiting import wait_until

from .pipelines import quadratic_pipeline


@pytest.fixture
def backend(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LocalBackend:
    monkeypatch.setenv("JUPYTER_MLOPS_HOME", str(tmp_path / "home"))
    return LocalBackend(tmp_path / "home")


def test_a_stopped_sweep_cancels_its_running_trials_and_a_resume_finishes_the_rest(
    backend: LocalBackend, tmp_path: Path
) -> None:
    s = sweep(quadratic_pipeline(sleep=1.5), {"x": [0, 1, 2, 3, 4, 5]}, metric="score", parallel=2,
              name="halt", backend=backend, working_dir=tmp_path)  # fmt: skip
    wait_until(lambda: any(t.state == "SUCCEEDED" for t in s.trials), what="a finished trial")
    s.stop()
    assert s.state == "STOPPED"
    trials = s.trials
    canceled = [t for t in trials if t.state == "CANCELED"]
    assert canceled, trials
    for t in canceled:
        assert backend.get(t.run_id or "").state.value in ("CANCELED", "CANCELING")
    succeeded = {t.number: t.run_id for t in trials if t.state == "SUCCEEDED"}
    assert len(trials) < 6  # no trial started after the stop

    resumed = sweep(name="halt", resume=True, backend=backend, wait=True)
    assert resumed.state == "FINISHED"
    final = [t for t in resumed.trials if t.state == "SUCCEEDED"]
    assert sorted(t.params["x"] for t in final) == [0, 1, 2, 3, 4, 5]  # each point once
    assert len([t for t in resumed.trials if t.state != "CANCELED"]) == 6
    assert {t.number: t.run_id for t in final if t.number in succeeded} == succeeded
    assert resumed.best is not None and resumed.best.params["x"] == 3


def test_the_command_line_runs_a_sweep_of_a_yaml_and_prints_the_best(
    backend: LocalBackend, tmp_path: Path
) -> None:
    spec = tmp_path / "quad.yaml"
    spec.write_text(compile_yaml(quadratic_pipeline()))
    env = {**os.environ, "JUPYTER_MLOPS_HOME": str(tmp_path / "home")}
    command = [sys.executable, "-m", "jupyter_mlops.cli"]
    done = subprocess.run(
        [*command, "sweep", str(spec), "x=2..4", "y=0.0,0.5", "--metric", "fit.score", "--name", "cli",
         "--parallel", "3"],
        env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "trials are runs in experiment 'cli'" in done.stdout
    assert done.stdout.count("  trial ") == 6
    assert "Sweep cli  FINISHED  6 trials done  max fit.score" in done.stdout
    best = subprocess.run([*command, "sweep", "--best", "cli"], env=env, capture_output=True, text=True)
    assert json.loads(best.stdout) == {"x": 3, "y": 0.5}
    listing = subprocess.run([*command, "sweeps"], env=env, capture_output=True, text=True)
    assert "cli" in listing.stdout and "6/6" in listing.stdout and "max fit.score" in listing.stdout
    bad = subprocess.run([*command, "sweep", str(spec), "x=a,b", "--metric", "score"], env=env,
                         capture_output=True, text=True)  # fmt: skip
    assert bad.returncode == 2 and "parameter 'x' is an int; 'a' is not one" in bad.stderr
    assert get_sweep("cli", backend=backend).state == "FINISHED"


def test_a_sweep_still_driven_cannot_be_resumed_a_second_time(backend: LocalBackend, tmp_path: Path) -> None:
    s = sweep(quadratic_pipeline(sleep=1.0), {"x": [0, 1, 2, 3]}, metric="score", parallel=1, name="once",
              backend=backend, working_dir=tmp_path)  # fmt: skip
    with pytest.raises(UsageError, match="'once' is still being run by this process"):
        sweep(name="once", resume=True, backend=backend)
    s.stop()
    records = s.records
    record = records.get("once")
    records.claim(record.id, os.getppid(), record.owner_host or "")  # another live process drives it now
    with pytest.raises(UsageError, match=f"'once' is still being run by process {os.getppid()}"):
        sweep(name="once", resume=True, backend=backend)


class _Killed(BaseException):
    """The driver's process dying at one exact point (its kernel killed)."""


class _DyingBackend(LocalBackend):
    """Dies when it is asked to start run `die_on`: before submitting it, or just after."""

    def __init__(self, home: Path, die_on: str, submitted: bool) -> None:
        super().__init__(home)
        self.die_on, self.submitted, self.started = die_on, submitted, ""

    def submit(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("name") == self.die_on and not self.submitted:
            raise _Killed
        info = super().submit(*args, **kwargs)
        if kwargs.get("name") == self.die_on:
            self.started = info.id
            raise _Killed
        return info


@pytest.mark.parametrize("submitted", [True, False], ids=["just-after-submitting", "just-before-submitting"])
def test_a_driver_killed_while_starting_a_trial_leaves_it_to_the_resume_once(
    backend: LocalBackend, tmp_path: Path, submitted: bool
) -> None:
    dying = _DyingBackend(backend.home, "edge-trial-2", submitted)
    with pytest.raises(_Killed):
        sweep(quadratic_pipeline(), {"x": [0, 1, 2, 3, 4, 5]}, metric="score", parallel=2, name="edge",
              backend=dying, working_dir=tmp_path, wait=True)  # fmt: skip
    assert submitted == bool(dying.started)

    resumed = sweep(name="edge", resume=True, backend=backend, wait=True)
    assert resumed.state == "FINISHED"
    assert [(t.number, t.params["x"], t.state) for t in resumed.trials] == [
        (n, n, "SUCCEEDED") for n in range(6)
    ]  # the trial being started when the driver died kept its number and ran once
    runs = backend.list_runs(experiment="edge", limit=50).runs
    assert sorted(r.name for r in runs) == [f"edge-trial-{n}" for n in range(6)]  # one run a point
    if submitted:
        assert resumed.trials[2].run_id == dying.started  # adopted, not run again
