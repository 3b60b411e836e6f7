"""Benchmarks of the run views (issue 4), each against a peer measured in the same run.

1. Layout of a 200-step DAG in Python (`views.layout`) vs Graphviz `dot` (the classic layered layout).
2. Front-end render of that DAG in headless Chromium (dag.js with a stand-in model, no Jupyter).
3. In JupyterLab, a 200-step run displayed by `run_view` and driven by writes to the real run store:
   - time to display (Shift+Enter to 200 nodes in the DOM);
   - store write -> DOM latency of each step state change (a MutationObserver timestamps the change;
     same machine clock as the writer), vs the no-JavaScript peer: an ipywidgets.HTML re-rendered from
     the static SVG by the same kind of polling thread;
   - CPU of the kernel and of the page's main thread over 10 s while the run is live and after it ended.
4. `--screenshot PATH`: a real `%pipeline run` of a notebook of `%%component` cells, finished, with a
   step's panel open (its metric chart, values and log).

Run: `python bench/bench_views.py [--changes 30] [--screenshot docs/run-view.png]` (about 2 minutes).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from jupyter_mlops.models import RunState, StepInfo, StepState  # noqa: E402
from jupyter_mlops.render.layout import layout_dag  # noqa: E402
from jupyter_mlops.render.svg import render_run_static  # noqa: E402
from jupyter_mlops.store import RunStore, new_run_id  # noqa: E402
from jupyter_mlops.widgets.esm import esm  # noqa: E402
from jupyter_mlops.widgets.run_widget import run_payload  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_FLAGS  # noqa: E402
from tests.browser.lab_process import LabServer  # noqa: E402

STATIC = ROOT / "jupyter_mlops" / "views" / "static"


def random_dag(n: int, seed: int = 7) -> tuple[list[str], list[tuple[str, str]]]:
    rng = random.Random(seed)
    names = [f"step-{i:03d}" for i in range(n)]
    edges: set[tuple[str, str]] = set()
    for i in range(1, n):
        for _ in range(rng.randint(1, 3)):
            edges.add((names[rng.randrange(max(0, i - 30), i)], names[i]))
    return names, sorted(edges)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


# -- 1. layout --------------------------------------------------------------------------------------
def bench_layout(names: list[str], edges: list[tuple[str, str]]) -> dict[str, Any]:
    from jupyter_mlops.models import RunInfo

    info = RunInfo(
        id="bench", name="bench", state=RunState.RUNNING, steps=[StepInfo(n) for n in names], edges=edges
    )
    ours = []
    for _ in range(5):
        t = time.perf_counter()
        layout = layout_dag(names, edges)
        json.dumps(layout.to_json())
        json.dumps(run_payload(info))
        render_run_static(info, layout)
        ours.append(time.perf_counter() - t)
    result: dict[str, Any] = {"ours_layout_payload_svg_s": statistics.median(ours)}
    dot = shutil.which("dot")
    if dot is None:
        result["dot_s"] = None
        result["dot_note"] = "graphviz not installed (apt-get install graphviz)"
        return result
    src = "digraph G { rankdir=LR; node [shape=box];\n"
    src += "".join(f'"{n}";\n' for n in names) + "".join(f'"{a}" -> "{b}";\n' for a, b in edges) + "}"
    peer = []
    for _ in range(3):
        t = time.perf_counter()
        subprocess.run([dot, "-Tsvg"], input=src.encode(), capture_output=True, check=True)
        peer.append(time.perf_counter() - t)
    result["dot_s"] = statistics.median(peer)
    return result


# -- 2. front-end render without Jupyter ------------------------------------------------------------
RENDER_PAGE = """
<html><head><style>%CSS%</style></head><body><div id="root" style="width:1200px"></div>
<script type="module">
const src = %SRC%;
const mod = await import(URL.createObjectURL(new Blob([src], {type: "text/javascript"})));
window.renderOnce = async (state) => {
  const root = document.getElementById("root");
  root.replaceChildren();
  const el = document.createElement("div");
  root.appendChild(el);
  const model = { model_id: "bench", get: (k) => state[k], set: (k, v) => { state[k] = v; },
                  save_changes() {}, send() {}, on() {}, off() {} };
  const t0 = performance.now();
  mod.default.render({ model, el });
  el.getBoundingClientRect();  // force style and layout
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));  // painted
  return { ms: performance.now() - t0, nodes: el.querySelectorAll(".mlops-node").length };
};
window.ready = true;
</script></body></html>
"""


def bench_frontend_render(browser: Any, names: list[str], edges: list[tuple[str, str]]) -> dict[str, Any]:
    from jupyter_mlops.models import RunInfo
    from jupyter_mlops.render.style import STATE_STYLES

    info = RunInfo(
        id="bench", name="bench", state=RunState.RUNNING, steps=[StepInfo(n) for n in names], edges=edges
    )
    state = {
        "dag": layout_dag(names, edges).to_json(),  # the trait dag.js draws (widgets/run_widget.py)
        "run": run_payload(info),
        "styles": STATE_STYLES,
        "selected": "",
        "message": "",
    }
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    html = RENDER_PAGE.replace("%CSS%", (STATIC / "dag.css").read_text()).replace(
        "%SRC%", json.dumps(esm("dag.js"))
    )
    page.set_content(html)
    page.wait_for_function("window.ready === true")
    runs = [page.evaluate("(s) => window.renderOnce(s)", state) for _ in range(6)]
    page.close()
    assert all(r["nodes"] == len(names) for r in runs)
    times = [r["ms"] / 1000 for r in runs[1:]]  # the first includes compiling the module's code
    return {"render_first_s": runs[0]["ms"] / 1000, "render_median_s": statistics.median(times)}


# -- 3. live view in JupyterLab ---------------------------------------------------------------------
VIEW_CELL = """\
import os, time, threading
from jupyter_mlops.backends.local import LocalBackend
from jupyter_mlops.views import run_view
open("kernel.pid", "w").write(str(os.getpid()))
backend = LocalBackend(stale_after=36000)  # the bench writes the run; no runner process to watch
view = run_view(backend, RUN_ID)
view"""

PEER_CELL = """\
import ipywidgets
from jupyter_mlops.views.svg import render_run_static
peer = ipywidgets.HTML(render_run_static(backend.get(RUN_ID)))
peer.add_class("bench-peer")
def follow_with_html():  # the no-JavaScript way: redraw the static SVG on every change
    seq = 0
    while True:
        time.sleep(0.25)
        events = backend.events(RUN_ID, after=seq)
        if not events:
            continue
        seq = events[-1].seq
        info = backend.get(RUN_ID)
        peer.value = render_run_static(info)
        if info.state.terminal:
            return
