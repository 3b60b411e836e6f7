"""Where a sweep's time goes, trial by trial: runs bench_sweep.py's 16-point grid once and reads each
trial's run back from the store.

    python -m compileall -q jupyter_mlops && python bench/bench_sweep_profile.py

Prints, as medians (and maxima) over the 16 trials: a run's end to the next trial's submission (the
driver's notice and `submit`), submission to its runner running, runner running to its first step,
the recorded duration of `swept1` (which sleeps 0.5 s), the last step's end to the run's end; and the
CPU time of the driver's process and of the runners and steps.
"""

import os
import resource
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_sweep


def _med(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:.0f} ms (max {max(values) * 1000:.0f})"


def main() -> None:
    from jupyter_mlops.backends.local import LocalBackend

    pipeline, _ = bench_sweep.build()
    root = Path(tempfile.mkdtemp(prefix="bench-sweep-profile-"))
    os.environ["JUPYTER_MLOPS_HOME"] = str(root / "home")
    before = resource.getrusage(resource.RUSAGE_SELF)
    wall, ideal, _, s = bench_sweep.ours(pipeline, root, 2)
    after = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    backend = LocalBackend(root / "home")
    runs = sorted((backend.get(t.run_id or "") for t in s.trials), key=lambda r: r.created_at)
    ends = sorted(r.finished_at or 0.0 for r in runs)
    notice, start, first, last, swept = [], [], [], [], []
    for r in runs:
        earlier = [e for e in ends if e <= r.created_at]
        if earlier and r not in runs[:2]:
            notice.append(r.created_at - earlier[-1])
        steps = [x for x in r.steps if x.started_at is not None]
        started = r.started_at or r.created_at
        start.append(started - r.created_at)
        first.append(min(x.started_at or 0.0 for x in steps) - started)
        last.append((r.finished_at or 0.0) - max(x.finished_at or 0.0 for x in steps))
        swept.append(r.step("swept1").duration or 0.0)
    cpu_self = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    cpu_children = children.ru_utime + children.ru_stime
    print(f"wall {wall:.2f} s, ideal {ideal:.2f} s, ratio {wall / ideal:.2f}; load {os.getloadavg()[0]:.1f}")
    print(f"CPU: the driver's process {cpu_self:.2f} s, runners and steps {cpu_children:.2f} s")
    print("run end -> next trial submitted:       ", _med(notice))
    print("submitted -> runner running:           ", _med(start))
    print("runner running -> first step started:  ", _med(first))
    print("swept1 (sleeps 0.5 s) recorded:        ", _med(swept))
    print("last step finished -> run finished:    ", _med(last))


if __name__ == "__main__":
    main()
