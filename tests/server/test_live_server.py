"""The extension in a real `jupyter lab` process: schemathesis against openapi.yaml finds no 5xx, and a
server restart in the middle of a run loses nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
from waiting import wait_until

from tests.browser.lab_process import LabServer

from .conftest import LONG_STEP, TWO_STEPS, write_notebook

# Bounded so the whole schemathesis run stays well under a minute on two shared cores.
MAX_EXAMPLES = 15


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[LabServer]:
    server = LabServer(base_dir=tmp_path)
    server.start()
    yield server
    server.stop()


def wait_for(lab: LabServer, run_id: str, states: set[str], timeout: float = 180.0) -> dict[str, Any]:
    def reached() -> dict[str, Any] | None:
        run: dict[str, Any] = lab.api(f"mlops/api/runs/{run_id}")
        return run if run["state"] in states else None

    return wait_until(reached, timeout, f"run {run_id} to reach {sorted(states)}", interval=0.3)


def test_schemathesis_finds_no_server_error(lab: LabServer, tmp_path: Path) -> None:
    # Some real runs, so generated run ids, steps and paths meet data as well as 404s.
    write_notebook(lab.root_dir / "sums.ipynb", TWO_STEPS)
    run = lab.api("mlops/api/runs", "POST", {"notebook": "sums.ipynb"})
    wait_for(lab, run["id"], {"SUCCEEDED", "FAILED"})
    spec = files("jupyter_mlops.server").joinpath("openapi.yaml")

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "run",
            str(spec),
            "--url",
            f"{lab.url}mlops/api",
            "--header",
            f"Authorization: token {lab.token}",
            "--checks",
            "not_a_server_error",
            "--max-examples",
            str(MAX_EXAMPLES),
            "--phases",
            "examples,coverage,fuzzing",
            "--request-timeout",
            "30",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,  # schemathesis leaves a .schemathesis/ folder in its working directory
    )

    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "generated" in result.stdout and "Server error" not in result.stdout, result.stdout[-3000:]


@pytest.fixture(params=["process", "service"])
def runner_lab(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[LabServer]:
    """A server whose runs go to a runner process each, or to the warm runner service."""
    monkeypatch.setenv("JUPYTER_MLOPS_RUNNER", request.param)
    server = LabServer(base_dir=tmp_path)
    server.start()
    yield server
    server.stop()


def test_a_run_survives_a_restart_of_the_jupyter_server(runner_lab: LabServer) -> None:
    lab = runner_lab
    notebook = [*LONG_STEP[:1], LONG_STEP[1].replace("time.sleep(60)", "time.sleep(8)\nprint('woke up')")]
    write_notebook(lab.root_dir / "nap.ipynb", notebook)
    run = lab.api("mlops/api/runs", "POST", {"notebook": "nap.ipynb", "name": "through a restart"})
    wait_for(lab, run["id"], {"RUNNING"})

    lab.stop()
    lab.start()

    finished = wait_for(lab, run["id"], {"SUCCEEDED", "FAILED", "CANCELED"})
    assert finished["state"] == "SUCCEEDED", finished
    log = lab.api(f"mlops/api/runs/{run['id']}/steps/nap/log")
    assert "napping" in log["text"] and "woke up" in log["text"]
    listed = lab.api("mlops/api/runs")
    assert [r["name"] for r in listed["runs"]] == ["through a restart"]
    from jupyter_mlops.store import RunStore

    service = RunStore(lab.mlops_home).runner_record(run["id"])["service"]
    assert (service is not None) is (os.environ["JUPYTER_MLOPS_RUNNER"] == "service")
