"""The server extension configured with `backend = kfp`, as a deployment configures it
(`MlopsExtensionApp.backend` and `backend_options`), against the stand-in KFP v2beta1 server
(tests/kfp_standin): the sidebar's status light, a notebook run started, listed, cancelled and
followed through `mlops/api` in the same REST shape as local runs (every answer checked against
openapi.yaml), and what the KFP API cannot give said plainly with a link to the KFP UI.

The whole server suite can also run on kfp: start `python -m kfp_standin` (from tests/) and set
JUPYTER_MLOPS_SERVER_TEST_BACKEND=kfp, JUPYTER_MLOPS_SERVER_TEST_BACKEND_OPTIONS='{"host": URL}'.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kfp_standin import StandIn

from .conftest import LONG_STEP, TWO_STEPS, MlopsApi, write_notebook


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
        "existing_token": "notebook-token",  # held by the server: the browser never sees it
    }
    return jp_server_config


async def test_the_status_light_shows_the_kfp_server_and_what_it_can_do(
    api: MlopsApi, standin: StandIn
) -> None:
    status = await api.get("status")
    assert status["backend"] == "kfp" and status["reachable"] is True
    assert status["runs"] == 0 and standin.url in status["message"]
    assert status["ui_url"] == f"{standin.url}/#/runs"  # the sidebar links the KFP UI
    caps = status["capabilities"]
    assert caps["logs"] is True  # the stand-in is reached as the KFP UI's server: its pod-log endpoint
    assert caps["outputs"] is True  # ... and its ML Metadata proxy
    assert caps["artifact_download"] is True  # ... and its artifact endpoint (GET /artifacts/get)
    assert caps["cancel"] is True and caps["retry"] is True

    standin.tokens = {"rotated": {"*"}}  # the server's token expired
    status = await api.get("status")
    assert status["reachable"] is False and "401" in status["message"]
    assert status["ui_url"] == f"{standin.url}/#/runs"  # still linked: the user may sign in there
    code, body = await api.call("GET", "runs")
    assert code == 503 and "refused our credentials" in body["message"]


async def test_a_notebook_runs_on_kfp_in_the_same_rest_shape(
    api: MlopsApi, jp_root_dir: Path, standin: StandIn
) -> None:
    write_notebook(jp_root_dir / "work" / "sums.ipynb", TWO_STEPS)

    code, created = await api.call("POST", "runs", {"notebook": "work/sums.ipynb", "experiment": "sums"})

    assert code == 201, created
    assert created["backend"] == "kfp" and created["id"] in {r for r in standin.cluster.runs}
    run = await api.wait_for(created["id"], {"SUCCEEDED", "FAILED"})
    assert run["state"] == "SUCCEEDED", run
    assert [s["name"] for s in run["steps"]] == ["make", "total"]
    assert run["edges"] == [["make", "total"]]
    nodes = {n["id"] for n in run["layout"]["nodes"]}
    assert nodes == {"make", "total"}
    page = await api.get("runs", experiment="sums")
    assert [r["id"] for r in page["runs"]] == [run["id"]] and page["total"] == 1
    experiments = {e["name"]: e for e in (await api.get("experiments"))["experiments"]}
    assert experiments["sums"]["run_count"] == 1

    log = await api.get(f"runs/{run['id']}/steps/total/log")
    assert "the total is 6" in log["text"] and log["complete"] is True
    code, _ = await api.call("GET", "runs/no-such-run")
    assert code == 404


async def test_a_long_kfp_run_is_cancelled(api: MlopsApi, jp_root_dir: Path) -> None:
    write_notebook(jp_root_dir / "long.ipynb", LONG_STEP)
    _, created = await api.call("POST", "runs", {"notebook": "long.ipynb"})
    await api.wait_for(created["id"], {"RUNNING"})

    code, cancelling = await api.call("POST", f"runs/{created['id']}/cancel")

    assert code == 200 and cancelling["state"] in {"CANCELING", "CANCELED"}
    run = await api.wait_for(created["id"], {"CANCELED", "FAILED", "SUCCEEDED"}, timeout=60)
    assert run["state"] == "CANCELED" and run["steps"][0]["state"] == "CANCELED"


async def test_a_kfp_runs_events_stream_until_it_finishes(api: MlopsApi, jp_root_dir: Path) -> None:
    write_notebook(jp_root_dir / "sums.ipynb", TWO_STEPS)
    _, created = await api.call("POST", "runs", {"notebook": "sums.ipynb"})

    stream = (await api.get(f"runs/{created['id']}/events")).decode()

    blocks = [b for b in stream.strip().split("\n\n") if b.strip()]
    assert blocks and '"state": "SUCCEEDED"' in [b for b in blocks if "event: run" in b][-1]
    assert any("event: step" in b and '"step": "total"' in b for b in blocks)
