"""Where a 1,000-cell run's wall goes outside its steps (issue 15): timestamps of each run, from the
user's `mlops.run` call to `.wait()` returning, read from the run store and this process.

    python bench/bench_run_timeline.py TREE [--cells 1000] [--runs 4] [--home DIR] [--same]

Per run (ms after the `mlops.run` call): `submit` (mlops.run returned), `running` (the runner marked
the run RUNNING), `first_step` (the first step's start), then `steps` (first step's start to the last
step's end), `last_to_finished` (the last step's end to the run's final state recorded),
`finished_to_wait` (that to `.wait()` returning), `total`, and this process's CPU in the submit and
the wait. Each run is a pipeline new to the service (another number added by each cell, compiled
before the runs) unless `--same`. Full collections of this process's heap longer than 5 ms during a
run are listed (they land in the submit or the wait). The first two runs warm the service and are
not counted. TREE's code runs the service (its root on PYTHONPATH); run it from TREE.
"""

import argparse
import gc
import os
import sqlite3
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

warnings.filterwarnings("ignore")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("tree", type=Path)
    parser.add_argument("--cells", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=4)
    parser.add_argument("--home", type=Path, default=None)
    parser.add_argument("--same", action="store_true", help="the same pipeline every run")
    args = parser.parse_args()
    tree = str(args.tree.resolve())
    sys.path[:0] = [tree, f"{tree}/bench"]
    os.environ["PYTHONPATH"] = tree
    from chain_notebook import cell_chain

    import jupyter_mlops as mlops
    from jupyter_mlops.backends.local import LocalBackend
    from jupyter_mlops.ir.documents import load_pipeline

    home = args.home or Path(tempfile.mkdtemp(prefix="bench-timeline-"))
    backend = LocalBackend(home, max_workers=2)
    count = args.runs + 2
    specs = [load_pipeline(cell_chain(args.cells, add=1 if args.same else i + 2)) for i in range(count)]
    collections: list[tuple[float, float]] = []  # (when it ended, ms) of full collections
    started: dict[str, float] = {}

    def watch_gc(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started["t"] = time.perf_counter()
        elif info["generation"] == 2:
            collections.append((time.time(), (time.perf_counter() - started["t"]) * 1000))

    gc.callbacks.append(watch_gc)
    rows = []
    for r in range(count):
        collections.clear()
        t0, c0 = time.time(), time.process_time()
        run = mlops.run(specs[r], {}, backend=backend, cache=False)
        t1, c1 = time.time(), time.process_time()
        run = run.wait()
        t2, c2 = time.time(), time.process_time()
        db = sqlite3.connect(home / "store.db")
        running, finished = db.execute(
            "SELECT started_at, finished_at FROM runs WHERE id = ?", (run.id,)
        ).fetchone()
        first, last = db.execute(
            "SELECT MIN(started_at), MAX(finished_at) FROM steps WHERE run_id = ?", (run.id,)
        ).fetchone()
        db.close()
        full = [f"{ms:.0f} ms at +{(at - t0) * 1000:.0f}" for at, ms in collections if ms > 5]
        if r >= 2:
            rows.append(
                {
                    "submit": t1 - t0,
                    "running": running - t0,
                    "first_step": first - t0,
                    "steps": last - first,
                    "last_to_finished": finished - last,
                    "finished_to_wait": t2 - finished,
                    "total": t2 - t0,
                    "submit_cpu": c1 - c0,
                    "wait_cpu": c2 - c1,
                }
            )
            if full:
                print(f"run {r - 1}: full collections of this process's heap: {', '.join(full)}")
    print(f"{tree}, {args.cells} cells, {'the same pipeline' if args.same else 'a new pipeline'} each run")
    for key in rows[0]:
        values = [row[key] * 1000 for row in rows]
        listed = " ".join(f"{v:.1f}" for v in values)
        print(f"{key:18} median {statistics.median(values):8.1f} ms   ({listed})")


if __name__ == "__main__":
    main()
