"""The server extension on a KFP API server alone (no KFP UI server in front: no pod logs, no ML
Metadata, no artifacts), against the stand-in with `ui=False`: a step's log answer is a calm note,
once, that says where the log is (the run's page in the KFP UI), marked complete so the sidebar stops
asking; it is not an error the sidebar would show in red on every poll."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kfp_standin import StandIn

from .conftest import TWO_STEPS, MlopsApi, write_notebook


@pytest.fixture
def standin(tmp_path: Path) -> Iterator[StandIn]:
    server = StandIn(tmp_path / "kfp-standin", ui=False)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def jp_server_config(jp_server_config: Any, standin: StandIn) -> Any:
    jp_server_config.MlopsExtensionApp.backend = "kfp"
    jp_server_config.MlopsExtensionApp.backend_options = {"host": standin.url}
    return jp_server_config


async def test_a_step_log_on_the_api_server_alone_is_a_note_not_an_error(
    api: MlopsApi, jp_root_dir: Path, standin: StandIn
) -> None:
    write_notebook(jp_root_dir / "sums.ipynb", TWO_STEPS)
    _, created = await api.call("POST", "runs", {"notebook": "sums.ipynb"})
    run = await api.wait_for(created["id"], {"SUCCEEDED", "FAILED"})
    assert run["state"] == "SUCCEEDED", run
    assert (await api.get("status"))["capabilities"]["logs"] is False
    asked = len(standin.requests)  # (the backend probed the log endpoint once, when it connected)

    for hidden in ("show", "hide"):  # the sidebar hides kfp's executor lines by default
        code, log = await api.call("GET", f"runs/{run['id']}/steps/total/log", executor_lines=hidden)
        assert code == 200, log
        assert log["complete"] is True and log["missing"] is True  # nothing more to ask for
        assert log["next_offset"] == log["offset"] == 0
        assert f"{standin.url}/#/runs/details/{run['id']}" in log["text"] and "'total'" in log["text"]
    assert not [
        r for r in standin.requests[asked:] if "/k8s/pod/logs" in r
    ]  # nor asked for what is not there
