"""Opening a finished 20-step run's view, with previews, to fully drawn in the browser (issue 11: ≤ 300 ms).

    python bench/bench_results_view.py [--repeat 7] [--json out.json]

Measured from the user's side in real Chromium (Playwright) against a real JupyterLab serving this
checkout, on one finished run of 20 `%%component` steps (a chain; each step stores a 2,000 x 8
DataFrame, so each has a preview, and logs a 20-point loss history; the first also draws a figure):

1. Sidebar: a click on the run in the Pipelines panel → its run view drawn: the 20 steps, and the
   first step's panel with its frame's preview table, its loss chart and its figure loaded.
2. Notebook: Shift+Enter on `mlops.get_run(NAME)` → the run view under the cell with its 20 steps;
   then a click on the first step → its panel with the preview, the loss chart and the figure.
3. Peer, in the same notebook and run: what a notebook user does without a run view, the notebook's
   own habit: one cell that loads the run's stored frames into the kernel (`run.outputs[step][name]`,
   a fresh `Run` each time, so nothing is cached) and shows each `.head()` with pandas' HTML
   (Shift+Enter → the 19 tables drawn; the last step's frame is read by no step, so it is not kept).

Each time is taken in the page: the event's timestamp (click or keydown) to the first animation frame
after the view is complete (a requestAnimationFrame loop checks the DOM, then waits one more frame).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser.conftest import CHROMIUM, CHROMIUM_FLAGS  # noqa: E402
from tests.browser.lab_process import LabServer  # noqa: E402

STEPS = 20
ROWS = 2_000


def pipeline_cells() -> list[str]:
    cells = ["%load_ext jupyter_mlops"]
    cells.append(
        "%%component s00\nimport numpy as np\nimport pandas as pd\nimport matplotlib.pyplot as plt\n"
        f"df00 = pd.DataFrame(np.random.default_rng(0).random(({ROWS}, 8)), columns=list('abcdefgh'))\n"
        "for i in range(20):\n    log_metric('loss', 1 / (i + 1), step=i)\n"
        "plt.plot(df00['a'][:50])\nplt.show()"
    )
    for k in range(1, STEPS):
        cells.append(
            f"%%component s{k:02d}\ndf{k:02d} = df{k - 1:02d} * 1.01\n"
            f"for i in range(20):\n    log_metric('loss', {k} / (i + 1), step=i)"
        )
    return cells


# In the page: `arm(cond)` records the next user event's timestamp, then, once `cond()` holds, the
# time of the frame after. The condition is JavaScript source returning a boolean.
ARM = """(cond) => {
  const check = new Function(`return (${cond});`);
  window.__t0 = null; window.__t1 = null;
  const start = (e) => { if (window.__t0 === null) window.__t0 = e.timeStamp; };
  for (const kind of ['pointerdown', 'keydown'])
    window.addEventListener(kind, start, {capture: true, once: true});
  const loop = () => {
    if (window.__t0 !== null && check()) {
      requestAnimationFrame(() => { window.__t1 = performance.now(); });
      return;
    }
    requestAnimationFrame(loop);
  };
  requestAnimationFrame(loop);
}"""

IMAGES_LOADED = "[...document.querySelectorAll(SEL)].every(i => i.complete && i.naturalWidth > 0)"


def measured(page: Any, act: Any, cond: str) -> float:
    page.evaluate(ARM, cond)
    act()
    page.wait_for_function("window.__t1 !== null", timeout=120_000)
    return float(page.evaluate("window.__t1 - window.__t0")) / 1000


def wait_for_run(server: LabServer, run_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        run: dict[str, Any] = server.api(f"mlops/api/runs/{run_id}")
        if run["state"] in ("SUCCEEDED", "FAILED", "CANCELED"):
            if run["state"] != "SUCCEEDED":
                raise RuntimeError(f"the benchmark's run ended {run['state']}: {run.get('error')}")
            return run
        time.sleep(0.5)
    raise RuntimeError("the benchmark's run did not finish within 10 minutes")


def write_notebook(server: LabServer, name: str, cells: list[str]) -> str:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, server.root_dir / name)
    return name


def open_lab(page: Any, server: LabServer, path: str = "") -> None:
    tree = f"/tree/{path}" if path else ""
    page.goto(f"{server.url}lab/workspaces/bench{tree}?reset&token={server.token}")
    page.locator("#jupyterlab-splash").wait_for(state="detached")
    page.locator("#main.jp-LabShell").wait_for()


def bench_sidebar(page: Any, server: LabServer, run: dict[str, Any], repeat: int) -> list[float]:
    rid = run["id"]
    view = f"#jupyter-mlops-run-{rid}"
    cond = (
        f"(() => {{ const v = document.querySelector('{view}');"
        f" if (!v || v.dataset.state !== 'SUCCEEDED') return false;"
        f" if (v.querySelectorAll('.jp-mlops-node').length !== {STEPS}) return false;"
        " if (!v.querySelector('.jp-mlops-preview table')) return false;"
        " if (!v.querySelector('.jp-mlops-history polyline')) return false;"
        " const imgs = [...v.querySelectorAll('img.jp-mlops-figure')];"
        " return imgs.length === 1 && imgs.every(i => i.complete && i.naturalWidth > 0); })()"
    )
    times = []
    for _ in range(repeat):
        open_lab(page, server)
        page.locator('.jp-SideBar li[data-id="jupyter-mlops:sidebar"]').click()
        row = page.locator(f'.jp-mlops-run[data-run-id="{rid}"]')
        row.wait_for()
        time.sleep(0.5)  # the panel's own first refresh settles
        times.append(measured(page, lambda: row.click(), cond))  # noqa: B023
    return times


def bench_notebook(page: Any, server: LabServer, run: dict[str, Any], repeat: int) -> dict[str, list[float]]:
    """The view's cell and the peer's cell, alternately, `repeat` times each (fresh cells each time)."""
    from jupyter_mlops.backends.local import LocalBackend

    backend = LocalBackend(home=server.mlops_home)
    # each frame once, from the step that made it (later steps may pass it on again); the last
    # step's frame is read by no step, so it is not stored: 19 frames
    made = {a.name: a for a in backend.artifacts(run["id"]) if a.name == f"df{a.step[1:]}"}
    pairs = [(made[name].step, name) for name in sorted(made)]
    view_cell = f"mlops.get_run({run['name']!r})"
    peer_cell = (  # a fresh Run each time: nothing loaded yet
        f"peer = mlops.get_run({run['name']!r})\n"
        f"for step, name in {pairs!r}:\n"
        "    display(peer.outputs[step][name].head())"
    )
    cells = ["import jupyter_mlops as mlops\nimport pandas as pd\nfrom IPython.display import display"]
    for _ in range(repeat):
        cells += [view_cell, peer_cell]
    notebook = write_notebook(server, "bench-results.ipynb", cells)
    open_lab(page, server, notebook)
    deadline = time.monotonic() + 120
    while not any(
        s["path"].endswith(notebook) and s["kernel"]["execution_state"] == "idle"
        for s in server.api("api/sessions")
    ):
        if time.monotonic() > deadline:
            raise RuntimeError("no idle kernel")
        time.sleep(0.25)
    cell = page.locator(".jp-Notebook .jp-CodeCell")
    cell.nth(0).locator(".jp-InputArea-editor").click()
    page.keyboard.press("Shift+Enter")
    page.wait_for_function("document.querySelector('.jp-Notebook .jp-CodeCell .jp-InputPrompt')"
                           ".textContent.includes('1')")  # fmt: skip
    # warm once: the first widget of a page loads anywidget's module, pandas its HTML writer
    result: dict[str, list[float]] = {"open": [], "click": [], "peer": []}
    for i in range(repeat):
        view_index, peer_index = 1 + 2 * i, 2 + 2 * i
        out = f".jp-Notebook .jp-CodeCell:nth-child({view_index + 1})"
        cell.nth(view_index).locator(".jp-InputArea-editor").click()
        nodes = f"document.querySelectorAll('{out} .mlops-view .mlops-node').length === {STEPS}"
        result["open"].append(measured(page, lambda: page.keyboard.press("Shift+Enter"), nodes))
        panel = f"{out} .mlops-panel"
        done = (
            f"!!document.querySelector('{panel} .mlops-preview table')"
            f" && !!document.querySelector('{panel} .mlops-history polyline')"
            f" && document.querySelectorAll('{panel} .mlops-figures img').length === 1"
            f" && {IMAGES_LOADED.replace('SEL', repr(panel + ' .mlops-figures img'))}"
        )
        node = page.locator(f'{out} .mlops-node[data-step="s00"]')
        result["click"].append(measured(page, lambda: node.click(), done))  # noqa: B023
        peer_out = f".jp-Notebook .jp-CodeCell:nth-child({peer_index + 1})"
        cell.nth(peer_index).locator(".jp-InputArea-editor").click()
        tables = f"document.querySelectorAll('{peer_out} .jp-OutputArea-output table').length"
        tables += f" === {len(pairs)}"
        result["peer"].append(measured(page, lambda: page.keyboard.press("Shift+Enter"), tables))
    return result


def summary(values: list[float]) -> dict[str, Any]:
    return {
        "median_ms": statistics.median(values) * 1000,
        "first_ms": values[0] * 1000,
        "max_ms": max(values) * 1000,
        "n": len(values),
        "all_ms": [round(v * 1000, 1) for v in values],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="bench-results-") as tmp, sync_playwright() as pw:
        server = LabServer(Path(tmp))
        server.start()
        try:
            write_notebook(server, "twenty.ipynb", pipeline_cells())
            created = server.api("mlops/api/runs", "POST", {"notebook": "twenty.ipynb", "cache": False})
            run = wait_for_run(server, created["id"])
            detail_bytes = len(json.dumps(server.api(f"mlops/api/runs/{run['id']}?step=s00")))
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True)
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            sidebar = bench_sidebar(page, server, run, args.repeat)
            notebook = bench_notebook(page, server, run, args.repeat)
            browser.close()
        finally:
            server.stop()
    import os

    results = {
        "steps": STEPS,
        "detail_bytes": detail_bytes,
        "sidebar_click_to_drawn": summary(sidebar),
        "notebook_open_to_drawn": summary(notebook["open"]),
        "notebook_step_click_to_drawn": summary(notebook["click"]),
        "peer_pandas_heads_to_drawn": summary(notebook["peer"]),
        "load_average": os.getloadavg(),
    }
    print(json.dumps(results, indent=2))
    peer = results["peer_pandas_heads_to_drawn"]["median_ms"]
    for key in ("sidebar_click_to_drawn", "notebook_open_to_drawn", "notebook_step_click_to_drawn"):
        print(f"{key}: {results[key]['median_ms']:.0f} ms median, first {results[key]['first_ms']:.0f} ms, "
              f"max {results[key]['max_ms']:.0f} ms, "
              f"{results[key]['median_ms'] / peer:.2f} x the peer ({peer:.0f} ms)")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