threading.Thread(target=follow_with_html, daemon=True).start()
peer"""

OBSERVER = """
() => {
  window.seen = {};  // "view|step|state" -> epoch ms when first in the DOM
  const now = () => performance.timeOrigin + performance.now();
  const scan = () => {
    const t = now();
    for (const [name, sel] of [["ours", ".mlops-view"], ["peer", ".bench-peer"]]) {
      const box = document.querySelector(sel);
      if (!box) continue;
      for (const n of box.querySelectorAll(".mlops-node")) {
        const key = `${name}|${n.getAttribute("data-step")}|${n.getAttribute("data-state")}`;
        if (!(key in window.seen)) window.seen[key] = t;
      }
    }
  };
  new MutationObserver(scan).observe(document.body, { subtree: true, childList: true, attributes: true,
                                                     attributeFilter: ["data-state"] });
  scan();
}
"""


# Any work a finished view does shows up as DOM changes in it (a clock, a repaint): count them.
COUNT_MUTATIONS = """
() => {
  window.viewMutations = 0;
  new MutationObserver((records) => { window.viewMutations += records.length; })
    .observe(document.querySelector(".mlops-view"), { subtree: true, childList: true, attributes: true,
                                                       characterData: true });
}
"""


def proc_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def page_task_seconds(cdp: Any) -> float:
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    return float(metrics["TaskDuration"])


def _kernel_pid(server: LabServer, kernel_id: str) -> int:
    """The kernel process of a session: the one whose command line names its connection file."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if f"kernel-{kernel_id}.json".encode() in cmdline:
            return int(entry.name)
    raise RuntimeError(f"no process for kernel {kernel_id}")


