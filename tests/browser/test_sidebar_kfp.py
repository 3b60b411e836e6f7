"""The Pipelines sidebar of a JupyterLab whose server extension runs on `backend = kfp`, against the
stand-in KFP v2beta1 server (tests/kfp_standin) in this test process: the sidebar names the backend,
links the KFP UI, lists a KFP run, opens its run view (with the step's log) and cancels it; its
connection light goes red while the KFP server is away and green again when it is back."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from kfp_standin import StandIn
from playwright.sync_api import Page, expect

from tests.server.conftest import LONG_STEP, write_notebook

from .lab_process import LabServer

RUN_WAIT_MS = 180_000


@pytest.fixture(scope="module")
def standin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StandIn]:
    server = StandIn(tmp_path_factory.mktemp("kfp-standin"), tokens={"lab-token": {"*"}})
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory: pytest.TempPathFactory, standin: StandIn) -> Iterator[LabServer]:
    """This module's JupyterLab: its server extension talks to the stand-in KFP server."""
    server = LabServer(tmp_path_factory.mktemp("jupyterlab-kfp"))
    server.config_dir.mkdir(parents=True, exist_ok=True)
    config = {
        "MlopsExtensionApp": {
            "backend": "kfp",
            "backend_options": {"host": standin.url, "existing_token": "lab-token"},
        }
    }
    (server.config_dir / "jupyter_server_config.json").write_text(json.dumps(config))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_the_sidebar_lists_opens_and_cancels_a_kfp_run(
    page: Page, lab_server: LabServer, standin: StandIn
) -> None:
    write_notebook(lab_server.root_dir / "long.ipynb", LONG_STEP)
    created = lab_server.api("mlops/api/runs", "POST", {"notebook": "long.ipynb", "experiment": "naps"})
    run_id = created["id"]
    assert created["backend"] == "kfp" and run_id in standin.cluster.runs

    page.locator('.jp-SideBar li[data-id="jupyter-mlops:sidebar"]').click()
    status = page.locator(".jp-mlops-status")
    expect(status).to_have_attribute("data-reachable", "true")
    expect(status.locator(".jp-mlops-backend")).to_have_text("kfp")
    link = status.locator("a.jp-mlops-backend-link")
    expect(link).to_have_attribute("href", f"{standin.url}/#/runs")
    expect(link).to_have_text("KFP UI \u2197")
    assert standin.url in (status.get_attribute("title") or "")  # the tooltip names the server

    row = page.locator(f'.jp-mlops-run[data-run-id="{run_id}"]')
    expect(row).to_have_attribute("data-state", "RUNNING", timeout=RUN_WAIT_MS)
    row.click()
    view = page.locator(f"#jupyter-mlops-run-{run_id}")
    expect(view).to_have_attribute("data-state", "RUNNING")
    expect(view.locator('.jp-mlops-node[data-step="nap"]')).to_have_attribute("data-state", "RUNNING")
    # The step's log, read by the server through the KFP UI's pod-log endpoint.
    expect(view.locator(".jp-mlops-log")).to_contain_text("napping", timeout=RUN_WAIT_MS)

    screenshot = os.environ.get("JUPYTER_MLOPS_SCREENSHOT")
    if screenshot:  # docs/sidebar-kfp.png: JUPYTER_MLOPS_SCREENSHOT=docs/sidebar-kfp.png
        Path(screenshot).parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=screenshot)

    view.locator(".jp-mlops-cancel").click()
    expect(view).to_have_attribute("data-state", "CANCELED", timeout=60_000)
    expect(row).to_have_attribute("data-state", "CANCELED")
    assert standin.cluster.local_run(run_id).state.value == "CANCELED"  # cancelled on the KFP server

    port = int(standin.url.rsplit(":", 1)[1])
    standin.stop(close_cluster=False)  # the KFP server goes away: the light follows by itself
    expect(status).to_have_attribute("data-reachable", "false", timeout=60_000)
    assert "unreachable" in (status.get_attribute("title") or "")
    standin.start(port)
    expect(status).to_have_attribute("data-reachable", "true", timeout=60_000)
