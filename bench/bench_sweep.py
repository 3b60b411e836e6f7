"""Benchmark a 16-point grid sweep whose first 3 steps do not depend on the swept parameters.

    python -m compileall -q jupyter_mlops && python bench/bench_sweep.py [--skip-kfp-local] [--skip-optuna]

The pipeline (kfp DSL, 5 steps): shared1 -> shared2 -> shared3 (each sleeps SHARED_S, reads only `n`)
-> swept1(a, b) -> swept2 (each sleeps SWEPT_S; swept2 logs the metric). The sweep walks a 4 x 4 grid
of (a, b) with `--parallel` = the machine's cores, on the local backend, from the user's side
(`jupyter_mlops.sweeps.sweep(..., wait=True)`, fresh home). Checked: each shared step ran once (one
SUCCEEDED, 15 CACHED). Target: wall <= 1.3 x (the 3 shared steps once + 16 x the 2 swept steps / cores),
with the steps' own durations as the store recorded them.

Peers, in the same run: 16 independent `kfp.local` runs (SubprocessRunner(use_venv=False)), and an
Optuna loop (GridSampler over the same 16 points) calling the pipeline's step functions as plain Python.
"""

import argparse
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
warnings.filterwarnings("ignore", category=FutureWarning)

SHARED_S = 1.0
SWEPT_S = 0.5
A_VALUES = [1, 2, 3, 4]
B_VALUES = [0.0, 0.25, 0.5, 0.75]


def build() -> tuple[Any, dict[str, Any]]:
    from kfp import dsl
    from kfp.dsl import Metrics, Output

    @dsl.component(base_image="python:3.11")
    def shared1(n: int) -> int:
        import time

        time.sleep(1.0)
        return n + 1

    @dsl.component(base_image="python:3.11")
    def shared2(x: int) -> int:
        import time

        time.sleep(1.0)
        return x * 2

    @dsl.component(base_image="python:3.11")
    def shared3(x: int) -> int:
        import time

        time.sleep(1.0)
        return x + 3

    @dsl.component(base_image="python:3.11")
    def swept1(x: int, a: int, b: float) -> float:
        import time

        time.sleep(0.5)
        return x - (a - 3) ** 2 - 4 * (b - 0.5) ** 2

    @dsl.component(base_image="python:3.11")
    def swept2(v: float, metrics: Output[Metrics]) -> float:
        import time

        time.sleep(0.5)
        metrics.log_metric("score", v)
        return v

    @dsl.pipeline(name="sweep-bench")
    def pipeline(n: int = 1, a: int = 1, b: float = 0.0) -> None:
        s1 = shared1(n=n)
        s2 = shared2(x=s1.output)
        s3 = shared3(x=s2.output)
        t1 = swept1(x=s3.output, a=a, b=b)
        swept2(v=t1.output)

    functions = {
        "shared1": shared1.python_func,
        "shared2": shared2.python_func,
        "shared3": shared3.python_func,
        "swept1": swept1.python_func,
    }
    return pipeline, functions


def ours(pipeline: Any, root: Path, cores: int) -> tuple[float, float, float, Any]:
    from jupyter_mlops.backends.local import LocalBackend
    from jupyter_mlops.sweeps import sweep

    backend = LocalBackend(root / "home")
    start = time.perf_counter()
    s = sweep(pipeline, {"a": A_VALUES, "b": B_VALUES}, metric="swept2.score", parallel=cores,
              backend=backend, working_dir=root, name="bench", wait=True)  # fmt: skip
    wall = time.perf_counter() - start
    runs = [backend.get(t.run_id or "") for t in s.trials]
    assert len(runs) == 16 and all(r.state.value == "SUCCEEDED" for r in runs), [r.state for r in runs]
    shared_time = 0.0
    for name in ("shared1", "shared2", "shared3"):
        states = [r.step(name).state.value for r in runs]
        assert states.count("SUCCEEDED") == 1 and states.count("CACHED") == 15, (name, states)
        ran = next(r.step(name) for r in runs if r.step(name).state.value == "SUCCEEDED")
        shared_time += ran.duration or 0.0
    swept_time = sum((r.step(n).duration or 0.0) for r in runs for n in ("swept1", "swept2"))
    ideal = shared_time + swept_time / cores
    # The same with the steps' own sleeps (their recorded durations also hold the step process's start):
    # swept2 runs only for distinct swept1 values (equal ones come from the cache).
    swept2_ran = sum(1 for r in runs if r.step("swept2").state.value == "SUCCEEDED")
    nominal = 3 * SHARED_S + (16 + swept2_ran) * SWEPT_S / cores
    best = s.best
    assert best is not None and (best.params["a"], best.params["b"]) == (3, 0.5)
    return wall, ideal, nominal, s


def kfp_local_runs(pipeline: Any, root: Path) -> float:
    from kfp import local

    log = root / "kfp-local-output.log"
    start = time.perf_counter()
    with open(log, "w") as out:
        saved = os.dup(1), os.dup(2)
        os.dup2(out.fileno(), 1)
        os.dup2(out.fileno(), 2)
        try:
            local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(root / "kfp-root"))
            for a in A_VALUES:
                for b in B_VALUES:
                    pipeline(n=1, a=a, b=b)
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
    return time.perf_counter() - start


def optuna_loop(functions: dict[str, Any]) -> float:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = {"a": A_VALUES, "b": B_VALUES}
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.GridSampler(space, seed=0))

    def objective(trial: Any) -> float:
        a = trial.suggest_categorical("a", A_VALUES)
        b = trial.suggest_categorical("b", B_VALUES)
        x = functions["shared3"](x=functions["shared2"](x=functions["shared1"](n=1)))
        v = float(functions["swept1"](x=x, a=a, b=b))
        time.sleep(SWEPT_S)  # swept2's work (its Metrics output has no plain-function form)
        return v

    start = time.perf_counter()
    study.optimize(objective, n_trials=16)
    assert study.best_params == {"a": 3, "b": 0.5}
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-kfp-local", action="store_true")
    parser.add_argument("--skip-optuna", action="store_true")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    pipeline, functions = build()
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
        root = Path(tmp)
        os.environ["JUPYTER_MLOPS_HOME"] = str(root / "home")
        wall, ideal, nominal, _ = ours(pipeline, root, cores)
        print(f"cores: {cores}; load average {os.getloadavg()[0]:.1f}")
        print(f"ours, 16-point grid, --parallel {cores}: {wall:6.1f} s; shared steps ran once (15 cached)")
        print(f"   ideal = 3 shared once + 16 x 2 swept / {cores} cores = {ideal:5.1f} s (stored step times)")
        print(f"   ratio: {wall / ideal:4.2f} x ideal (target <= 1.3)")
        print(f"   with the steps' own sleeps instead: ideal {nominal:5.1f} s, ratio {wall / nominal:4.2f}")
        if not args.skip_optuna:
            loop = optuna_loop(functions)
            print(f"Optuna loop, steps as plain functions: {loop:6.1f} s ({loop / wall:4.1f}x ours)")
        if not args.skip_kfp_local:
            peer = kfp_local_runs(pipeline, root)
            print(f"16 independent kfp.local runs:        {peer:6.1f} s ({peer / wall:4.1f}x ours)")


if __name__ == "__main__":
    main()