def cpu_window(cdp: Any, kernel_pid: int, seconds: float = 10.0) -> dict[str, float]:
    k0, p0 = proc_cpu_seconds(kernel_pid), page_task_seconds(cdp)
    time.sleep(seconds)
    k1, p1 = proc_cpu_seconds(kernel_pid), page_task_seconds(cdp)
    return {"kernel_cpu_pct": 100 * (k1 - k0) / seconds, "page_main_thread_pct": 100 * (p1 - p0) / seconds}


def new_notebook(server: LabServer, name: str, cells: list[str]) -> str:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, server.root_dir / f"{name}.ipynb")
    return f"{name}.ipynb"


def open_and_wait_for_kernel(page: Any, server: LabServer, notebook: str) -> None:
    page.goto(f"{server.url}lab/workspaces/{notebook[:-6]}/tree/{notebook}?reset&token={server.token}")
    page.locator(".jp-Notebook .jp-CodeCell").first.wait_for()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if any(
            s["path"].endswith(notebook) and s["kernel"]["execution_state"] == "idle"
            for s in server.api("api/sessions")
        ):
            return
        time.sleep(0.25)
    raise RuntimeError(f"no idle kernel for {notebook}")


def run_cell(page: Any, index: int) -> None:
    page.locator(".jp-Notebook .jp-CodeCell").nth(index).locator(".jp-InputArea-editor").click()
    page.keyboard.press("Shift+Enter")


