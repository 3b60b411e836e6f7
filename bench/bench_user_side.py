"""Issue 15, from the user's side: `mlops.run(...)` -> `.wait()` returns, on the local backend, against
kfp.local (SubprocessRunner, use_venv=False) in the same run.

    python -m compileall -q jupyter_mlops          # a wheel install has .pyc; an editable one may not
    python bench/bench_user_side.py [--repeat 7] [--only NAME ...] [--skip-kfp-local] [--big]
        [--cache] [--cwd FOLDER]

--cache runs trivial, chains, thousand and notebook with the cache on (a user's default), every step a
miss (a new x each run); --cwd FOLDER runs from there (the steps' working directory, which the cache key
looks into for the notebook's own modules): the repository's root and an empty folder differ.

Cases (NAME): trivial (1-step run -> wait), chains (10 and 40 steps: fixed cost + per step), cached
(fully cached 20-step re-run; kfp.local with enable_caching=True), waiting (8 steps that sleep 0.5 s
and a join, 2 CPU slots), thousand (a 1,000-step chain, kfp compile included), notebook (the same
chain as 1,000 `%%component` cells, our compile included; only with --only notebook), cells (the
10/40-step chains as `%%component` cells, compiled up front; only with --only cells), view (the 1,000-step
chain with and without the notebook's live run view in this process: its CPU per update; only with --only
view), big (1 GiB numpy array
between two steps with the cache on, against `cp` of the same bytes and the steps' code in one plain
process, each from the same memory state, --memory warm and/or settled: see bench_big_handover.py;
only with --big).
Our figures are medians of --repeat (the big case: best of --repeat, as FACTS.md advises); kfp.local runs once
or twice per case (it takes ~0.4 s a step). The IR is compiled once up front (what `%pipeline run` of
an unchanged notebook hands over); the 1,000-step case includes its compile.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
warnings.filterwarnings("ignore")
HOME = Path(tempfile.mkdtemp(prefix="bench-user-side-"))
os.environ["JUPYTER_MLOPS_HOME"] = str(HOME / "home")

from bench_cleanup import RECENTLY_DELETED_S, finish  # noqa: E402  (bench/, the script's folder)
from chain_notebook import cell_chain  # noqa: E402  (bench/, the script's folder)

import jupyter_mlops as mlops  # noqa: E402
from jupyter_mlops.backends.local import LocalBackend  # noqa: E402
from jupyter_mlops.ir.documents import load_pipeline  # noqa: E402
from jupyter_mlops.models import RunState, StepState  # noqa: E402


def pipelines() -> dict[str, Any]:
    from kfp import dsl

    @dsl.component(base_image="python:3.11")
    def inc(x: int) -> int:
        return x + 1

    @dsl.component(base_image="python:3.11")
    def nap(i: int) -> int:
        import time

        time.sleep(0.5)
        return i

    @dsl.component(base_image="python:3.11")
    def join(values: list) -> int:
        return len(values)

    @dsl.component(base_image="python:3.11", packages_to_install=["numpy"])
    def make_array(gib: float, out: dsl.Output[dsl.Dataset]) -> None:
        import numpy as np

        np.save(out.path + ".npy", np.ones(int(gib * (1 << 30)) // 8))
        import os

        os.replace(out.path + ".npy", out.path)

    @dsl.component(base_image="python:3.11", packages_to_install=["numpy"])
    def read_array(data: dsl.Input[dsl.Dataset]) -> float:
        import numpy as np

        return float(np.load(data.path, mmap_mode="r")[-1])

    def chain_of(n: int) -> Any:
        @dsl.pipeline(name=f"chain-{n}")
        def chain(x: int = 0) -> int:
            task = inc(x=x)
            for _ in range(n - 1):
                task = inc(x=task.output)
            return task.output

        return chain

    @dsl.pipeline(name="waiting")
    def waiting() -> int:
        with dsl.ParallelFor([0, 1, 2, 3, 4, 5, 6, 7]) as i:
            napped = nap(i=i)
        return join(values=dsl.Collected(napped.output)).output

    @dsl.pipeline(name="big")
    def big(gib: float = 1.0) -> float:
        return read_array(data=make_array(gib=gib).outputs["out"]).output

    return {"chain": chain_of, "waiting": waiting, "big": big}


def user_run(
    spec: Any, backend: LocalBackend, *, cache: bool = True, misses: bool = False, **arguments: Any
) -> tuple[float, Any]:
    start = time.perf_counter()
    run = mlops.run(spec, arguments, backend=backend, cache=cache).wait()
    elapsed = time.perf_counter() - start
    if run.state is not RunState.SUCCEEDED:
        raise SystemExit(f"run {run.id} {run.state.value}: {run.error}")
    if misses and any(s.state is StepState.CACHED for s in run.info.steps):  # --cache: misses only
        raise SystemExit(f"run {run.id}: a step was found in the cache; the bench means every step to run")
    return elapsed, run


def kfp_local(call: Callable[[], Any], root: Path, caching: bool = False) -> float:
    """One kfp.local run; its copious output goes to root/output.log, not the terminal."""
    from kfp import local

    root.mkdir(parents=True, exist_ok=True)
    local.init(
        runner=local.SubprocessRunner(use_venv=False),
        pipeline_root=str(root / "outputs"),
        enable_caching=caching,
        cache_root=str(root / "cache"),
    )
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with (root / "output.log").open("ab") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            start = time.perf_counter()
            call()
            return time.perf_counter() - start
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--skip-kfp-local", action="store_true")
    parser.add_argument(
        "--cache",
        action="store_true",
        help="trivial, chains, thousand, notebook with the cache on (the default a user runs with): each run"
        " gets a new x, so every step is a miss that computes its key, runs and writes its entry",
    )
    parser.add_argument(
        "--cwd", default=None, help="run (and key the cache) from this folder, e.g. an empty notebook folder"
    )
    parser.add_argument("--big", action="store_true", help="also the 1 GiB hand-over (needs ~3.5 GiB free)")
    parser.add_argument("--memory", nargs="+", choices=["warm", "settled"], default=["warm", "settled"])
    parser.add_argument("--settle", type=float, default=3.0, help="big, settled: seconds idle first")
    parser.add_argument(
        "--cooldown",
        type=float,
        default=RECENTLY_DELETED_S,
        help="seconds waited after deleting this bench's home, so that a bench run next does not pay for"
        " the deleted files (bench_cleanup.py); 0: exit at once",
    )
    parser.add_argument(
        "--keep-home",
        action="store_true",
        help="stop this bench's service but delete nothing (a series' later benches then do not pay for"
        " this one's deleted files: bench_cleanup.py); the path is printed",
    )
    args = parser.parse_args()
    wanted = set(args.only or ["trivial", "chains", "cached", "waiting", "thousand"]) | (
        {"big"} if args.big else set()
    )
    kfp = not args.skip_kfp_local
    if args.cwd:
        os.chdir(args.cwd)
    fresh = iter(range(10**6, 1 << 40, 10**6))  # with --cache, x for each run: new keys for all its steps

    def run_kw() -> dict[str, Any]:
        return {"cache": True, "misses": True, "x": next(fresh)} if args.cache else {"cache": False}

    made = pipelines()
    backend = LocalBackend(max_workers=2)
    load = os.getloadavg()
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load average {load[0]:.1f} {load[1]:.1f},"
        f" cache {'on' if args.cache else 'off'}, from {os.getcwd()}"
    )
    rows: list[str] = []

    def median_of(spec: Any, keyed: bool = True) -> float:
        kw = run_kw if keyed else lambda: {"cache": False}
        return statistics.median(user_run(spec, backend, **kw())[0] for _ in range(args.repeat))

    if wanted & {"trivial", "chains"}:
        specs = {n: load_pipeline(made["chain"](n)) for n in (1, 10, 40)}
        user_run(specs[1], backend, **run_kw())  # warm this process's imports
        times = (
            {n: median_of(specs[n]) for n in (1, 10, 40)} if "chains" in wanted else {1: median_of(specs[1])}
        )
        rows.append(f"1-step trivial run -> wait:      ours {ms(times[1])}")
        if "chains" in wanted:
            per_step = (times[40] - times[10]) / 30
            rows.append(
                f"10 / 40-step chains:             ours {ms(times[10])} / {ms(times[40])}"
                f" -> {per_step * 1000:.1f} ms/step, fixed {ms(times[10] - 10 * per_step)}"
            )
        if kfp:
            one = kfp_local(lambda: made["chain"](1)(), HOME / "kfp-1")
            rows.append(f"   kfp.local 1 step:             {ms(one)} ({one / times[1]:.0f}x ours)")
            if "chains" in wanted:
                ten = kfp_local(lambda: made["chain"](10)(), HOME / "kfp-10")
                rows.append(
                    f"   kfp.local 10 steps:           {ms(ten)} ({(ten - one) / 9 * 1000:.0f} ms/step)"
                )

    if "cached" in wanted:
        # ours and kfp.local interleaved, wall and CPU time (both resolve in this process, so the CPU
        # time of this process is all of it and the load of a shared machine inflates it less)
        spec = load_pipeline(made["chain"](20))
        chain20 = made["chain"](20)
        user_run(spec, backend)  # fills the cache
        if kfp:
            kfp_local(lambda: chain20(), HOME / "kfp-cache", caching=True)
        walls: dict[str, list[float]] = {"ours": [], "kfp": []}
        cpus: dict[str, list[float]] = {"ours": [], "kfp": []}
        for _ in range(args.repeat):
            cpu = time.process_time()
            elapsed, run = user_run(spec, backend)
            cpus["ours"].append(time.process_time() - cpu)
            walls["ours"].append(elapsed)
            assert {s.state for s in run.info.steps} == {StepState.CACHED}, run.tasks
            if kfp:
                cpu = time.process_time()
                walls["kfp"].append(kfp_local(lambda: chain20(), HOME / "kfp-cache", caching=True))
                cpus["kfp"].append(time.process_time() - cpu)
        for who, label in (
            ("ours", "fully cached 20-step re-run:     ours"),
            ("kfp", "   kfp.local enable_caching=True:"),
        ):
            if walls[who]:
                rows.append(
                    f"{label} {ms(statistics.median(walls[who]))} (best {ms(min(walls[who]))},"
                    f" CPU {ms(statistics.median(cpus[who]))})"
                )

    if "waiting" in wanted:
        spec = load_pipeline(made["waiting"])
        took = median_of(spec, keyed=False)
        rows.append(f"8 steps sleeping 0.5 s + join:   ours {ms(took)} (2 CPU slots)")
        if kfp:
            rows.append(
                f"   kfp.local:                    {ms(kfp_local(lambda: made['waiting'](), HOME / 'kfp-w'))}"
            )

    if "thousand" in wanted:
        start = time.perf_counter()
        thousand = made["chain"](1000)  # kfp's @dsl.pipeline builds the graph here, task by task
        built = time.perf_counter() - start
        start = time.perf_counter()
        spec = load_pipeline(thousand)  # the IR documents from kfp's PipelineSpec
        compiled = time.perf_counter() - start
        took, _ = user_run(spec, backend, **run_kw())
        total = built + compiled + took
        rows.append(
            f"1,000-step chain, compile incl.: ours {total:8.2f} s = {total:.2f} ms/step"
            f" (kfp builds the pipeline {built:.2f} s, IR {compiled:.2f} s, run {took:.2f} s)"
        )

    if "cells" in wanted:  # the 10/40-step chains as `%%component` cells (steps import the step runtime)
        cell_specs = {n: load_pipeline(cell_chain(n)) for n in (10, 40)}
        user_run(cell_specs[10], backend, **run_kw())
        cells = {n: median_of(cell_specs[n]) for n in (10, 40)}
        per_step = (cells[40] - cells[10]) / 30
        rows.append(
            f"10 / 40 `%%component` cells:     ours {ms(cells[10])} / {ms(cells[40])}"
            f" -> {per_step * 1000:.1f} ms/step, fixed {ms(cells[10] - 10 * per_step)}"
        )

    if "notebook" in wanted:
        # the same chain written as 1,000 `%%component` cells: our compiler (kfp builds each step's
        # component and the pipeline) is in the figure, as `%pipeline run` of such a notebook pays it
        pipeline = cell_chain(1000)
        start, cpu = time.perf_counter(), time.process_time()
        spec = load_pipeline(pipeline)  # plan, kfp components and pipeline, IR documents
        compiled, compiled_cpu = time.perf_counter() - start, time.process_time() - cpu
        took, _ = user_run(spec, backend, **run_kw())
        total = compiled + took
        rows.append(
            f"1,000-cell notebook, compile incl.: ours {total:5.2f} s = {total:.2f} ms/step"
            f" (compile {compiled:.2f} s, {compiled_cpu:.2f} s CPU; run {took:.2f} s)"
        )

    if "view" in wanted:
        # the 1,000-step chain with the notebook's live run view in this process, as `%pipeline run`
        # shows it while the cell waits: the view's updates are this process's CPU
        from jupyter_mlops.widgets import run_view

        spec = load_pipeline(made["chain"](1000))
        for shown in (True, False):
            cpu, start = time.process_time(), time.perf_counter()
            run = mlops.run(spec, {}, backend=backend, cache=False)
            view = run_view(backend, run.id, live=True) if shown else None
            updates = [0]
            if view is not None:
                view.observe(lambda _, seen=updates: seen.__setitem__(0, seen[0] + 1), names="run")
            run.wait()
            if view is not None:
                view.settle()
                view.close()
            took, cpu = time.perf_counter() - start, time.process_time() - cpu
            per = f", {updates[0]} updates, {cpu / max(1, updates[0]) * 1000:.1f} ms each" if shown else ""
            rows.append(
                f"1,000-step chain {'with' if shown else 'without'} its live view: {took:5.2f} s,"
                f" this process's CPU {cpu:.2f} s{per}"
            )

    if "big" in wanted:  # same memory state before each measure: see bench_big_handover.py
        from bench_big_handover import measure

        spec = load_pipeline(made["big"])
        home = Path(os.environ["JUPYTER_MLOPS_HOME"])
        for memory in args.memory:
            rows += measure(
                lambda gib: user_run(spec, backend, cache=True, gib=gib)[1],
                home,
                HOME,
                args.repeat,
                memory,
                args.settle,
            )

    load = os.getloadavg()
    rows.append(f"load average at the end: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    print("\n".join(rows), flush=True)
    finish(HOME, [HOME / "home"], args.cooldown, keep=args.keep_home)  # service stopped, home deleted, a wait


if __name__ == "__main__":
    main()
