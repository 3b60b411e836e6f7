"""The runner processes' own CPU a run, two trees paired (issue 15: the runner's work a step is on a
chain's path): `mlops.run(...).wait()` of a cell chain alternating between two homes whose runner
services run tree A and tree B (as bench_paired_trees.py), while a thread samples every 10 ms the CPU
(user + system) of each runner the services forked, keeping each one's last sample.

    python bench/bench_runner_cpu.py BASE_TREE OTHER_TREE PAIRS STEPS

A runner's last ~10 ms before its exit are not seen (the same for both trees); the service tree's CPU
(all its processes, the steps included) is printed beside.
"""

import os
import statistics
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))
warnings.filterwarnings("ignore")
import psutil  # noqa: E402
from bench_paired_trees import service_of, tree_cpu  # noqa: E402  (bench/)
from chain_notebook import cell_chain  # noqa: E402

import jupyter_mlops as mlops  # noqa: E402
from jupyter_mlops.backends import local  # noqa: E402
from jupyter_mlops.backends.local import LocalBackend  # noqa: E402
from jupyter_mlops.ir.documents import load_pipeline  # noqa: E402

base, other, pairs, steps = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
os.environ.setdefault("JUPYTER_MLOPS_SERVICE_IDLE_S", "60")
tmp = Path(tempfile.mkdtemp(prefix="h15rnr-cpu-"))
trees = {"base": base, "other": other}
backends = {k: LocalBackend(tmp / k, max_workers=2) for k in trees}
spec = load_pipeline(cell_chain(steps))
seen: dict[str, dict[int, float]] = {k: {} for k in trees}
stop = threading.Event()
services: dict[str, psutil.Process] = {}


def sample():
    procs: dict[int, psutil.Process] = {}
    while not stop.wait(0.01):
        for k, svc in list(services.items()):
            try:
                kids = svc.children()
            except psutil.Error:
                continue
            for p in kids:
                if p.pid not in procs:
                    try:
                        if "runner_service" not in " ".join(p.cmdline()):
                            continue
                    except psutil.Error:
                        continue
                    procs[p.pid] = p
                try:
                    t = procs[p.pid].cpu_times()
                    seen[k][p.pid] = t.user + t.system
                except (psutil.Error, KeyError):
                    pass


def one(k):
    local._runner_pythonpath = lambda: trees[k]
    t = time.perf_counter()
    r = mlops.run(spec, {}, backend=backends[k], cache=False).wait()
    assert r.state.value == "SUCCEEDED", r.error
    return time.perf_counter() - t


for _ in range(2):
    for k in trees:
        one(k)
time.sleep(0.5)
services.update({k: service_of(tmp / k) for k in trees})
threading.Thread(target=sample, daemon=True).start()
time.sleep(0.3)
start_seen = {k: dict(v) for k, v in seen.items()}
cpu0 = {k: tree_cpu(p) for k, p in services.items()}
walls = {k: [] for k in trees}
runner_cpu = {k: [] for k in trees}
for i in range(pairs):
    for k in ("base", "other") if i % 2 == 0 else ("other", "base"):
        before = {pid: c for pid, c in seen[k].items()}
        walls[k].append(one(k))
        time.sleep(0.1)
        after = seen[k]
        runner_cpu[k].append(sum(c - before.get(pid, 0.0) for pid, c in after.items()))
stop.set()
for k in trees:
    tc = (tree_cpu(services[k]) - cpu0[k]) / pairs
    each = " ".join(f"{c * 1000:.0f}" for c in runner_cpu[k])
    print(
        f"{k:5} {trees[k]}: wall median {statistics.median(walls[k]) * 1000:.0f} ms; runner CPU a run "
        f"median {statistics.median(runner_cpu[k]) * 1000:.0f} ms (all: {each}); "
        f"service tree CPU {tc * 1000:.0f} ms a run"
    )
d = [o - b for o, b in zip(runner_cpu["other"], runner_cpu["base"], strict=True)]
w = [o - b for o, b in zip(walls["other"], walls["base"], strict=True)]
print(
    f"{steps} cells, {pairs} pairs: runner CPU other-base median {statistics.median(d) * 1000:+.0f} ms "
    "a run "
    f"({sum(x < 0 for x in d)} of {pairs} lower); wall median {statistics.median(w) * 1000:+.0f} ms "
    f"({sum(x < 0 for x in w)} faster); load {os.getloadavg()[0]:.1f}"
)
for p in services.values():
    p.kill()
