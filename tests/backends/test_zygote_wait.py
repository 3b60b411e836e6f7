"""A run waiting for its new zygote (its steps' imports loading, up to ZYGOTE_WAIT_S) does not hold up
the runner service: other kernels' runs start and finish, and a ping (`%pipeline backend`, the
server's status) is answered, meanwhile; the waiting run is started from the zygote once it is ready."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import pytest
from waiting import wait_until

from jupyter_mlops.backends.local import LocalBackend
from jupyter_mlops.backends.service_address import socket_path
from jupyter_mlops.backends.service_client import _ask
from jupyter_mlops.models import RunState

from . import pipelines, zygote_pipelines
from .contract import explain, finished
from .pipelines import compiled


@pytest.fixture(autouse=True)
def service(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUPYTER_MLOPS_RUNNER", "service")


def test_the_service_serves_others_while_a_run_waits_for_its_zygote(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    modules, gate, started = tmp_path / "modules", tmp_path / "gate", tmp_path / "import-started"
    modules.mkdir()
    (modules / "gatedmod.py").write_text(
        f"import os, time\nopen({str(started)!r}, 'a').close()\n"
        f"while not os.path.exists({str(gate)!r}):\n    time.sleep(0.02)\nVALUE = 7\n"
    )
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(modules), os.environ.get("PYTHONPATH", "")]))
    backend = LocalBackend(home)
    arith = compiled(pipelines.arith)
    assert finished(backend, backend.submit(arith, cache=False).id).state is RunState.SUCCEEDED  # service up

    submitted: dict[str, Any] = {}
    gated = compiled(zygote_pipelines.gated_pair)
    waiting = threading.Thread(target=lambda: submitted.update(id=backend.submit(gated, cache=False).id))
    waiting.start()
    try:
        wait_until(started.exists, 60, "the zygote to begin importing the run's module")
        # the run waits for that zygote; the service answers others meanwhile
        assert _ask(socket_path(home), {"op": "ping"}, 60.0)["runs"] == 1  # the waiting run
        other = LocalBackend(home)  # another kernel
        run = finished(other, other.submit(arith, {"a": 5}, cache=False).id)
        assert run.state is RunState.SUCCEEDED, explain(run)
        assert waiting.is_alive() and "id" not in submitted  # still waiting for its zygote
    finally:
        gate.write_text("open")
        waiting.join(120)
    run = finished(backend, submitted["id"])
    assert run.state is RunState.SUCCEEDED, explain(run)
    assert [s.outputs["Output"] for s in run.steps] == [7, 7]