def bench_live(
    browser: Any, server: LabServer, names: list[str], edges: list[tuple[str, str]], changes: int
) -> dict[str, Any]:
    store = RunStore(server.mlops_home)
    rid = new_run_id()
    store.create_run(
        run_id=rid, name="bench-200", experiment="bench", pipeline_name="bench", parameters={},
        steps=names, edges=edges,
    )  # fmt: skip
    store.mark_running(rid, 0, "bench")
    cells = [c.replace("RUN_ID", repr(rid)) for c in (VIEW_CELL, PEER_CELL)]
    notebook = new_notebook(server, "bench-views", cells)
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    open_and_wait_for_kernel(page, server, notebook)
    page.evaluate(OBSERVER)
    kernel_pid = next(
        _kernel_pid(server, s["kernel"]["id"])
        for s in server.api("api/sessions")
        if s["path"].endswith(notebook)
    )
    cdp = page.context.new_cdp_session(page)
    cdp.send("Performance.enable")
    baseline_cpu = cpu_window(cdp, kernel_pid)  # JupyterLab and an idle kernel, no view yet

    t0 = time.perf_counter()
    run_cell(page, 0)
    page.wait_for_function(f"document.querySelectorAll('.mlops-view .mlops-node').length === {len(names)}")
    display_s = time.perf_counter() - t0
    run_cell(page, 1)
    page.wait_for_function(f"document.querySelectorAll('.bench-peer .mlops-node').length === {len(names)}")
    assert kernel_pid == int((server.root_dir / "kernel.pid").read_text())
    live_cpu = cpu_window(cdp, kernel_pid)

    rng = random.Random(1)
    writes: list[tuple[str, str, float]] = []
    for i in range(changes):
        step = names[i // 2]
        state = StepState.RUNNING if i % 2 == 0 else StepState.SUCCEEDED
        started = time.time() if state is StepState.RUNNING else writes[-1][2]
        store.record_step(
            rid,
            StepInfo(step, state, started_at=started, finished_at=None if i % 2 == 0 else time.time()),
        )
        writes.append((step, state.value, time.time()))  # committed: readers can see it from now
        time.sleep(rng.uniform(0.3, 0.7))  # not in phase with the 0.25 s polling
    store.finish_run(rid, RunState.SUCCEEDED)
    page.wait_for_selector('.mlops-view[data-run-state="SUCCEEDED"]')
    time.sleep(1.0)
    seen: dict[str, float] = page.evaluate("window.seen")
    latency: dict[str, list[float]] = {"ours": [], "peer": []}
    missing = 0
    for step, state, wrote in writes:
        for who in latency:
            key = f"{who}|{step}|{state}"
            if key in seen:
                latency[who].append(seen[key] / 1000 - wrote)
            else:
                missing += 1
    # The end re-sends the output once (its saved HTML becomes the final state) and JupyterLab digests
    # it for ~20 s; then the open view should cost what the notebook costs without it (the baseline).
    after_end_cpu = cpu_window(cdp, kernel_pid)
    time.sleep(10.0)
    page.evaluate(COUNT_MUTATIONS)
    done_cpu = cpu_window(cdp, kernel_pid)
    view_mutations = int(page.evaluate("window.viewMutations"))
    page.close()
    store.close()
    summary = {
        who: {"n": len(v), "p50_s": pct(v, 50), "p95_s": pct(v, 95), "max_s": max(v)}
        for who, v in latency.items()
        if v
    }
    return {
        "display_200_s": display_s,
        "latency": summary,
        "missed_changes": missing,
        "cpu_baseline": baseline_cpu,
        "cpu_live": live_cpu,
        "cpu_first_10s_after_end": after_end_cpu,
        "cpu_finished": done_cpu,
        "view_dom_mutations_while_finished": view_mutations,
    }


# -- 4. screenshot ----------------------------------------------------------------------------------
SHOT_CELLS = [
    "%load_ext jupyter_mlops",
    "%%pipeline setup\nimport numpy as np\nimport pandas as pd\nimport matplotlib.pyplot as plt",
    "%%pipeline params\nrows = 1000\nlr = 0.1",
    "%%component load_data\n"
    "rng = np.random.default_rng(0)\n"
    "df = pd.DataFrame({'tenure': rng.integers(1, 72, rows), 'charges': rng.normal(70, 20, rows)})\n"
    "df['churned'] = (df.charges / df.tenure > 2).astype(int)\n"
    "print(f'loaded {len(df)} customers')",
    "%%component clean\ndf = df[df.charges > 0].reset_index(drop=True)\nprint(f'kept {len(df)} rows')",
    "%%component features\n"
    "X = np.column_stack([df.tenure / 72, df.charges / 100, np.ones(len(df))])\n"
    "y = df.churned.to_numpy()",
    "%%component train\n"
    "w = np.zeros(X.shape[1])\n"
    "for epoch in range(30):\n"
    "    p = 1 / (1 + np.exp(-X @ w))\n"
    "    w -= lr * 10 * X.T @ (p - y) / len(y)\n"
    "    loss = -np.mean(y * np.log(p + 1e-9) + (1 - y) * np.log(1 - p + 1e-9))\n"
    "    log_metric('loss', float(loss), step=epoch)\n"
    "    if epoch % 10 == 0:\n"
    "        print(f'epoch {epoch}: weights {np.round(w, 3)}')\n"
    "accuracy = float(((X @ w > 0) == y).mean())\n"
    "log_metric('accuracy', accuracy)",
    "%%component train_fast\n"
    "w_fast = np.zeros(X.shape[1])\n"
    "for epoch in range(30):\n"
    "    p = 1 / (1 + np.exp(-X @ w_fast))\n"
    "    w_fast -= lr * 50 * X.T @ (p - y) / len(y)\n"
    "accuracy_fast = float(((X @ w_fast > 0) == y).mean())\n"
    "log_metric('accuracy', accuracy_fast)",
    "%%component evaluate\n"
    "best = 'train' if accuracy >= accuracy_fast else 'train_fast'\n"
    "plt.scatter(df.tenure, df.charges, c=y, s=4)\n"
    "plt.title(f'churn by tenure and charges (best: {best})')\n"
    "plt.show()\n"
    "best",
    "%pipeline run --name churn-model",
]


def take_screenshot(browser: Any, server: LabServer, path: Path) -> None:
    notebook = new_notebook(server, "run-view-shot", SHOT_CELLS)
    page = browser.new_page(viewport={"width": 1500, "height": 1500}, device_scale_factor=1.5)
    open_and_wait_for_kernel(page, server, notebook)
    run_cell(page, 0)
    for _ in SHOT_CELLS[1:]:  # Shift+Enter goes on to the next cell
        page.keyboard.press("Shift+Enter")
    view = page.locator(".mlops-view").first
    view.wait_for()
    page.wait_for_selector('.mlops-view[data-run-state="SUCCEEDED"]', timeout=300_000)
    view.locator('.mlops-node[data-step="train"]').click()
    page.wait_for_selector(".mlops-log")
    view.evaluate("el => el.scrollIntoView({ block: 'start' })")  # the whole view on screen
    time.sleep(0.5)
    box = view.bounding_box()
    assert box is not None
    pad = 12
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(
        path=str(path),
        clip={"x": box["x"] - pad, "y": box["y"] - pad, "width": box["width"] + 2 * pad,
              "height": min(box["height"], 900) + 2 * pad},
    )  # fmt: skip
    page.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--changes", type=int, default=30, help="step state changes to time (>= 20)")
    parser.add_argument("--screenshot", type=Path, help="also save a finished run's view as PNG here")
    parser.add_argument("--json", type=Path, help="write the results here as JSON")
    parser.add_argument("--screenshot-only", action="store_true", help="only take the screenshot")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    names, edges = random_dag(args.steps)
    results: dict[str, Any] = {"steps": len(names), "edges": len(edges)}
    measure = not args.screenshot_only
    if measure:
        results["layout"] = bench_layout(names, edges)
    with tempfile.TemporaryDirectory(prefix="bench-views-") as tmp, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True)
        if measure:
            results["frontend"] = bench_frontend_render(browser, names, edges)
        server = LabServer(Path(tmp))
        server.start()
        try:
            if measure:
                results["live"] = bench_live(browser, server, names, edges, args.changes)
            if args.screenshot:
                take_screenshot(browser, server, args.screenshot)
        finally:
            server.stop()
            browser.close()
    if not measure:
        return
    report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


