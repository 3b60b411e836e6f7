"""Compiling and bookkeeping from the user's side (issue 15, compile side; issue 10, compiled size).

1. `jupyter-mlops compile examples/demo.ipynb` in a fresh process each time, against the floor of any
   compile (`python -c "import kfp"`: a compile must import kfp) and, with --kale-path, Kale's CLI on
   the same notebook written with Kale's cell tags, in the same run.
2. The demo's YAML size, and `compile_yaml` / `compile_documents` in one process (kfp imported);
   `--only cells`: a chain of 1,000 `%%component` cells compiled to IR documents in one process (kfp
   imported), CPU ms a step, best and median (with PYTHONPATH=TREE, alternating trees: a same-minutes
   comparison of compilers).
3. The scheduler alone: chains of 400 and 1,000 tasks that run no process (empty sub-DAGs), ms/task.
4. 50,000 `log_metric` points in a step, run with `mlops.run(...).wait()` on the local backend: the
   extra time over the same step logging none, and in the same run what writing the same points one
   transaction each (`RunStore.record_metric`, the way before) takes.

Run: python -m compileall -q jupyter_mlops && python bench/bench_compile.py [--repeat N] [--kale-path DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "examples" / "demo.ipynb"


def _median_ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


def _wall(
    cmd: list[str], repeat: int, env: dict[str, str] | None = None, cwd: str | None = None
) -> list[float]:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, env=env, cwd=cwd)
        out.append(time.perf_counter() - t0)
    return out


def _kale_notebook(path: Path) -> None:
    """The demo notebook as Kale reads it: the same code, steps marked with Kale's cell tags."""
    nb = json.loads(DEMO.read_text())
    cells = []
    prev: list[str] = []
    deps = {"stats": ["load"], "scale": ["load"], "train_slow": ["scale"], "train_fast": ["scale"],
            "evaluate": ["train_slow", "train_fast", "stats", "scale"]}  # fmt: skip
    for cell in nb["cells"]:
        src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["cell_type"] != "code" or src.startswith("%load_ext") or src.startswith("%pipeline"):
            continue
        first, _, body = src.partition("\n")
        if first.startswith("%%pipeline setup"):
            tags = ["imports"]
            body = body.replace("class Standardizer", "\nclass Standardizer")
        elif first.startswith("%%pipeline params"):
            tags = ["pipeline-parameters"]
        elif first.startswith("%%component"):
            name = first.split()[1]
            tags = [f"step:{name}"] + [f"prev:{p}" for p in deps.get(name, prev)]
            body = body.replace("log_metric(", "print(")
            prev = [name]
        else:
            continue
        cells.append({"cell_type": "code", "metadata": {"tags": tags}, "source": body, "outputs": [],
                      "execution_count": None})  # fmt: skip
    nb["cells"] = cells
    nb["metadata"]["kubeflow_notebook"] = {
        "experiment_name": "demo",
        "pipeline_name": "demo",
        "pipeline_description": "demo",
        "base_image": "python:3.11",
    }
    path.write_text(json.dumps(nb))


