"""The runs table sorts and filters, compare highlights differences and charts the chosen metric, and the
not-yet-run pipeline shows its data on the edges: in JupyterLab, from a real run store."""

from __future__ import annotations

import uuid

import nbformat
from playwright.sync_api import Page, expect

from .lab_process import LabServer
from .test_views_run import run_first_cell

CELL = """\
from jupyter_mlops.backends.local import LocalBackend
from jupyter_mlops.models import MetricPoint, RunState
from jupyter_mlops.store import new_run_id
from jupyter_mlops.widgets import compare_view, pipeline_view, runs_table

backend = LocalBackend()
ids = {}
for name, lr, acc, loss, state in [("small-lr", 0.01, 0.81, 0.52, RunState.SUCCEEDED),
                                   ("big-lr", 0.5, 0.64, 0.90, RunState.SUCCEEDED),
                                   ("broken", 0.1, None, None, RunState.FAILED)]:
    rid = new_run_id()
    backend.store.create_run(run_id=rid, name=name, experiment=EXPERIMENT, pipeline_name="demo",
                             parameters={"lr": lr, "epochs": 5}, steps=["train"], edges=[])
    if acc is not None:
        backend.store.record_metric(MetricPoint(rid, "train", "acc", acc))
        backend.store.record_metric(MetricPoint(rid, "train", "loss", loss))
    backend.store.finish_run(rid, state, "boom" if state is RunState.FAILED else None)
    ids[name] = rid
display(runs_table(backend, experiment=EXPERIMENT))
display(compare_view(backend, [ids["small-lr"], ids["big-lr"]]))
display(pipeline_view(["prep", "train", "report"], [("prep", "train"), ("train", "report")],
                      labels={("prep", "train"): "df", ("train", "report"): "model"}))
"""


def test_runs_table_compare_and_pipeline_views(page: Page, lab_server: LabServer) -> None:
    experiment = f"tables-{uuid.uuid4().hex[:6]}"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(CELL.replace("EXPERIMENT", repr(experiment)))]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook = f"{experiment}.ipynb"
    nbformat.write(nb, lab_server.root_dir / notebook)
    page.goto(f"{lab_server.url}lab/workspaces/{experiment}/tree/{notebook}?reset&token={lab_server.token}")
    run_first_cell(page, lab_server, notebook)

    # Runs table: newest first, then sorted by a metric column, then filtered by state.
    table = page.locator("table.mlops-runs")
    rows = table.locator("tr[data-run]")
    expect(rows).to_have_count(3)
    names = rows.locator("td:first-child")
    expect(names).to_have_text(["broken", "big-lr", "small-lr"])
    header = table.locator('th[data-key="metric:train.acc"]')
    header.click()
    expect(names).to_have_text(["small-lr", "big-lr", "broken"])  # best first; no value last
    expect(header).to_have_class("mlops-sorted-desc")
    header.click()
    expect(names).to_have_text(["big-lr", "small-lr", "broken"])
    expect(table.locator('th[data-key="param:lr"]')).to_be_visible()
    page.locator("select.mlops-filter-state").select_option("FAILED")
    expect(names).to_have_text(["broken"])
    expect(page.locator(".mlops-filters .mlops-counts").first).to_have_text("1 of 3 runs")

    # Compare: the differing parameter is highlighted, the equal one is not; the chart follows the select.
    params = page.locator("table.mlops-compare-parameters")
    expect(params.locator('tr[data-key="lr"]')).to_have_class("mlops-diff")
    expect(params.locator('tr[data-key="epochs"]')).not_to_have_class("mlops-diff")
    expect(page.locator('.mlops-chart[data-metric="train.acc"] .mlops-bar')).to_have_count(2)
    page.locator("select.mlops-metric-select").select_option("train.loss")
    expect(page.locator('.mlops-chart[data-metric="train.loss"]')).to_be_visible()
    expect(page.locator('.mlops-chart[data-metric="train.acc"]')).to_have_count(0)

    # The pipeline before any run: data names on the edges; a click lists a step's inputs and outputs.
    dag = page.locator(".mlops-view").filter(has=page.locator('.mlops-node[data-step="prep"]'))
    expect(dag.locator(".mlops-node")).to_have_count(3)
    expect(dag.locator(".mlops-edge-label")).to_have_text(["df", "model"])
    dag.locator('.mlops-node[data-step="train"]').click()
    panel = dag.locator(".mlops-panel")
    expect(panel).to_contain_text("inputs")
    expect(panel.locator("tr").filter(has_text="df")).to_contain_text("prep")
    expect(panel.locator("tr").filter(has_text="model")).to_contain_text("report")
