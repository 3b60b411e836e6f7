"""A Colab- or Kaggle-like session: a plain IPython kernel with ipywidgets, no Jupyter server extension,
no JupyterLab extension, jupyter-mlops installed from the notebook with the README's `%pip install` cell.
The views still work through the kernel alone: the widget's state (the run turning SUCCEEDED) reaches the
frontend over the widget comm, and every view also carries its static SVG and text for a frontend that
draws no widgets. Then a bare HTML page with ipywidgets' own HTML widget manager
(@jupyter-widgets/html-manager, see widget_page.py) draws those widgets in headless Chromium from the
state the kernel sent: the run view's DAG with each step's state, as a frontend with a widget manager
of its own (Colab's, Kaggle's) draws it.

What this does not test: Colab's and Kaggle's own frontends (their widget managers, output iframes,
what they do with updates sent from a background thread); the page draws the state as the cell left it,
with no kernel behind it (clicks that ask the kernel for a step's log get no answer). The `%pip install`
finds this checkout's wheel (PIP_FIND_LINKS) where Colab would find the release on PyPI.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat

from tests.kernel.kernel_notebooks import notebook, outputs_text
from tests.newcomer.readme_blocks import readme_blocks
from tests.newcomer.venvs import make_venv, run_in
from tests.newcomer.widget_page import build_site, notebook_widgets, widget_page

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
SCREENSHOT = Path(__file__).parent / "artifacts" / "colab-like-widget-page.png"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def colab_cell() -> str:
    (block,) = [
        b for b in readme_blocks() if b.lang == "python" and b.text.startswith("%pip install jupyter-mlops")
    ]
    return block.text.strip("\n")


def test_a_colab_like_kernel_installs_with_pip_and_shows_live_views_without_any_extension(
    dist: Path, tmp_path: Path
) -> None:
    venv = make_venv(tmp_path / "colab")
    python = str(venv / "bin" / "python")
    run_in(venv, [python, "-m", "pip", "install", "--progress-bar", "off", "ipykernel", "ipywidgets"])
    kernels = tmp_path / "jupyter-path"
    run_in(venv, [python, "-m", "ipykernel", "install", "--prefix", str(kernels), "--name", "colab-like"])
    assert "jupyter_mlops" not in run_in(venv, [python, "-m", "pip", "list"])  # not installed yet

    nb = notebook(
        [
            colab_cell(),
            "import jupyter_mlops, sys\nprint(jupyter_mlops.__file__)",
            "%%pipeline params\nn = 5",
            "%%component numbers\nvalues = list(range(n))",
            "%%component total\nlog_metric('total', sum(values))\nsum(values)",
            "run = %pipeline run --wait\nprint(run.state.value, run.metrics)",
        ]
    )
    nb.metadata.kernelspec = {"name": "colab-like", "display_name": "Colab-like", "language": "python"}
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "JUPYTER_PATH")}
    env["JUPYTER_MLOPS_HOME"] = str(tmp_path / "home")
    env["PIP_FIND_LINKS"] = " ".join([str(dist), os.environ.get("PIP_FIND_LINKS", "")]).strip()
    env["PATH"] = os.pathsep.join([str(venv / "bin"), env.get("PATH", "")])
    # nbclient finds the kernel by name through JUPYTER_PATH; the kernel itself gets `env`.
    old = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = str(kernels / "share" / "jupyter")
    try:
        from nbclient import NotebookClient

        NotebookClient(
            nb, timeout=900, kernel_name="colab-like", resources={"metadata": {"path": str(tmp_path)}}
        ).execute(env=env)
    finally:
        if old is None:
            os.environ.pop("JUPYTER_PATH", None)
        else:
            os.environ["JUPYTER_PATH"] = old

    assert f"{venv}/lib/" in outputs_text(nb.cells[1])  # the pip-installed package, not this checkout
    assert "SUCCEEDED {'total.total': 10.0}" in outputs_text(nb.cells[-1])
    SCREENSHOT.parent.mkdir(exist_ok=True)
    (view,) = [o for o in nb.cells[-1].outputs if o.output_type == "display_data" and WIDGET_VIEW in o.data]
    assert "<svg" in view.data["text/html"]  # what a frontend without widgets shows
    assert "Run " in view.data["text/plain"]
    model_id = view.data[WIDGET_VIEW]["model_id"]
    state = nb.metadata.widgets[WIDGET_STATE]["state"][model_id]["state"]
    # The kernel's watcher thread pushed the run's end over the comm: no server involved.
    assert state["run"]["state"] == "SUCCEEDED" and state["run"]["done"] == 2, json.dumps(state["run"])[:2000]
    assert set(state["run"]["steps"]) == {"numbers", "total"}
    nbformat.validate(nb)

    # The widgets drawn by a bare widget-manager page: no server, no JupyterLab, no extension of ours.
    widget_state, views = notebook_widgets(nb)
    assert model_id in [v["model_id"] for v in views]
    site = build_site(tmp_path / "page", widget_state, views)
    with widget_page(site) as (page, errors, outside):
        run_view = page.locator(".mlops-view[data-run-state]")
        run_view.wait_for(timeout=60_000)
        assert run_view.get_attribute("data-run-state") == "SUCCEEDED"
        nodes = page.locator(".mlops-view g.mlops-node")
        assert {
            nodes.nth(i).get_attribute("data-step"): nodes.nth(i).get_attribute("data-state")
            for i in range(nodes.count())
        } == {"numbers": "SUCCEEDED", "total": "SUCCEEDED"}
        assert page.locator(".mlops-view path.mlops-edge").count() == 1  # numbers → total
        assert "2/2 steps" in run_view.inner_text() and "total.total 10" in run_view.inner_text()
        page.locator(".output").first.screenshot(path=str(SCREENSHOT))
        assert not errors, errors
        assert not outside, outside  # everything came from the page's own folder
