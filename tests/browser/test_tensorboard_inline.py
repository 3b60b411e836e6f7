"""TensorBoard inline under a cell, through the server extension's proxy, in JupyterLab and Notebook 7.

The user's story: a notebook writes four labelled points with `mlops.log_embedding` and shows
`%pipeline tensorboard --dashboard projector`: the projector loads inside the output, its data coming
through `mlops/tensorboard/<id>/`. Then a pipeline step logs a metric history and
`mlops.tensorboard(run=..., dashboard="timeseries")` shows it (TensorBoard's POSTs go through the
proxy too). With JUPYTER_MLOPS_TENSORBOARD_SCREENSHOTS=docs the tests save docs/tensorboard-*.png for
the README.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import Page, expect

from .lab_process import LabServer
from .test_views_run import wait_for_idle_kernel

EMBEDDING_CELLS = [
    "%load_ext jupyter_mlops\nimport jupyter_mlops as mlops",
    "mlops.log_embedding([[0, 1, 0.2], [1, 0, 0.1], [0, -1, 0.3], [-1, 0, 0.4]],\n"
    '                    ["north", "east", "south", "west"], logdir="tb-logs/compass")',
    "%pipeline tensorboard tb-logs --dashboard projector",
]
STEP_CELLS = [
    "%load_ext jupyter_mlops\nimport jupyter_mlops as mlops",
    "%%component train\nfor epoch, loss in enumerate([1.0, 0.6, 0.35, 0.2, 0.1]):\n"
    "    log_metric('loss', loss, step=epoch)",
    "run = %pipeline run --wait",
    "mlops.tensorboard(run=run.id, dashboard='timeseries')",
]


def write_notebook(server: LabServer, name: str, cells: list[str]) -> str:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = server.root_dir / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path.name


def run_all_cells(page: Page, server: LabServer, notebook: str, count: int) -> None:
    cells = page.locator(".jp-Notebook .jp-CodeCell")
    expect(cells.first).to_be_visible()
    wait_for_idle_kernel(server, notebook)
    cells.first.locator(".jp-InputArea-editor").click()
    for _ in range(count):
        page.keyboard.press("Shift+Enter")


def screenshot(page: Page, name: str) -> None:
    folder = os.environ.get("JUPYTER_MLOPS_TENSORBOARD_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"tensorboard-{name}.png"))


def see_the_projector(page: Page) -> None:
    with page.expect_response(
        lambda r: "/mlops/tensorboard/" in r.url and "/data/plugin/projector/tensor" in r.url, timeout=180_000
    ) as tensor:
        iframe = page.locator(".jupyter-mlops-tensorboard iframe").first
        expect(iframe).to_be_visible(timeout=180_000)
    assert tensor.value.status == 200
    frame = page.frame_locator(".jupyter-mlops-tensorboard iframe").first
    expect(frame.locator("vz-projector").first).to_be_attached(timeout=60_000)
    metadata = page.wait_for_response(lambda r: "/data/plugin/projector/metadata" in r.url, timeout=60_000)
    assert metadata.status == 200 and "north" in metadata.text()
    iframe.scroll_into_view_if_needed()
    page.wait_for_timeout(2000)  # let the points be drawn before the picture (not an assertion)


@pytest.mark.timeout(600)
def test_jupyterlab_shows_the_projector_inline_through_the_proxy(page: Page, lab_server: LabServer) -> None:
    notebook = write_notebook(lab_server, f"tb-lab-{uuid.uuid4().hex[:6]}", EMBEDDING_CELLS)
    page.goto(f"{lab_server.url}lab/workspaces/tb-lab/tree/{notebook}?reset&token={lab_server.token}")
    run_all_cells(page, lab_server, notebook, len(EMBEDDING_CELLS))
    see_the_projector(page)
    screenshot(page, "projector")


@pytest.mark.timeout(600)
def test_notebook7_shows_the_projector_inline_through_the_proxy(page: Page, lab_server: LabServer) -> None:
    notebook = write_notebook(lab_server, f"tb-nb7-{uuid.uuid4().hex[:6]}", EMBEDDING_CELLS)
    page.goto(f"{lab_server.url}notebooks/{notebook}?token={lab_server.token}")
    expect(page.locator("#main-panel .jp-NotebookPanel")).to_be_visible()
    run_all_cells(page, lab_server, notebook, len(EMBEDDING_CELLS))
    see_the_projector(page)


@pytest.mark.timeout(600)
def test_a_steps_metric_history_shows_in_tensorboard_inline(page: Page, lab_server: LabServer) -> None:
    notebook = write_notebook(lab_server, f"tb-steps-{uuid.uuid4().hex[:6]}", STEP_CELLS)
    page.goto(f"{lab_server.url}lab/workspaces/tb-steps/tree/{notebook}?reset&token={lab_server.token}")
    with page.expect_response(
        lambda r: (
            "/mlops/tensorboard/" in r.url and r.url.endswith("/timeSeries") and r.request.method == "POST"
        ),
        timeout=300_000,
    ) as series:
        run_all_cells(page, lab_server, notebook, len(STEP_CELLS))
    assert series.value.status == 200  # TensorBoard's own POST, same-origin, through the proxy
    frame = page.frame_locator(".jupyter-mlops-tensorboard iframe").first
    expect(frame.get_by_text("loss").first).to_be_visible(timeout=120_000)
    page.locator(".jupyter-mlops-tensorboard iframe").first.scroll_into_view_if_needed()
    page.wait_for_timeout(2000)  # let the chart be drawn before the picture (not an assertion)
    screenshot(page, "scalars")


@pytest.mark.timeout(600)
def test_the_sidebars_run_view_opens_a_steps_logs_in_tensorboard(page: Page, lab_server: LabServer) -> None:
    from .test_sidebar_runs import open_notebook, run_as_pipeline

    write_notebook(lab_server, "tb-sidebar", STEP_CELLS[:2])
    open_notebook(page, lab_server, "tb-sidebar.ipynb")
    run_id = run_as_pipeline(page)
    view = page.locator(f"#jupyter-mlops-run-{run_id}")
    expect(view).to_have_attribute("data-state", "SUCCEEDED", timeout=180_000)
    view.locator('.jp-mlops-node[data-step="train"]').click()
    link = view.locator(".jp-mlops-tensorboard")
    expect(link).to_have_text("Open in TensorBoard")
    with page.context.expect_page() as opened:
        link.click()
    board = opened.value
    board.wait_for_url("**/mlops/tensorboard/*/**", timeout=60_000)
    expect(board).to_have_title("TensorBoard", timeout=120_000)
