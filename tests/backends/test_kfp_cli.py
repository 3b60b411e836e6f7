"""`jupyter-mlops run/runs/status/logs --backend kfp --host URL` from a shell, against the stand-in KFP
server (tests/kfp_standin): the same commands as on local, and a one-line error where the KFP API
cannot answer (no traceback)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from kfp_standin import StandIn

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def standin(tmp_path: Path, home: Path) -> Iterator[StandIn]:
    server = StandIn(tmp_path / "kfp", tokens={"t0ken": {"team"}}, multi_user=True)
    server.start()
    yield server
    server.stop()


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": f"{REPO}:{os.environ.get('PYTHONPATH', '')}"}
    return subprocess.run(
        [sys.executable, "-m", "jupyter_mlops.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def test_the_cli_runs_and_lists_on_kfp(
    standin: StandIn, specs: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = tmp_path / "arith.yaml"
    spec.write_text(specs["arith"])
    target = ["--backend", "kfp", "--host", standin.url, "--namespace", "team"]
    token = tmp_path / "token"  # the token comes from the service-account file, as in a Kubeflow pod
    token.write_text("t0ken\n")
    monkeypatch.setenv("KF_PIPELINES_SA_TOKEN_PATH", str(token))

    ran = _cli("run", str(spec), "-p", "a=4", "--wait", "--name", "from-shell", *target)

    assert ran.returncode == 0, ran.stderr
    assert "submitted to the kfp backend" in ran.stdout and "SUCCEEDED" in ran.stdout
    listed = _cli("runs", *target)
    assert listed.returncode == 0 and "from-shell" in listed.stdout, listed.stderr
    [run_id] = list(standin.cluster.runs)
    logs = _cli("logs", run_id, "add", *target)  # the pod's log, through the KFP UI's endpoint
    assert logs.returncode == 0 and "adding 4 and 2" in logs.stdout, logs.stderr
    wrong = _cli("runs", "--backend", "kfp", "--host", standin.url, "--namespace", "other")
    assert wrong.returncode != 0 and "Traceback" not in wrong.stderr
    assert "denied access to namespace 'other'" in wrong.stderr
