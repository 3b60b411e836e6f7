"""Results, not file paths (issue 11), as a person sees them: a DataFrame's preview, a figure the step
drew, a metric history chart and a confusion matrix, in the notebook's run view (JupyterLab and
Notebook 7) and in the sidebar's run view.

Written without a browser at hand (issue 11's helper could not run browser tests): the lead runs them
and looks at the screenshots (JUPYTER_MLOPS_SCREENSHOT_DIR=docs/ keeps them)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import Page, expect

from .lab_process import LabServer
from .test_views_run import run_first_cell

RUN_WAIT_MS = 180_000

CELLS = [
    "%load_ext jupyter_mlops",
    "%%component make_df --define-only\n"
    "import pandas as pd\n"
    "import matplotlib.pyplot as plt\n"
    'df = pd.DataFrame({"x": range(10), "y": [i * i for i in range(10)]})\n'
    "for i in range(5):\n"
    '    log_metric("loss", 1 / (i + 1), step=i)\n'
    'plt.plot(df["x"], df["y"])\n'
    "plt.show()",
    "%%component total --define-only\ntotal = int(df['y'].sum())",  # df crosses: make_df stores it
    "%pipeline run --wait",
]

KFP_REPORT = """\
import jupyter_mlops as mlops
from kfp import dsl
from kfp.dsl import ClassificationMetrics, Output

@dsl.component(base_image="python:3.11")
def judge(cm: Output[ClassificationMetrics]):
    cm.log_confusion_matrix(["cat", "dog"], [[8, 2], [1, 9]])
    cm.log_roc_curve([0.0, 0.1, 1.0], [0.0, 0.8, 1.0], [1.0, 0.5, 0.0])

@dsl.pipeline(name="judged")
def judged():
    judge()

mlops.run(judged, cache=False)"""


def _notebook(server: LabServer, cells: list[str], name: str) -> str:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = server.root_dir / f"{name}-{uuid.uuid4().hex[:6]}.ipynb"
    nbformat.write(nb, path)
    return path.name


def _shoot(page: Page, name: str) -> None:
    folder = os.environ.get("JUPYTER_MLOPS_SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"))


def _run_all_cells(page: Page, server: LabServer, notebook: str) -> None:
    run_first_cell(page, server, notebook)
    for _ in CELLS[1:]:
        page.keyboard.press("Shift+Enter")


def _check_notebook_view(page: Page) -> None:
    view = page.locator(".mlops-view[data-run-state]").first
    expect(view).to_have_attribute("data-run-state", "SUCCEEDED", timeout=RUN_WAIT_MS)
    view.locator('.mlops-node[data-step="make_df"]').click()
    panel = view.locator(".mlops-panel")
    expect(panel.locator('.mlops-preview[data-output="df"] table tr')).to_have_count(6)  # header + 5 rows
    expect(panel.locator(".mlops-figures img")).to_have_count(1)
    expect(panel.locator('.mlops-history[data-metric="loss"] polyline')).to_have_count(1)


@pytest.mark.timeout(600)
def test_jupyterlab_notebook_view_shows_a_preview_a_figure_and_a_history(
    page: Page, lab_server: LabServer
) -> None:
    notebook = _notebook(lab_server, CELLS, "results-lab")
    page.goto(f"{lab_server.url}lab/workspaces/results-lab/tree/{notebook}?reset&token={lab_server.token}")
    _run_all_cells(page, lab_server, notebook)
    _check_notebook_view(page)
    _shoot(page, "results-notebook-view")


@pytest.mark.timeout(600)
def test_notebook7_view_shows_a_preview_a_figure_and_a_history(page: Page, lab_server: LabServer) -> None:
    notebook = _notebook(lab_server, CELLS, "results-nb7")
    page.goto(f"{lab_server.url}notebooks/{notebook}?token={lab_server.token}")
    expect(page.locator("#main-panel .jp-NotebookPanel")).to_be_visible()
    _run_all_cells(page, lab_server, notebook)
    _check_notebook_view(page)


@pytest.mark.timeout(600)
def test_a_confusion_matrix_and_roc_curve_in_the_notebook_view(page: Page, lab_server: LabServer) -> None:
    notebook = _notebook(lab_server, [KFP_REPORT], "results-cm")
    page.goto(f"{lab_server.url}lab/workspaces/results-cm/tree/{notebook}?reset&token={lab_server.token}")
    run_first_cell(page, lab_server, notebook)
    view = page.locator(".mlops-view[data-run-state]").first
    expect(view).to_have_attribute("data-run-state", "SUCCEEDED", timeout=RUN_WAIT_MS)
    view.locator('.mlops-node[data-step="judge"]').click()
    matrix = view.locator(".mlops-panel .mlops-confusion")
    expect(matrix.locator("td")).to_have_text(["8", "2", "1", "9"])
    expect(view.locator(".mlops-panel .mlops-roc circle")).to_have_count(3)
    _shoot(page, "results-confusion-matrix")


@pytest.mark.timeout(600)
def test_the_sidebar_run_view_shows_a_preview_and_a_figure(page: Page, lab_server: LabServer) -> None:
    notebook = _notebook(lab_server, CELLS[:3], "results-sidebar")
    page.goto(f"{lab_server.url}lab/workspaces/results-sb/tree/{notebook}?reset&token={lab_server.token}")
    expect(page.locator(".jp-NotebookPanel .jp-Cell").first).to_be_visible()
    page.locator(".jp-mlops-run-as-pipeline button, button.jp-mlops-run-as-pipeline").first.click()
    view = page.locator(".jp-mlops-runview:visible")
    expect(view).to_have_attribute("data-state", "SUCCEEDED", timeout=RUN_WAIT_MS)
    view.locator('.jp-mlops-node[data-step="make_df"]').click()
    expect(view.locator('.jp-mlops-preview[data-output="df"] table tr')).to_have_count(6)
    figure = view.locator("img.jp-mlops-figure")
    expect(figure).to_have_count(1)
    assert figure.evaluate("img => img.complete && img.naturalWidth > 0"), "the figure did not load"
    _shoot(page, "results-sidebar")
