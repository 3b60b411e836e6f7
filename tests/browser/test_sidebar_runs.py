"""A notebook user runs a notebook as a pipeline from JupyterLab's toolbar, watches it turn green in the
Pipelines sidebar, reads a step's log, and cancels a long run from its run view."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.server.conftest import LONG_STEP, TWO_STEPS, write_notebook

from .lab_process import LabServer

RUN_WAIT_MS = 180_000


def open_notebook(page: Page, lab_server: LabServer, name: str) -> None:
    page.goto(f"{lab_server.url}lab/workspaces/{name.replace('.', '-')}/tree/{name}?token={lab_server.token}")
    expect(page.locator(".jp-NotebookPanel .jp-Cell").first).to_be_visible()


def run_as_pipeline(page: Page) -> str:
    """Click the toolbar button; returns the id of the run whose view opens."""
    page.locator(".jp-mlops-run-as-pipeline button, button.jp-mlops-run-as-pipeline").first.click()
    view = page.locator(".jp-mlops-runview:visible")
    expect(view).to_have_count(1)
    run_id = (view.get_attribute("id") or "").removeprefix("jupyter-mlops-run-")
    assert run_id, "the run view has no run id"
    return run_id


def test_run_as_pipeline_turns_green_in_the_sidebar_and_shows_step_logs(
    page: Page, lab_server: LabServer
) -> None:
    write_notebook(lab_server.root_dir / "sums.ipynb", TWO_STEPS)
    open_notebook(page, lab_server, "sums.ipynb")

    run_id = run_as_pipeline(page)

    view = page.locator(f"#jupyter-mlops-run-{run_id}")
    expect(view).to_have_attribute("data-state", "SUCCEEDED", timeout=RUN_WAIT_MS)
    expect(view.locator(".jp-mlops-node")).to_have_count(2)
    expect(view.locator('.jp-mlops-node[data-step="total"]')).to_have_attribute("data-state", "SUCCEEDED")

    page.locator('.jp-SideBar li[data-id="jupyter-mlops:sidebar"]').click()
    row = page.locator(f'.jp-mlops-run[data-run-id="{run_id}"]')
    expect(row).to_have_attribute("data-state", "SUCCEEDED")
    expect(row.locator(".jp-mlops-run-icon")).to_have_text("\u2713")

    view.locator('.jp-mlops-node[data-step="total"]').click()
    log = view.locator(".jp-mlops-log")
    expect(log).to_have_attribute("data-step", "total")
    expect(log).to_contain_text("the total is 6")
    # The step's own output, without kfp's executor bookkeeping, unless asked for.
    expect(log).not_to_contain_text("Got executor_input")
    view.locator(".jp-mlops-log-toggle input").check()
    expect(log).to_contain_text("Got executor_input")
    expect(log).to_contain_text("the total is 6")
    view.locator(".jp-mlops-log-toggle input").uncheck()
    expect(log).not_to_contain_text("Got executor_input")
    expect(log).to_contain_text("the total is 6")
    expect(view.locator(".jp-mlops-artifacts a")).to_have_count(0)  # `total` passes a plain int on
    view.locator('.jp-mlops-node[data-step="make"]').click()
    expect(view.locator(".jp-mlops-log")).to_contain_text("made 3 numbers")
    expect(view.locator(".jp-mlops-artifacts a")).to_have_count(1)  # the set travels as a pickle

    screenshot = os.environ.get("JUPYTER_MLOPS_SCREENSHOT")
    if screenshot:  # docs/sidebar.png is made by this test: JUPYTER_MLOPS_SCREENSHOT=docs/sidebar.png
        Path(screenshot).parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=screenshot)


def test_a_long_run_is_cancelled_from_its_run_view(page: Page, lab_server: LabServer) -> None:
    write_notebook(lab_server.root_dir / "long.ipynb", LONG_STEP)
    open_notebook(page, lab_server, "long.ipynb")
    run_id = run_as_pipeline(page)
    view = page.locator(f"#jupyter-mlops-run-{run_id}")
    expect(view).to_have_attribute("data-state", "RUNNING", timeout=RUN_WAIT_MS)
    expect(view.locator(".jp-mlops-log")).to_contain_text("napping", timeout=RUN_WAIT_MS)

    # Live through the run's event stream, not by polling: while the step naps nothing changes, so
    # the view asks for the run's detail no more (a 1 s poll would have asked about four times).
    expect(view).to_have_attribute("data-live", "events")
    detail_path = f"/mlops/api/runs/{run_id}"
    details: list[str] = []
    page.on("request", lambda r: details.append(r.url) if r.url.split("?")[0].endswith(detail_path) else None)
    page.wait_for_timeout(4000)
    assert len(details) <= 1, details

    view.locator(".jp-mlops-cancel").click()

    expect(view).to_have_attribute("data-state", "CANCELED", timeout=60_000)
    expect(view.locator(".jp-mlops-run-state")).to_contain_text("CANCELED")
    expect(view.locator(".jp-mlops-cancel")).to_be_hidden()
    page.locator('.jp-SideBar li[data-id="jupyter-mlops:sidebar"]').click()
    expect(page.locator(f'.jp-mlops-run[data-run-id="{run_id}"]')).to_have_attribute("data-state", "CANCELED")


def test_a_notebook_that_cannot_compile_says_why_in_a_dialog(page: Page, lab_server: LabServer) -> None:
    broken = [TWO_STEPS[0], TWO_STEPS[1], "%%component total\nresult = sum(numbers) + offset"]
    write_notebook(lab_server.root_dir / "broken.ipynb", broken)
    open_notebook(page, lab_server, "broken.ipynb")

    page.locator(".jp-mlops-run-as-pipeline button, button.jp-mlops-run-as-pipeline").first.click()

    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_be_visible(timeout=60_000)
    expect(dialog).to_contain_text("Could not run broken.ipynb as a pipeline")
    expect(dialog).to_contain_text("offset")  # the message names the name that nothing defines
    expect(dialog).to_contain_text("total")  # ... and the cell that reads it
    dialog.locator("button.jp-mod-accept, button.jp-mod-reject").first.click()
    expect(dialog).to_have_count(0)
    expect(page.locator(".jp-mlops-runview")).to_have_count(0)  # no run was started


def test_run_as_pipeline_in_notebook_7_shows_the_run_in_the_side_panel(
    page: Page, lab_server: LabServer
) -> None:
    # Notebook 7's shell keeps the notebook as its only main-area widget: the run view goes to the
    # right side panel, one at a time.
    write_notebook(lab_server.root_dir / "nb7.ipynb", TWO_STEPS)
    page.goto(f"{lab_server.url}notebooks/nb7.ipynb?token={lab_server.token}")
    expect(page.locator(".jp-Notebook .jp-Cell").first).to_be_visible(timeout=60_000)

    first = run_as_pipeline(page)
    view = page.locator(f"#jupyter-mlops-run-{first}")
    expect(view).to_have_attribute("data-state", "SUCCEEDED", timeout=RUN_WAIT_MS)
    expect(view.locator(".jp-mlops-log")).to_contain_text("made 3 numbers")
    expect(page.locator(".jp-Notebook")).to_be_visible()  # the notebook stays where it was

    page.locator(".jp-mlops-run-as-pipeline button, button.jp-mlops-run-as-pipeline").first.click()
    second = page.locator(f".jp-mlops-runview:not(#jupyter-mlops-run-{first})")
    expect(second).to_have_attribute("data-state", "SUCCEEDED", timeout=RUN_WAIT_MS)
    expect(page.locator(".jp-mlops-runview")).to_have_count(1)  # the first view made way
