"""Several runner processes executing at once, sharing one cache directory, all get correct outputs."""

import functools
import json
import subprocess
import sys
from pathlib import Path

from kfp import dsl
from kfp.dsl import Dataset, Input, Output

from .conftest import compile_pipeline

component = functools.partial(dsl.component, base_image="python:3.11")


@component
def make(n: int, out: Output[Dataset]) -> int:
    with open(out.path, "w") as f:
        f.write("z" * n)
    return n + 1


@component
def measure(data: Input[Dataset], bonus: int) -> int:
    return len(open(data.path).read()) * 100 + bonus


@dsl.pipeline
def small(n: int = 1):
    made = make(n=n)
    measure(data=made.outputs["out"], bonus=made.outputs["Output"])


RUNS = """
import json, sys, threading, yaml
from pathlib import Path
from jupyter_mlops.executor import ExecutionOptions, execute

class Listener:
    def __init__(self, root): self.root, self.steps = root, {}
    def on_step(self, step): self.steps[step.name] = step
    def on_artifact(self, artifact): pass
    def on_metric(self, metric): pass
    def log_path(self, step): return self.root / "logs" / f"{step}.log"

spec_path, base, cache, worker = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4]
spec = list(yaml.safe_load_all(spec_path.read_text()))
results = []
for i in range(5):
    n = i % 3  # the same arguments recur across runs and processes: cache hits race with cache writes
    workdir = base / f"{worker}-{i}"
    listener = Listener(workdir)
    options = ExecutionOptions(workdir=workdir, cache_dir=cache)
    state, error = execute(spec, {"n": n}, options, listener, threading.Event())
    steps = {k: [s.state.value, s.outputs.get("Output")] for k, s in listener.steps.items()}
    results.append({"n": n, "state": state.value, "error": error, "steps": steps})
print(json.dumps(results))
"""


def test_twenty_runs_from_four_processes_sharing_a_cache_all_finish_right(tmp_path: Path) -> None:
    spec = tmp_path / "small.yaml"
    compile_pipeline(small, spec)
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", RUNS, str(spec), str(tmp_path / "runs"), str(tmp_path / "cache"), str(w)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for w in range(4)
    ]
    results = []
    for w in workers:
        out, _ = w.communicate(timeout=600)
        assert w.returncode == 0
        results += json.loads(out.strip().splitlines()[-1])

    assert len(results) == 20
    for r in results:
        assert r["state"] == "SUCCEEDED", r["error"]
        assert r["steps"]["make"][0] in ("SUCCEEDED", "CACHED")
        assert r["steps"]["measure"][1] == r["n"] * 100 + r["n"] + 1
    assert sum(r["steps"]["measure"][0] == "CACHED" for r in results) >= 10  # 3 distinct inputs in 20 runs
