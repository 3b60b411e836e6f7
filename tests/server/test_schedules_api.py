"""`GET mlops/api/schedules` and `POST mlops/api/schedules/{name}/pause|resume`, for the sidebar; every
answer is checked against openapi.yaml."""

from __future__ import annotations

import time
from pathlib import Path

from jupyter_mlops.backends.local import LocalBackend
from jupyter_mlops.notebook.workspace import Workspace
from jupyter_mlops.schedules import schedule

from .conftest import MlopsApi


async def test_schedules_are_listed_and_paused_and_resumed(
    api: MlopsApi, mlops_home: Path, tmp_path: Path
) -> None:
    assert await api.get("schedules") == {"schedules": []}
    ws = Workspace("nightly")
    ws.define_params("scale = 2\n", "params")
    ws.define_component("train", "log_metric('score', 1.0 * scale)\n", "train")
    schedule(ws.active, "0 3 * * *", name="nightly", arguments={"scale": 3}, timezone="Europe/Paris",
             backend=LocalBackend(mlops_home), working_dir=tmp_path)  # fmt: skip
    (listed,) = (await api.get("schedules"))["schedules"]
    assert listed["name"] == "nightly" and listed["cron"] == "0 3 * * *"
    assert listed["timezone"] == "Europe/Paris" and listed["arguments"] == {"scale": 3}
    assert listed["paused"] is False and listed["last"] is None and listed["next_run"] > time.time()
    code, paused = await api.call("POST", "schedules/nightly/pause")
    assert code == 200 and paused["paused"] is True and paused["next_run"] is None
    code, resumed = await api.call("POST", "schedules/nightly/resume")
    assert code == 200 and resumed["paused"] is False
    code, missing = await api.call("POST", "schedules/nope/pause")
    assert code == 404 and "no schedule 'nope'" in missing["message"] and "nightly" in missing["message"]
    code, other = await api.call("POST", "schedules/nightly/delete")
    assert code == 404 and "paused or resumed" in other["message"]
    status = await api.get("status")
    assert status["capabilities"]["schedules"] is True
