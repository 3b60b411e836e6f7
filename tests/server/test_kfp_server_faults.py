"""The server extension on `backend = kfp` when the KFP server misbehaves, against the stand-in KFP
server (tests/kfp_standin): it goes away mid-run and comes back, the token the server extension holds
expires, a run is deleted on the KFP server. What the sidebar reads (status, runs, a run, its event
stream) says so in one line with the right status, never hangs, and works again afterwards."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kfp_standin import StandIn

from .conftest import LONG_STEP, MlopsApi, write_notebook


@pytest.fixture
def standin(tmp_path: Path) -> Iterator[StandIn]:
    server = StandIn(tmp_path / "kfp-standin", tokens={"notebook-token": {"*"}})
    server.start()
    yield server
    server.stop()


@pytest.fixture
def jp_server_config(jp_server_config: Any, standin: StandIn) -> Any:
    jp_server_config.MlopsExtensionApp.backend = "kfp"
    jp_server_config.MlopsExtensionApp.backend_options = {
        "host": standin.url,
        "existing_token": "notebook-token",
        "timeout": 3.0,
    }
    return jp_server_config


async def _running(api: MlopsApi, root: Path) -> str:
    write_notebook(root / "long.ipynb", LONG_STEP)
    code, created = await api.call("POST", "runs", {"notebook": "long.ipynb"})
    assert code == 201, created
    await api.wait_for(created["id"], {"RUNNING"})
    return str(created["id"])


def _problem(stream: bytes) -> str:
    blocks = [b for b in stream.decode().strip().split("\n\n") if b.strip()]
    assert blocks and blocks[-1].startswith("event: problem"), blocks[-3:]
    return blocks[-1]


async def test_the_kfp_server_going_away_mid_run_and_coming_back(
    api: MlopsApi, jp_root_dir: Path, standin: StandIn
) -> None:
    run_id = await _running(api, jp_root_dir)
    stream = asyncio.ensure_future(api.call("GET", f"runs/{run_id}/events"))
    await asyncio.sleep(1.0)
    port = int(standin.url.rsplit(":", 1)[1])
    standin.stop(close_cluster=False)
    started = time.monotonic()

    code, body = await asyncio.wait_for(stream, timeout=60)  # the open stream ends: no hang
    assert code == 200 and '"status": 503' in _problem(body) and "unreachable" in _problem(body)
    status = await api.get("status")
    assert status["reachable"] is False and "unreachable" in status["message"]
    for route in ("runs", f"runs/{run_id}"):
        code, answer = await api.call("GET", route)
        assert code == 503 and "is unreachable" in answer["message"] and "\n" not in answer["message"]
    assert time.monotonic() - started < 60

    standin.start(port)  # back, with the run still going
    assert (await api.get("status"))["reachable"] is True
    assert (await api.get(f"runs/{run_id}"))["state"] == "RUNNING"
    code, cancelled = await api.call("POST", f"runs/{run_id}/cancel")
    assert code == 200 and cancelled["state"] in {"CANCELING", "CANCELED"}


async def test_an_expired_token_and_a_deleted_run(api: MlopsApi, jp_root_dir: Path, standin: StandIn) -> None:
    run_id = await _running(api, jp_root_dir)
    standin.tokens = {"next-token": {"*"}}  # the token the server extension holds expired
    await asyncio.sleep(2.5)  # past the backend's 2 s reuse of a run's record
    code, body = await api.call("GET", f"runs/{run_id}")
    assert code == 503 and "refused our credentials" in body["message"] and "401" in body["message"]
    status = await api.get("status")
    assert status["reachable"] is False and "401" in status["message"]

    standin.tokens = {"notebook-token": {"*"}}  # renewed
    stream = asyncio.ensure_future(api.call("GET", f"runs/{run_id}/events"))
    await asyncio.sleep(1.0)
    standin.cluster.delete_run(run_id)  # someone deletes the run in the KFP UI
    code, body = await asyncio.wait_for(stream, timeout=60)
    assert code == 200 and '"status": 404' in _problem(body) and "deleted there" in _problem(body)
    code, body = await api.call("GET", f"runs/{run_id}")
    assert code == 404 and f"no run '{run_id}' on the KFP server" in body["message"]
    assert (await api.get("runs"))["total"] == 0  # the rest works
