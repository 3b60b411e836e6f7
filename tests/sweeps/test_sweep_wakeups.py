"""The sweep driver is woken by the local backend's pushed run changes (run_notify), not by a clock: with
its periodic re-read pushed out to an hour, a sweep still runs to its end, and a stop still lands at once
(it wakes the driver itself). Polling is pushed out too, so a driver that ignored the pushes would sit
still: the timeouts below only keep such a failure from hanging the suite."""

from __future__ import annotations

from pathlib import Path

import pytest

from jupyter_mlops.backends.local import LocalBackend
from jupyter_mlops.sweeps import driver, sweep
from tests.waiting import wait_until

from .pipelines import quadratic_pipeline

HOUR = 3600.0


@pytest.fixture
def backend(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LocalBackend:
    monkeypatch.setenv("JUPYTER_MLOPS_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(driver, "WATCH_CHECK_S", HOUR)  # no re-reads: only pushed changes wake it
    monkeypatch.setattr(driver, "POLL_S", HOUR)  # and no polling either
    return LocalBackend(tmp_path / "home")


def test_pushed_run_changes_drive_a_sweep_to_its_end(backend: LocalBackend, tmp_path: Path) -> None:
    assert backend.watch().pushed  # this machine has FIFOs: changes are pushed
    s = sweep(quadratic_pipeline(), {"x": [1, 2, 3, 4], "y": 0.5}, metric="score", parallel=2,
              name="pushed", backend=backend, working_dir=tmp_path)  # fmt: skip
    s.wait(timeout=300)
    assert s.state == "FINISHED" and [t.state for t in s.trials] == ["SUCCEEDED"] * 4
    assert s.best is not None and s.best.params["x"] == 3


def test_a_stop_wakes_the_driver(backend: LocalBackend, tmp_path: Path) -> None:
    s = sweep(quadratic_pipeline(sleep=60.0), {"x": [1, 2, 3]}, metric="score", parallel=1,
              name="woken", backend=backend, working_dir=tmp_path)  # fmt: skip
    wait_until(lambda: s.trials and s.trials[0].state == "RUNNING", 60, "the first trial started")
    s.stop(wait=False)
    s.wait(timeout=120)
    assert s.state == "STOPPED" and [t.state for t in s.trials] == ["CANCELED"]
