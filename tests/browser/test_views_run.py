"""A run's view turns green live under the cell that started it, and a click on a step shows its log.

The user's story, in JupyterLab 4 and in Notebook 7 (the same server serves both): a notebook runs a small
kfp pipeline with `mlops.run(...)` on the local backend and shows the returned `Run`. Its DAG appears
while the first step is still going; the steps turn SUCCEEDED one by one without the cell being run
again; clicking a step opens its log.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import Page, expect
from waiting import wait_until

from .lab_process import LabServer

PIPELINE_CELL = """\
import jupyter_mlops as mlops
from kfp import dsl

@dsl.component(base_image="python:3.11")
def slow_step(n: int, seconds: float) -> int:
    import time
    print(f"hello from slow_step, n={n}", flush=True)
    time.sleep(seconds)
    return n + 1

@dsl.pipeline(name="views-live")
def views_live(n: int = 1):
    first = slow_step(n=n, seconds=6.0)
    slow_step(n=first.output, seconds=2.0)

r = mlops.run(views_live, experiment="browser-views", cache=False)  # each test runs its steps
r"""


def write_notebook(server: LabServer, name: str) -> str:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(PIPELINE_CELL)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = server.root_dir / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path.name


def wait_for_idle_kernel(server: LabServer, notebook: str, limit: float = 120.0) -> None:
    """The notebook's kernel has started and is idle (the front end queues requests until connected)."""

    def idle() -> bool:
        return any(
            session["path"].endswith(notebook) and session["kernel"]["execution_state"] == "idle"
            for session in server.api("api/sessions")
        )

    wait_until(idle, limit, f"an idle kernel for {notebook}", interval=0.25)


def run_first_cell(page: Page, server: LabServer, notebook: str) -> None:
    cell = page.locator(".jp-Notebook .jp-CodeCell").first
    expect(cell).to_be_visible()
    wait_for_idle_kernel(server, notebook)
    cell.locator(".jp-InputArea-editor").click()
    page.keyboard.press("Shift+Enter")


def watch_the_run_go_green(page: Page) -> None:
    view = page.locator(".mlops-view[data-run-state]").first
    # The view appears while the run still goes on...
    expect(view).to_be_visible()
    expect(view.locator('.mlops-node[data-state="RUNNING"]').first).to_be_visible()
    prompt = page.locator(".jp-Notebook .jp-CodeCell").first.locator(".jp-InputPrompt")
    expect(prompt).not_to_have_text("[*]:")  # the execution that showed it has ended (its reply can lag)
    count_when_shown = prompt.inner_text()
    # ...and every step turns SUCCEEDED with no further execution of the cell.
    expect(view).to_have_attribute("data-run-state", "SUCCEEDED", timeout=180_000)
    nodes = view.locator(".mlops-node")
    expect(nodes).to_have_count(2)
    for i in range(2):
        expect(nodes.nth(i)).to_have_attribute("data-state", "SUCCEEDED")
        expect(nodes.nth(i).locator("rect")).to_have_attribute("fill", "#dcfce7")
        expect(nodes.nth(i).locator(".mlops-icon")).to_have_text("✓")
    expect(view.locator(".mlops-counts")).to_contain_text("2/2 steps")
    assert prompt.inner_text() == count_when_shown, "the cell was executed again"

    # A click on a step shows its log, asked from the kernel.
    nodes.first.click()
    log = view.locator(".mlops-log")
    expect(log).to_contain_text("hello from slow_step, n=")
    expect(view.locator(".mlops-panel")).to_contain_text("SUCCEEDED")


def saved_outputs(path: Path) -> dict[str, object]:
    nb = json.loads(path.read_text())
    outputs = nb["cells"][0]["outputs"]
    data: dict[str, object] = {}
    for out in outputs:
        data.update(out.get("data", {}))
    return data


@pytest.mark.timeout(600)
def test_jupyterlab_run_view_turns_green_live_and_shows_a_steps_log(
    page: Page, lab_server: LabServer
) -> None:
    notebook = write_notebook(lab_server, f"views-lab-{uuid.uuid4().hex[:6]}")
    page.goto(f"{lab_server.url}lab/workspaces/views-lab/tree/{notebook}?reset&token={lab_server.token}")
    run_first_cell(page, lab_server, notebook)
    watch_the_run_go_green(page)

    # Saved, the output also carries the static SVG and the text of the final state (for nbconvert/GitHub).
    page.keyboard.press("Control+s")
    expect(page.locator(".jp-mod-dirty")).to_have_count(0)
    data = saved_outputs(lab_server.root_dir / notebook)
    assert "application/vnd.jupyter.widget-view+json" in data
    assert "SUCCEEDED" in str(data["text/plain"])
    assert 'data-state="SUCCEEDED"' in str(data["text/html"])


@pytest.mark.timeout(600)
def test_notebook7_run_view_turns_green_live_and_shows_a_steps_log(page: Page, lab_server: LabServer) -> None:
    notebook = write_notebook(lab_server, f"views-nb7-{uuid.uuid4().hex[:6]}")
    page.goto(f"{lab_server.url}notebooks/{notebook}?token={lab_server.token}")
    expect(page.locator("#main-panel .jp-NotebookPanel")).to_be_visible()  # Notebook 7's shell, not Lab's
    run_first_cell(page, lab_server, notebook)
    watch_the_run_go_green(page)


FAILING_CELL = """\
import jupyter_mlops as mlops
from kfp import dsl

@dsl.component(base_image="python:3.11")
def check_input(n: int) -> int:
    import time
    time.sleep(3)
    if n < 0:
        raise ValueError(f"n must be positive, got {n}")
    return n

@dsl.component(base_image="python:3.11")
def after_check(n: int) -> int:
    return n

@dsl.pipeline(name="views-fail")
def views_fail(n: int = -1):
    after_check(n=check_input(n=n).output)

mlops.run(views_fail, cache=False)"""


@pytest.mark.timeout(600)
def test_a_failed_step_turns_red_and_shows_its_error(page: Page, lab_server: LabServer) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(FAILING_CELL)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook = f"views-fail-{uuid.uuid4().hex[:6]}.ipynb"
    nbformat.write(nb, lab_server.root_dir / notebook)
    page.goto(f"{lab_server.url}lab/workspaces/views-fail/tree/{notebook}?reset&token={lab_server.token}")
    run_first_cell(page, lab_server, notebook)

    view = page.locator(".mlops-view[data-run-state]").first
    expect(view).to_have_attribute("data-run-state", "FAILED", timeout=180_000)
    failed = view.locator('.mlops-node[data-step="check-input"]')
    expect(failed).to_have_attribute("data-state", "FAILED")
    expect(failed.locator(".mlops-icon")).to_have_text("✗")
    expect(view.locator('.mlops-node[data-step="after-check"]')).to_have_attribute("data-state", "SKIPPED")
    failed.click()
    expect(view.locator(".mlops-panel .mlops-error")).to_contain_text("n must be positive, got -1")