def report(r: dict[str, Any]) -> None:
    lay, fe, live = r["layout"], r["frontend"], r["live"]
    lines = [f"DAG: {r['steps']} steps, {r['edges']} edges"]
    dot = ms(lay["dot_s"]) if lay.get("dot_s") else lay.get("dot_note", "n/a")
    lines.append(f"layout + payload + static SVG (Python): {ms(lay['ours_layout_payload_svg_s'])}")
    lines.append(f"  peer, graphviz dot -Tsvg: {dot}")
    lines.append(
        f"front-end render (Chromium, to paint): {ms(fe['render_median_s'])}"
        f" (first: {ms(fe['render_first_s'])})"
    )
    lines.append(f"display in JupyterLab (Shift+Enter to {r['steps']} nodes): {live['display_200_s']:.2f} s")
    for who, s in live["latency"].items():
        name = "run view (anywidget)" if who == "ours" else "peer, ipywidgets.HTML redrawn"
        lines.append(
            f"store write -> DOM, {name}: n={s['n']} p50 {ms(s['p50_s'])} p95 {ms(s['p95_s'])}"
            f" max {ms(s['max_s'])}"
        )
    lines.append(f"missed changes: {live['missed_changes']}")
    lines.append(f"DOM changes in the finished view over 10 s: {live['view_dom_mutations_while_finished']}")
    for phase in ("cpu_baseline", "cpu_live", "cpu_first_10s_after_end", "cpu_finished"):
        c = live[phase]
        lines.append(
            f"{phase}: kernel {c['kernel_cpu_pct']:.2f}% of a core,"
            f" page main thread {c['page_main_thread_pct']:.2f}%"
        )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
