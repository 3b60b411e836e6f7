"""What one step costs inside its own process, as the step worker runs it: CPU time and page faults of a
notebook step (a `%%component` cell of the 1,000-cell chain) and of a kfp `inc` step, each in a process
forked from a process preloaded as the step workers' zygote is (worker.preload and the step runtime).

    python -m compileall -q jupyter_mlops
    python bench/bench_forked_step.py [--trees TREE ...] [--rounds 3] [--steps 300] [--kind cell inc]
        [--whole]

Each tree's worker.py and package run in a process of their own (`PYTHONPATH=TREE`), the trees alternating
round by round, so that trees compare in the same minutes of a busy machine. What is timed: from the
step's request to its end (kfp's executor loading the step's module, running it, writing its outputs),
in the forked child, after what a spare step does before its request (`_prepare`). Not timed: the fork,
the runner, the process's exit. Medians over --steps forks; files go to a folder in /dev/shm, removed
at the end.

--whole: the step's process from its fork to its reaping instead, as the worker runs a spare (its
`_run_child`: readied before its request, then the request written on its pipe 15 ms after the fork,
its word at the end read on its `done` pipe): the CPU time and page faults of the whole process (its
exit included: the parent's RUSAGE_CHILDREN around each step), the parent's CPU for the fork, and the
wall time from the request's write to the step's word that it is done (its path once it is asked).
A tree whose worker takes a spare's `ahead` module (the next step of a chain, which the engine names in
its request for the step before) is given the step's module so, as a chain's steps are.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

# The step of the notebook chain (bench/chain_notebook.py) as our compiler writes it (without the
# bootstrap's fallback install), and kfp's `inc`.
CELL = """
import kfp
from kfp import dsl
from kfp.dsl import *
from typing import *

def s1(v0: int) -> NamedTuple('Outputs', [('v1', int)]):
    try:
        from jupyter_mlops._version import __version__ as _mlops_run_step
    except:
        _mlops_run_step = None
    from jupyter_mlops.step_runtime.run import _mlops_run_step as _mlops_run_step
    return _mlops_run_step(step='s1', setup='', cell='v1: int = v0 + 1\\n', args={'v0': v0},
        inputs={'v0': ('v0', 'int')}, outputs={'v1': ('v1', 'int')}, result=False, cell_lines=[[1, 2]],
        setup_lines=[[1, 2]])
"""
INC = """
import kfp
from kfp import dsl
from kfp.dsl import *
from typing import *

def s1(v0: int) -> int:
    return v0 + 1
"""

CHILD = r"""
import gc, importlib, inspect, json, os, pkgutil, resource, statistics, sys, tempfile, time, types
tree, kind, steps = sys.argv[1], sys.argv[2], int(sys.argv[3])
path = os.path.join(tree, "jupyter_mlops", "executor", "worker.py")
worker = types.ModuleType("_jupyter_mlops_step_worker")
worker.__file__ = path
exec(compile(open(path).read(), path, "exec"), worker.__dict__)
import jupyter_mlops.step_runtime as runtime
for module in pkgutil.iter_modules(runtime.__path__):
    importlib.import_module("jupyter_mlops.step_runtime." + module.name)