def bench_cli(repeat: int, kale_path: str | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        ours = _wall([sys.executable, "-m", "jupyter_mlops.cli", "compile", str(DEMO), "-o", f"{tmp}/d.yaml"],
                     repeat)  # fmt: skip
        floor = _wall([sys.executable, "-c", "import kfp"], repeat)
        result = {"ours_ms": _median_ms(ours), "import_kfp_ms": _median_ms(floor)}
        if kale_path:
            kale_nb = Path(tmp) / "demo_kale.ipynb"
            _kale_notebook(kale_nb)
            env = dict(os.environ, PYTHONPATH=kale_path)
            code = ("import sys; from kale.cli import main; "
                    f"sys.argv = ['kale', '--nb', {str(kale_nb)!r}]; main()")  # fmt: skip
            try:
                kale = _wall([sys.executable, "-c", code], repeat, env=env, cwd=tmp)
                result["kale_ms"] = _median_ms(kale)
            except subprocess.CalledProcessError as exc:
                result["kale_error"] = (exc.stderr or b"").decode()[-500:]
    return result


def bench_demo_compile(repeat: int) -> dict[str, Any]:
    from jupyter_mlops.compiler import compile_documents, compile_yaml
    from jupyter_mlops.notebook.reader import pipeline_from_notebook

    pipeline = pipeline_from_notebook(DEMO)
    text = compile_yaml(pipeline)  # kfp imported, caches warm
    compile_documents(pipeline)
    yaml_t, docs_t = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        compile_yaml(pipeline)
        yaml_t.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        compile_documents(pipeline)
        docs_t.append(time.perf_counter() - t0)
    return {"yaml_kb": len(text.encode()) / 1000, "compile_yaml_ms": _median_ms(yaml_t),
            "compile_documents_ms": _median_ms(docs_t)}  # fmt: skip


def bench_cell_chain(repeat: int, steps: int = 1000) -> dict[str, Any]:
    """CPU of compiling the n-cell chain (bench/chain_notebook.py) to IR documents, a new notebook each
    time."""
    from chain_notebook import cell_chain

    from jupyter_mlops.ir.documents import load_pipeline

    load_pipeline(cell_chain(20))  # kfp imported, caches warm
    cpu = []
    for _ in range(repeat):
        pipeline = cell_chain(steps)
        t0 = time.process_time()
        load_pipeline(pipeline)
        cpu.append(time.process_time() - t0)
    load = os.getloadavg()[0]
    return {"steps": steps, "cpu_ms_per_step_best": min(cpu) * 1000 / steps,
            "cpu_ms_per_step_median": _median_ms(cpu) / steps, "load": load}  # fmt: skip


def _chain(count: int) -> list[dict[str, Any]]:
    tasks: dict[str, Any] = {}
    for i in reversed(range(count)):
        task: dict[str, Any] = {"componentRef": {"name": "comp-empty"}, "taskInfo": {"name": f"t{i}"}}
        if i:
            task["dependentTasks"] = [f"t{i - 1}"]
        tasks[f"t{i}"] = task
    return [{"pipelineInfo": {"name": "chain"}, "components": {"comp-empty": {"dag": {"tasks": {}}}},
             "root": {"dag": {"tasks": tasks}}}]  # fmt: skip


class _Quiet:
    def on_step(self, step: Any) -> None: ...
    def on_artifact(self, artifact: Any) -> None: ...
    def on_metric(self, metric: Any) -> None: ...

    def log_path(self, step: str) -> Path:
        return Path(tempfile.gettempdir()) / "bench-compile.log"


def bench_scheduler(repeat: int) -> dict[str, Any]:
    from jupyter_mlops.executor import ExecutionOptions, execute

    out: dict[str, Any] = {}
    for count in (400, 1000):
        spec = _chain(count)
        times = []
        for _ in range(repeat):
            with tempfile.TemporaryDirectory() as tmp:
                options = ExecutionOptions(workdir=Path(tmp), cache_dir=Path(tmp) / "cache", max_workers=2)
                t0 = time.perf_counter()
                state, error = execute(spec, {}, options, _Quiet(), threading.Event())
                times.append(time.perf_counter() - t0)
                assert state.value == "SUCCEEDED", error
        out[f"chain_{count}_ms_per_task"] = _median_ms(times) / count
    return out


METRICS_CELLS = [
    "%%pipeline params\npoints = 50000\n",
    "%%component log\nfor i in range(points):\n    log_metric('loss', 1.0 / (i + 1), step=i)\ndone = points",
]


def bench_metrics(repeat: int) -> dict[str, Any]:
    os.environ["JUPYTER_MLOPS_HOME"] = tempfile.mkdtemp(prefix="bench-metrics-")
    import jupyter_mlops as mlops
    from jupyter_mlops.compiler import compile_documents
    from jupyter_mlops.models import MetricPoint
    from jupyter_mlops.notebook.reader import feed_cell
    from jupyter_mlops.notebook.workspace import Workspace
    from jupyter_mlops.store import RunStore, new_run_id

    workspace = Workspace("metrics")
    for i, cell in enumerate(METRICS_CELLS, 1):
        feed_cell(workspace, cell, f"code cell {i}")
    pipeline = workspace.active
    documents = compile_documents(pipeline)
    with_points, without = [], []
    for _ in range(repeat):
        for points, sink in ((0, without), (50_000, with_points)):
            for _attempt in range(3):  # on a shared machine a stray SIGKILL may hit a step: run again
                t0 = time.perf_counter()
                run = mlops.run(documents, arguments={"points": points}, cache=False).wait(timeout=600)
                if run.state.value == "SUCCEEDED" or "SIGKILL" not in str(run.error):
                    break
            sink.append(time.perf_counter() - t0)
            assert run.state.value == "SUCCEEDED", run.error
    history = run.backend.store.metric_history(run.id, "loss")  # type: ignore[attr-defined]
    store = RunStore(Path(tempfile.mkdtemp(prefix="bench-store-")))
    run_id = new_run_id()
    store.create_run(run_id=run_id, name="r", experiment=None, pipeline_name="p", parameters={},
                     steps=("log",), edges=[])  # fmt: skip
    t0 = time.perf_counter()
    for i in range(50_000):
        store.record_metric(MetricPoint(run_id, "log", "loss", 1.0 / (i + 1), index=i, time=1.0))
    one_each = time.perf_counter() - t0
    # The same loop in a plain cell (the notebook session's run), until a read here sees every point.
    mlops.log_metric("warm", 0.0)
    t0 = time.perf_counter()
    for i in range(50_000):
        mlops.log_metric("loss", 1.0 / (i + 1), step=i)
    session = mlops.get_run(mlops.api.notebook_session_run_id() or "")
    plain_cell = time.perf_counter() - t0
    assert session.info.metrics["loss"] == 1.0 / 50_000
    return {"plain_cell_50k_ms": plain_cell * 1000,
            "run_50k_ms": _median_ms(with_points), "run_0_ms": _median_ms(without),
            "extra_ms": _median_ms(with_points) - _median_ms(without),
            "one_transaction_each_ms": one_each * 1000, "history_points": len(history)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--kale-path", help="a --target directory with kubeflow-kale installed (the CLI peer)"
    )
    parser.add_argument("--only", choices=["cli", "compile", "cells", "scheduler", "metrics"])
    args = parser.parse_args()
    parts = {
        "cli": lambda: bench_cli(args.repeat, args.kale_path),
        "compile": lambda: bench_demo_compile(args.repeat),
        "cells": lambda: bench_cell_chain(args.repeat),
        "scheduler": lambda: bench_scheduler(args.repeat),
        "metrics": lambda: bench_metrics(max(1, args.repeat // 2)),
    }
    for name, run in parts.items():
        if args.only in (None, name):
            print(name, json.dumps({k: round(v, 2) if isinstance(v, float) else v for k, v in run().items()}))


if __name__ == "__main__":
    main()
