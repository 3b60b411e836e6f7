"""Two checkouts of jupyter-mlops compared run by run on a busy machine: `mlops.run(...)` -> `.wait()` of
one pipeline, alternating between a runner service that runs tree A and one that runs tree B.

    python bench/bench_paired_trees.py BASE_TREE OTHER_TREE [--pairs 60] [--gap 0] [--steps 1]
        [--cells [--new-programs]] [--cache [--cache-other-only]] [--cwd FOLDER]

On a shared machine the load moves a whole benchmark's median by 2x from one run to the next, so two
trees benchmarked one after the other cannot be told apart. Here one client process (this checkout's
client code) keeps two homes; each home's runner service is started with the tree's root on its
PYTHONPATH, so the runner service, its runners, step workers and steps run that tree's code. The runs
alternate A B B A ..., so both trees see the same minutes of load; what is compared is the median of
the per-pair differences and how many pairs the second tree won. Only the client side (submit, wait)
is this checkout's for both. CPU: the services' process trees, live descendants (the zygote, its
workers) and reaped children (runners, steps) included. Beside the whole run, the submit alone
(`mlops.run` returning: the service reads the steps' imports and starts the runner meanwhile).
`--new-programs`: each run's cells add another number, so the service reads programs it has not seen
(as on a pipeline's first run); the pipelines are compiled before the runs, outside the times.
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
warnings.filterwarnings("ignore")

import psutil  # noqa: E402
from chain_notebook import cell_chain  # noqa: E402  (bench/, the script's folder)

import jupyter_mlops as mlops  # noqa: E402
from jupyter_mlops.backends import local  # noqa: E402
from jupyter_mlops.backends.local import LocalBackend  # noqa: E402
from jupyter_mlops.ir.documents import load_pipeline  # noqa: E402
from jupyter_mlops.models import RunState  # noqa: E402


def chain(steps: int) -> Any:
    from kfp import dsl

    @dsl.component(base_image="python:3.11")
    def inc(x: int) -> int:
        return x + 1

    @dsl.pipeline(name=f"chain-{steps}")
    def pipeline(x: int = 0) -> int:
        task = inc(x=x)
        for _ in range(steps - 1):
            task = inc(x=task.output)
        return task.output

    return load_pipeline(pipeline)


def service_of(home: Path) -> psutil.Process:
    """The home's runner service (forked runners share its command line: the one whose parent is not one)."""
    found = [
        p
        for p in psutil.process_iter(["cmdline"])
        if p.info["cmdline"] and f"--home {home}" in " ".join(p.info["cmdline"])
    ]
    pids = {p.pid for p in found}
    return next(p for p in found if p.ppid() not in pids)


def tree_cpu(process: psutil.Process) -> float:
    """CPU seconds of the process, of its children it reaped, and of its live descendants (the step
    workers' zygote, which reaps the workers, which reap the steps), the same way before and after."""
    total = 0.0
    for p in [process, *process.children(recursive=True)]:
        try:
            t = p.cpu_times()
        except psutil.Error:
            continue  # ended meanwhile: its parent's reaped children count it
        total += float(t.user + t.system + t.children_user + t.children_system)
    return total


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("base", type=Path)
    parser.add_argument("other", type=Path)
    parser.add_argument("--pairs", type=int, default=60)
    parser.add_argument("--gap", type=float, default=0.0, help="seconds between runs")
    parser.add_argument("--steps", type=int, default=1, help="a chain of this many steps")
    parser.add_argument("--cells", action="store_true", help="the chain as `%%%%component` cells")
    parser.add_argument(
        "--new-programs", action="store_true", help="with --cells: each run a pipeline new to the service"
    )
    parser.add_argument(
        "--cache", action="store_true", help="cache on, a new x each run: every step a miss that keys it"
    )
    parser.add_argument(
        "--cache-other-only",
        action="store_true",
        help="with --cache: the base tree runs with the cache off (one tree given twice: the cache's cost)",
    )
    parser.add_argument("--cwd", type=Path, default=None, help="run from here (the steps' working folder)")
    args = parser.parse_args()
    os.environ.setdefault("JUPYTER_MLOPS_SERVICE_IDLE_S", "60")
    tmp = Path(tempfile.mkdtemp(prefix="bench-paired-"))
    trees = {"base": str(args.base.resolve()), "other": str(args.other.resolve())}
    backends = {k: LocalBackend(tmp / k, max_workers=2) for k in trees}
    spec = load_pipeline(cell_chain(args.steps)) if args.cells else chain(args.steps)
    runs = 2 * (args.pairs + 3)
    fresh_specs = iter(
        [load_pipeline(cell_chain(args.steps, add=i + 2)) for i in range(runs)] if args.new_programs else []
    )
    if args.cwd:
        os.chdir(args.cwd)
    fresh = iter(range(10**6, 1 << 40, 10**6))  # --cache: x of each run, no step's key seen before
    submits: dict[str, list[float]] = {k: [] for k in trees}

    def one(k: str) -> float:
        local._runner_pythonpath = lambda: trees[k]  # the tree this home's service is started with
        arguments = {"x": next(fresh)} if args.cache else {}
        cache = args.cache and not (args.cache_other_only and k == "base")
        pipeline = next(fresh_specs) if args.new_programs else spec
        start = time.perf_counter()
        run = mlops.run(pipeline, arguments, backend=backends[k], cache=cache)
        submits[k].append(time.perf_counter() - start)
        run = run.wait()
        took = time.perf_counter() - start
        if run.state is not RunState.SUCCEEDED:
            raise SystemExit(f"{k}: run {run.id} {run.state.value}: {run.error}")
        return took

    for _ in range(3):  # start both services, warm this process
        for k in trees:
            one(k)
    submits = {k: [] for k in trees}
    time.sleep(0.5)
    services = {k: service_of(tmp / k) for k in trees}
    cpu_before = {k: tree_cpu(p) for k, p in services.items()}
    walls: dict[str, list[float]] = {k: [] for k in trees}
    for i in range(args.pairs):
        for k in ("base", "other") if i % 2 == 0 else ("other", "base"):
            walls[k].append(one(k))
            if args.gap:
                time.sleep(args.gap)
    time.sleep(0.5)
    load = os.getloadavg()
    for k, tree in trees.items():
        w = walls[k]
        cpu = (tree_cpu(services[k]) - cpu_before[k]) / args.pairs
        print(
            f"{k:5} {tree}: median {statistics.median(w) * 1000:.1f} ms, min {min(w) * 1000:.1f} ms, "
            f"CPU of its service's tree {cpu * 1000:.1f} ms a run; submit median "
            f"{statistics.median(submits[k]) * 1000:.1f} ms"
        )
    diffs = [o - b for o, b in zip(walls["other"], walls["base"], strict=True)]
    submit_diffs = [o - b for o, b in zip(submits["other"], submits["base"], strict=True)]
    submit_won = sum(d < 0 for d in submit_diffs)
    won = sum(d < 0 for d in diffs)
    print(
        f"{args.steps}-step {'cell ' if args.cells else ''}chain, cache "
        f"{'off/on' if args.cache and args.cache_other_only else 'on' if args.cache else 'off'}, "
        f"from {os.getcwd()}, other - base per pair: median {statistics.median(diffs) * 1000:+.1f} ms; "
        f"other faster in {won} of {args.pairs}; submit: median "
        f"{statistics.median(submit_diffs) * 1000:+.1f} ms, other faster in {submit_won}; "
        f"load average {load[0]:.1f} {load[1]:.1f}"
    )
    for process in services.values():
        process.kill()


if __name__ == "__main__":
    main()
