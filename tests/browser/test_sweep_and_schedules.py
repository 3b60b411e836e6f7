"""In JupyterLab: a sweep's view fills in live as its trials finish (best so far, parallel coordinates,
trials best first), and the Pipelines sidebar lists schedules with their next and last run, pauses and
resumes them, and marks the run a schedule started. JUPYTER_MLOPS_SCREENSHOT_DIR=docs/ keeps the
screenshots (docs/sweep-view.png, docs/sidebar-schedules.png)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import nbformat
from playwright.sync_api import Page, expect

from .lab_process import LabServer
from .test_views_run import run_first_cell

SWEEP_CELL = """\
%load_ext jupyter_mlops
%pipeline new bowl
ip = get_ipython()
ip.run_cell_magic("pipeline", "params", "x = 0\\ny = 0.0\\n")
ip.run_cell_magic("component", "base", "base = 10.0\\n")
ip.run_cell_magic("component", "fit", "import time\\ntime.sleep(1.0)\\n"
                 "score = base - (x - 3) ** 2 - 4 * (y - 0.5) ** 2\\nlog_metric('score', score)\\n")
%pipeline sweep x=1..5 y=0.0,0.5 --metric score --goal max --parallel 2 --name NAME
"""


def _shoot(page: Page, name: str) -> None:
    folder = os.environ.get("JUPYTER_MLOPS_SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"))


def test_the_sweep_view_fills_in_live_and_ranks_the_trials(page: Page, lab_server: LabServer) -> None:
    name = f"bowl-{uuid.uuid4().hex[:6]}"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(SWEEP_CELL.replace("NAME", name))]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook = f"{name}.ipynb"
    nbformat.write(nb, lab_server.root_dir / notebook)
    page.goto(f"{lab_server.url}lab/workspaces/{name}/tree/{notebook}?reset&token={lab_server.token}")
    run_first_cell(page, lab_server, notebook)

    view = page.locator(".jupyter-mlops-sweep")
    # Live: the view is there while trials still run, with some of them done and a best so far...
    expect(view).to_have_attribute("data-state", "RUNNING")
    expect(view.locator("table.mlops-sweep-trials tr td:nth-child(5)").filter(has_text="SUCCEEDED").first)\
        .to_be_visible()  # fmt: skip
    expect(view.locator(".mlops-sweep-best")).to_contain_text("best score=")
    done_while_running = view.locator("table.mlops-sweep-trials tr").filter(has_text="SUCCEEDED").count()
    assert done_while_running < 10, "the view showed nothing until the sweep had ended"
    # ...and it ends with all 10 trials, the optimum first, with no new execution of the cell.
    expect(view).to_have_attribute("data-state", "FINISHED", timeout=300_000)
    rows = view.locator("table.mlops-sweep-trials tr")
    expect(rows).to_have_count(11)  # the header and 10 trials
    first = rows.nth(1).locator("td")
    expect(first.nth(1)).to_have_text("3")
    expect(first.nth(2)).to_have_text("0.5")
    expect(first.nth(3)).to_have_text("10")
    scores = [float(t) for t in rows.locator("td:nth-child(4)").all_inner_texts()]
    assert scores == sorted(scores, reverse=True) and len(scores) == 10
    expect(view.locator(".mlops-sweep-best")).to_contain_text("best score=10 (trial")
    expect(view.locator(".mlops-sweep-best")).to_contain_text("x=3, y=0.5")
    chart = view.locator("svg.mlops-sweep-chart")
    expect(chart.locator("polyline")).to_have_count(10)  # one line per finished trial
    expect(chart.locator('polyline[stroke="#b91c1c"]')).to_have_count(1)  # the best, bold
    expect(chart.locator("text").filter(has_text="score")).to_have_count(1)  # the metric's axis
    view.scroll_into_view_if_needed()
    _shoot(page, "sweep-view")


def _schedule_with_a_fired_run(lab_server: LabServer, name: str) -> tuple[str, float]:
    """A nightly schedule in the server's store, fired once (clock injected) at its first 03:00."""
    from jupyter_mlops.backends.local import LocalBackend
    from jupyter_mlops.notebook.workspace import Workspace
    from jupyter_mlops.run_handle import Run
    from jupyter_mlops.schedules import schedule
    from jupyter_mlops.schedules.handle import schedule_records
    from jupyter_mlops.schedules.scheduler import tick

    ws = Workspace(name)
    ws.define_params("scale = 2\n", "params")
    ws.define_component("train", "score = 1.5 * scale\nlog_metric('score', score)\n", "train")
    backend = LocalBackend(lab_server.mlops_home)
    made = schedule(ws.active, "0 3 * * *", name=name, arguments={"scale": 4}, timezone="Europe/Paris",
                    backend=backend, working_dir=lab_server.root_dir)  # fmt: skip
    due = made.next_run
    assert due is not None
    (fired,) = tick(schedule_records(backend), backend, due, "browser test")
    assert fired.run_id is not None
    Run(backend, fired.run_id).wait(120)
    return fired.run_id, due


def test_the_sidebar_lists_schedules_and_pauses_and_resumes_them(page: Page, lab_server: LabServer) -> None:
    name = f"nightly-{uuid.uuid4().hex[:4]}"
    run_id, due = _schedule_with_a_fired_run(lab_server, name)

    page.locator('.jp-SideBar li[data-id="jupyter-mlops:sidebar"]').click()
    row = page.locator(f'.jp-mlops-schedule[data-schedule="{name}"]')
    expect(row).to_be_visible()
    expect(row.locator(".jp-mlops-schedule-cron")).to_have_text("0 3 * * * (Europe/Paris)")
    expect(row.locator(".jp-mlops-schedule-next")).to_contain_text("next: ")
    expect(row.locator(".jp-mlops-schedule-last a")).to_have_text(run_id)
    next_text = row.locator(".jp-mlops-schedule-next").inner_text()
    listed = {s["name"]: s for s in lab_server.api("mlops/api/schedules")["schedules"]}[name]
    # the next run is the one after the fired one: the page shows it on the browser's clock
    assert listed["next_run"] > due and listed["last"]["run_id"] == run_id
    shown = page.evaluate(
        "t => { const d = new Date(t * 1000); const p = n => String(n).padStart(2, '0');"
        " return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} `"
        " + `${p(d.getHours())}:${p(d.getMinutes())}`; }",
        listed["next_run"],
    )
    assert next_text == f"next: {shown}"
    # The run the schedule started says so in the runs list.
    expect(page.locator(f'.jp-mlops-run[data-run-id="{run_id}"]')).to_have_attribute("data-schedule", name)
    _shoot(page, "sidebar-schedules")

    row.locator(".jp-mlops-schedule-toggle").click()
    expect(row).to_have_attribute("data-paused", "true")
    expect(row.locator(".jp-mlops-schedule-next")).to_have_text("paused")
    expect(row.locator(".jp-mlops-schedule-toggle")).to_have_text("Resume")
    assert {s["name"]: s for s in lab_server.api("mlops/api/schedules")["schedules"]}[name]["paused"] is True
    row.locator(".jp-mlops-schedule-toggle").click()
    expect(row).to_have_attribute("data-paused", "false")
    expect(row.locator(".jp-mlops-schedule-next")).to_contain_text("next: ")
    assert {s["name"]: s for s in lab_server.api("mlops/api/schedules")["schedules"]}[name]["paused"] is False

    # The last run opens its run view.
    row.locator(".jp-mlops-schedule-last a").click()
    expect(page.locator(f"#jupyter-mlops-run-{run_id}")).to_have_attribute("data-state", "SUCCEEDED")
