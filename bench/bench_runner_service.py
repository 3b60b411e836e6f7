"""Issue 15, the warm runner service, from the user's side: `mlops.run(...)` -> `.wait()` returns, with
the runs handed to the runner service and with a runner process per run (JUPYTER_MLOPS_RUNNER=process),
against kfp.local (SubprocessRunner, use_venv=False) in the same run; then the idle service's memory
and its exit after the idle period.

    python bench/bench_runner_service.py [--repeat 7] [--skip-kfp-local] [--idle 3]

Cases: a 1-step trivial run; 10- and 40-step chains (per step = difference / 30); a 5-step chain whose
steps import numpy and pandas (per step = run / 5). Figures are medians of --repeat, cache off; the IR
is compiled once up front. kfp.local runs each case once (it takes ~0.4 s a step).
"""

# No `from __future__ import annotations`: kfp reads the component signatures' real types.

import argparse
import os
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
warnings.filterwarnings("ignore")
HOME = Path(tempfile.mkdtemp(prefix="bench-service-"))
os.environ["JUPYTER_MLOPS_HOME"] = str(HOME / "home")

import psutil  # noqa: E402
from bench_user_side import kfp_local, ms  # noqa: E402

import jupyter_mlops as mlops  # noqa: E402
from jupyter_mlops.backends import service_client  # noqa: E402
from jupyter_mlops.backends.local import LocalBackend  # noqa: E402
from jupyter_mlops.backends.service_address import socket_path  # noqa: E402
from jupyter_mlops.ir.documents import load_pipeline  # noqa: E402
from jupyter_mlops.models import RunState  # noqa: E402


def pipelines() -> dict[str, Any]:
    from kfp import dsl

    @dsl.component(base_image="python:3.11")
    def inc(x: int) -> int:
        return x + 1

    @dsl.component(base_image="python:3.11", packages_to_install=["numpy", "pandas"])
    def frame_sum(x: int) -> int:
        import numpy as np
        import pandas as pd

        return int(pd.DataFrame({"a": np.arange(10)}).a.sum()) + x

    def chain_of(n: int, step: Any) -> Any:
        @dsl.pipeline(name=f"chain-{n}")
        def chain(x: int = 0) -> int:
            task = step(x=x)
            for _ in range(n - 1):
                task = step(x=task.output)
            return task.output

        return chain

    return {
        **{f"inc-{n}": chain_of(n, inc) for n in (1, 10, 40)},
        "pandas-5": chain_of(5, frame_sum),
    }


def timed(spec: Any, backend: LocalBackend) -> float:
    start = time.perf_counter()
    run = mlops.run(spec, {}, backend=backend, cache=False).wait()
    elapsed = time.perf_counter() - start
    if run.state is not RunState.SUCCEEDED:
        raise SystemExit(f"run {run.id} {run.state.value}: {run.error}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--skip-kfp-local", action="store_true")
    parser.add_argument("--idle", type=float, default=3.0, help="the service's idle period for the last case")
    args = parser.parse_args()
    made = pipelines()
    specs = {name: load_pipeline(p) for name, p in made.items()}
    load = os.getloadavg()
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load average {load[0]:.1f} {load[1]:.1f}"
    )
    results: dict[str, dict[str, float]] = {}
    for mode in ("service", "process"):
        os.environ["JUPYTER_MLOPS_RUNNER"] = mode
        os.environ["JUPYTER_MLOPS_SERVICE_IDLE_S"] = "600"
        backend = LocalBackend(max_workers=2)
        timed(specs["inc-1"], backend)  # starts the service; warms this process's imports
        timed(specs["pandas-5"], backend)  # and whatever the service learns from a first run
        results[mode] = {
            name: statistics.median(timed(specs[name], backend) for _ in range(args.repeat)) for name in specs
        }
        print(f"runner: {service_client.describe(backend.home)}")
    for mode, t in results.items():
        per_step = (t["inc-40"] - t["inc-10"]) / 30
        chains = f"{ms(t['inc-10'])} / {ms(t['inc-40'])}"
        pandas = t["pandas-5"]
        print(f"[{mode}] 1-step trivial run -> wait: {ms(t['inc-1'])}")
        print(f"[{mode}] 10 / 40-step chains: {chains} -> {per_step * 1000:.1f} ms/step")
        print(f"[{mode}] numpy+pandas 5-step chain: {ms(pandas)} -> {pandas / 5 * 1000:.1f} ms/step")
    if not args.skip_kfp_local:
        for name in ("inc-1", "inc-10", "pandas-5"):
            took = kfp_local(lambda name=name: made[name](), HOME / f"kfp-{name}")
            print(f"[kfp.local] {name}: {ms(took)}")

    # The idle service: its resident memory, and its exit after the idle period.
    os.environ["JUPYTER_MLOPS_RUNNER"] = "service"
    backend = LocalBackend(max_workers=2, home=HOME / "idle-home")
    os.environ["JUPYTER_MLOPS_SERVICE_IDLE_S"] = f"{args.idle:g}"
    timed(specs["inc-1"], backend)
    reply = service_client._ask(socket_path(backend.home), {"op": "ping"}, 5.0)
    service = psutil.Process(int(reply["pid"]))
    time.sleep(0.5)
    rss = service.memory_info().rss / 2**20
    uss = service.memory_full_info().uss / 2**20
    # its spare runner (with its step worker and the worker's spare step): their proportional share
    spare = [psutil.Process(reply["spare"])] if reply.get("spare") else []
    spare += [p for s in spare for p in s.children(recursive=True)]
    spare_pss = sum(p.memory_full_info().pss for p in spare) / 2**20
    start = time.monotonic()

    def gone() -> bool:
        try:
            return not service.is_running() or service.status() == psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return True

    while not gone() and time.monotonic() - start < 120:
        time.sleep(0.05)
    waited = time.monotonic() - start
    state = "gone" if gone() else "STILL THERE"
    print(
        f"idle service: {rss:.1f} MB resident ({uss:.1f} MB its own; its spare runner's "
        f"{len(spare)} processes {spare_pss:.1f} MB proportional), "
        f"{state} {waited:.1f} s later (idle period {args.idle:g} s)"
    )


if __name__ == "__main__":
    main()
