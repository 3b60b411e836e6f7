"""A step that draws a progress bar (carriage returns, as tqdm does) shows in the sidebar's run view as the
bar's last state, one line, also while the log arrives in chunks as the step runs."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.server.conftest import write_notebook

from .lab_process import LabServer
from .test_sidebar_runs import RUN_WAIT_MS, open_notebook, run_as_pipeline

BAR_STEP = [
    "%load_ext jupyter_mlops",
    "%%component fit\nimport sys, time\nprint('epoch 1', flush=True)\nfor i in range(0, 101, 2):\n"
    "    sys.stderr.write(f'\\r{i:3d}%|' + '#' * (i // 10))\n    sys.stderr.flush()\n    time.sleep(0.02)\n"
    "sys.stderr.write('\\n')\nprint('loss 0.25')\n",
]


def test_a_progress_bar_is_one_line_in_the_sidebars_log(page: Page, lab_server: LabServer) -> None:
    write_notebook(lab_server.root_dir / "bar.ipynb", BAR_STEP)
    open_notebook(page, lab_server, "bar.ipynb")

    run_id = run_as_pipeline(page)
    view = page.locator(f"#jupyter-mlops-run-{run_id}")
    view.locator('.jp-mlops-node[data-step="fit"]').click()  # followed while it runs
    expect(view).to_have_attribute("data-state", "SUCCEEDED", timeout=RUN_WAIT_MS)
    log = view.locator(".jp-mlops-log")
    expect(log).to_contain_text("loss 0.25")
    text = log.evaluate("el => el.textContent")
    assert "\r" not in text and text.count("%|") == 1, repr(text)
    assert "epoch 1\n100%|##########\nloss 0.25" in text, repr(text)


FAILING_STEP = [
    "%load_ext jupyter_mlops",
    "%%component crunch\nvalues = [1, 2, 3]\nprint('working on it')\nratio = sum(values) / (len(values) - 3)",
]


def test_a_failed_steps_traceback_starts_at_the_cell_in_the_sidebars_log(
    page: Page, lab_server: LabServer
) -> None:
    """As `%pipeline logs` shows it: before, the panel showed the worker's, kfp's and the runtime's frames."""
    write_notebook(lab_server.root_dir / "fails.ipynb", FAILING_STEP)
    open_notebook(page, lab_server, "fails.ipynb")

    run_id = run_as_pipeline(page)
    view = page.locator(f"#jupyter-mlops-run-{run_id}")
    expect(view).to_have_attribute("data-state", "FAILED", timeout=RUN_WAIT_MS)
    view.locator('.jp-mlops-node[data-step="crunch"]').click()
    log = view.locator(".jp-mlops-log")
    expect(log).to_contain_text("ZeroDivisionError: division by zero")
    text = log.evaluate("el => el.textContent")
    assert "frames of the step runner left out" in text and "worker.py" not in text, text
    assert text.startswith("working on it\nTraceback (most recent call last):\n  ["), text
    assert '  File "<cell crunch>", line 4, in <module>' in text, text
