"""While Jupyter runs, its server extension fires the local backend's due schedules."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from traitlets.config import Config

from jupyter_mlops.backends.local import LocalBackend
from jupyter_mlops.notebook.workspace import Workspace
from jupyter_mlops.schedules import schedule
from tests.waiting import wait_until


@pytest.fixture
def scheduled(mlops_home: Path, tmp_path: Path) -> str:
    """A schedule made three minutes ago, due every minute: the server finds a time due at once."""
    ws = Workspace("every-minute")
    ws.define_component("train", "log_metric('score', 1.0)\n", "train")
    made = schedule(ws.active, "* * * * *", name="minutely", backend=LocalBackend(mlops_home),
                    working_dir=tmp_path, now=time.time() - 180)  # fmt: skip
    return made.record.id


@pytest.fixture
def jp_server_config(scheduled: str, jp_server_config: Config) -> Any:
    return jp_server_config


async def test_the_server_fires_a_due_schedule_once(jp_serverapp: Any, mlops_home: Path) -> None:
    (app,) = jp_serverapp.extension_manager.extension_apps["jupyter_mlops"]
    assert app._schedules is not None
    backend = LocalBackend(mlops_home)
    wait_until(lambda: backend.list_runs(experiment="minutely").runs, what="the schedule's run")
    runs = backend.list_runs(experiment="minutely").runs
    assert len(runs) == 1 and runs[0].name.startswith("minutely-")  # the missed minutes collapse into one


class TestWithSchedulesOff:
    @pytest.fixture
    def jp_server_config(self, scheduled: str, jp_server_config: Config) -> Any:
        jp_server_config.MlopsExtensionApp.run_schedules = False
        return jp_server_config

    async def test_a_server_told_not_to_fire_schedules_starts_no_scheduler(self, jp_serverapp: Any) -> None:
        (app,) = jp_serverapp.extension_manager.extension_apps["jupyter_mlops"]
        assert app.run_schedules is False and app._schedules is None
