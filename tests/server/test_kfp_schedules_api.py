"""A server on the kfp backend lists, pauses and resumes its schedules (KFP recurring runs on the
stand-in KFP server) in the same REST shape as local ones (checked against openapi.yaml)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kfp_standin import StandIn

from jupyter_mlops.backends.kfp import KfpBackend
from jupyter_mlops.notebook.workspace import Workspace
from jupyter_mlops.schedules import schedule

from .conftest import MlopsApi


@pytest.fixture
def standin(tmp_path: Path) -> Iterator[StandIn]:
    server = StandIn(tmp_path / "kfp-standin")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def jp_server_config(jp_server_config: Any, standin: StandIn) -> Any:
    jp_server_config.MlopsExtensionApp.backend = "kfp"
    jp_server_config.MlopsExtensionApp.backend_options = {"host": standin.url}
    return jp_server_config


async def test_kfp_schedules_are_listed_paused_and_resumed(api: MlopsApi, standin: StandIn) -> None:
    assert await api.get("schedules") == {"schedules": []}
    ws = Workspace("nightly")
    ws.define_params("scale = 2\n", "params")
    ws.define_component("train", "log_metric('score', 1.0 * scale)\n", "train")
    backend = KfpBackend(host=standin.url)
    try:
        schedule(ws.active, "30 1 * * *", name="nightly", arguments={"scale": 3}, backend=backend)
    finally:
        backend.close()
    (listed,) = (await api.get("schedules"))["schedules"]
    assert (listed["name"], listed["cron"], listed["timezone"]) == ("nightly", "30 1 * * *", "UTC")
    assert listed["arguments"] == {"scale": 3} and listed["experiment"] == "nightly"
    assert listed["paused"] is False and listed["last"] is None and listed["next_run"] % 86400 == 5400
    code, paused = await api.call("POST", "schedules/nightly/pause")
    assert code == 200 and paused["paused"] is True and paused["next_run"] is None
    (item,) = standin.recurring.items.values()
    assert item.mode == "DISABLE"  # paused on the KFP server itself
    code, resumed = await api.call("POST", "schedules/nightly/resume")
    assert code == 200 and resumed["paused"] is False and item.mode == "ENABLE"
    code, missing = await api.call("POST", "schedules/nope/pause")
    assert code == 404 and "no schedule 'nope' on the KFP server" in missing["message"]
    status = await api.get("status")
    assert status["capabilities"]["schedules"] is True