worker.preload()
folder = tempfile.mkdtemp(dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
import atexit, shutil
_owner = os.getpid()  # deleted however this harness ends (a failed assert too), never by a forked child
atexit.register(lambda: os.getpid() == _owner and shutil.rmtree(folder, ignore_errors=True))
source, output = json.loads(sys.stdin.read())
module = os.path.join(folder, "component.py")
with open(module, "w") as f:
    f.write(source)
executor_input = {"inputs": {"parameterValues": {"v0": 3}, "artifacts": {}}, "outputs": {
    "parameters": {output: {"outputFile": os.path.join(folder, "parameters", output)}}, "artifacts": {},
    "outputFile": os.path.join(folder, "output.json")}}
request = {"id": 1, "module": module, "function": "s1", "executor_input": json.dumps(executor_input),
           "log": os.path.join(folder, "step.log"), "env": {}}
found = []
if os.environ.get("BENCH_WHOLE"):
    line = json.dumps(request).encode()
    arm = worker._die_with_parent()
    # told its module ahead, as the engine tells a chain's next step's spare (a tree whose worker takes it)
    ahead = [module] if "ahead" in inspect.signature(worker._run_child).parameters else []
    for _ in range(steps):
        requests, ask = os.pipe()
        done, said = os.pipe()
        before, fork_cpu = resource.getrusage(resource.RUSAGE_CHILDREN), time.process_time()
        pid = os.fork()
        if pid == 0:
            os.close(ask)
            os.close(done)
            worker._run_child(None, (), arm, said, requests, frozenset(), -1, *ahead)
        fork_cpu = time.process_time() - fork_cpu
        os.close(requests)
        os.close(said)
        time.sleep(0.015)  # the spare is ready (as when the step before it runs)
        asked = time.perf_counter()
        os.write(ask, line)
        os.close(ask)
        os.read(done, 64)
        path_wall = time.perf_counter() - asked
        os.close(done)
        _, status = os.waitpid(pid, 0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        found.append([0 if os.waitstatus_to_exitcode(status) in (0, -9) else 1, cpu,
                      after.ru_minflt - before.ru_minflt, fork_cpu, path_wall])
    log = open(request["log"]).read()
    import shutil
    shutil.rmtree(folder)
    assert all(f[0] == 0 for f in found), log[-2000:]
    print(json.dumps([statistics.median(f[i] for f in found) for i in (1, 2, 3, 4)]))
    sys.exit(0)
for _ in range(steps):
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        worker._prepare()
        faults, cpu = resource.getrusage(resource.RUSAGE_SELF).ru_minflt, time.process_time()
        log = os.open(request["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        os.dup2(log, 1)
        os.dup2(log, 2)
        code = worker._run_step(request)
        sys.stdout.flush()
        sys.stderr.flush()
        cpu, faults = time.process_time() - cpu, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
        os.write(write, json.dumps([code, cpu, faults]).encode())
        os._exit(0)
    os.close(write)
    data = os.read(read, 4096)
    os.close(read)
    os.waitpid(pid, 0)
    found.append(json.loads(data))
log = open(request["log"]).read()
import shutil
shutil.rmtree(folder)
assert all(code == 0 for code, _, _ in found), log[-2000:]
print(json.dumps([statistics.median(c for _, c, _ in found), statistics.median(f for _, _, f in found)]))
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--trees", nargs="+", default=[str(HERE.parent)])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--kind", nargs="+", choices=["cell", "inc"], default=["cell", "inc"])
    parser.add_argument("--whole", action="store_true", help="the whole process, fork to reaping")
    args = parser.parse_args()
    for round_ in range(1, args.rounds + 1):
        for kind in args.kind:
            for tree in args.trees:
                source, output = (CELL, "v1") if kind == "cell" else (INC, "Output")
                done = subprocess.run(
                    [sys.executable, "-c", CHILD, tree, kind, str(args.steps)],
                    input=json.dumps([source, output]),
                    capture_output=True,
                    text=True,
                    env=dict(os.environ, PYTHONPATH=tree, **({"BENCH_WHOLE": "1"} if args.whole else {})),
                    check=True,
                )
                figures = json.loads(done.stdout.strip().splitlines()[-1])
                cpu, faults = figures[:2]
                load = os.getloadavg()[0]
                if args.whole:
                    print(
                        f"round {round_} {kind:4} {tree}: whole process {cpu * 1000:.2f} ms CPU, "
                        f"{faults:.0f} page faults; fork {figures[2] * 1000:.2f} ms CPU; request to done "
                        f"{figures[3] * 1000:.2f} ms (load {load:.1f})",
                        flush=True,
                    )
                    continue
                print(
                    f"round {round_} {kind:4} {tree}: {cpu * 1000:.2f} ms CPU, {faults:.0f} page faults"
                    f" a step (load {load:.1f})",
                    flush=True,
                )


if __name__ == "__main__":
    main()
