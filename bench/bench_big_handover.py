"""Issue 15's 1 GiB hand-over (a step makes a 1 GiB numpy array and saves it, the next step maps it),
from the user's side, against the same code in one plain process and `cp` of the same bytes, each
starting from the same memory state.

    python -m compileall -q jupyter_mlops
    python bench/bench_big_handover.py [--repeat 3] [--memory warm settled] [--settle 3]
    (or: python bench/bench_user_side.py --only big --big ..., which calls this)

Why the memory state matters: on this VM (Firecracker; virtio-balloon with free page reporting, order
9) free 2 MiB blocks are handed back to the host soon after they are freed, and touching them again
costs the guest ~1-2 s of CPU per GiB. Allocations of 2 MiB blocks are what a 1 GiB `np.ones` gets
(numpy asks for transparent huge pages) and what `np.save`'s one 1 GiB `write` gets (ext4 puts it in
large page-cache folios); `cp` writes in small pieces, whose small pages are not handed back. So a
measure run right after another one freed 1-2 GiB looks 5-10x faster than one run after a pause. Each
timed measure therefore starts from the same state, one of (`--memory`, both by default):
  warm     the outputs of the earlier measures are deleted, then 2.25 GiB of huge pages are touched and
           freed just before: what the measure allocates was freed a moment ago (as on a machine whose
           free memory stays its own: bare metal, most VMs)
  settled  the outputs are deleted, then `--settle` seconds idle: what it allocates has been handed
           back (as here after a pause)
The order of ours / plain / cp rotates per repeat.

Ours is split into the step that makes the array (its code: the same as the plain process's
`np.ones` + `np.save`) and the rest (submitting, the hand-over to the reading step, the reader, the
records, `.wait()` returning), which is what the runner adds.
"""

from __future__ import annotations

import argparse
import itertools
import mmap
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPORTED = Path("/sys/module/page_reporting/parameters/reported_kib")

# The two steps' bodies in one fresh interpreter; prints how long the making part took.
PLAIN = (
    "import time; t = time.perf_counter()\n"
    "import numpy as np, os, sys; p = sys.argv[1]\n"
    "m = time.perf_counter(); np.save(p + '.npy', np.ones((1 << 30) // 8)); os.replace(p + '.npy', p)\n"
    "d = time.perf_counter(); float(np.load(p, mmap_mode='r')[-1]); print(d - m, m - t)"
)


def reported_gib() -> float | None:
    """GiB of free memory the guest has handed back to the host so far (None: no free page reporting)."""
    try:
        return int(REPORTED.read_text()) / 2**20
    except (OSError, ValueError):
        return None


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


_KEYS = itertools.count(1)  # a new argument, so a new cache key, for every run of ours

WARM_BYTES = int(2.25 * (1 << 30))  # the array, its file, some to spare


def warm_memory() -> None:
    """Touch WARM_BYTES of huge pages and free them: the next 2 MiB allocations reuse them. (Private:
    a shared anonymous mapping would be shmem, which gets no huge pages here.)"""
    area = mmap.mmap(-1, WARM_BYTES, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    try:
        if hasattr(mmap, "MADV_HUGEPAGE"):
            area.madvise(mmap.MADV_HUGEPAGE)
        for offset in range(0, WARM_BYTES, 4096):  # one write per page (a huge page takes the first)
            area[offset] = 1
    finally:
        area.close()


def measure(
    run_big: Callable[[float], Any],
    home: Path,
    work: Path,
    repeat: int,
    memory: str,
    settle: float,
    making_step: str = "make-array",
) -> list[str]:
    """`run_big(gib)`: one run of the big pipeline (cache on), returning the finished run."""
    src = work / "one-gib"
    subprocess.run(["dd", "if=/dev/zero", f"of={src}", "bs=1M", "count=1024", "status=none"], check=True)
    outputs: list[Path] = []
    ours: list[tuple[float, float, float]] = []  # (total, the making step, the rest)
    plain: list[tuple[float, float, float]] = []  # (total, the making code, CPU)
    cps: list[tuple[float, float]] = []  # (wall, CPU)
    handed_back = 0.0

    def prepare() -> None:
        nonlocal handed_back
        for path in outputs:
            path.unlink(missing_ok=True)
        outputs.clear()
        before = reported_gib()
        if memory == "warm":
            warm_memory()
        else:
            time.sleep(settle)
        after = reported_gib()
        if before is not None and after is not None:
            handed_back += after - before

    def one_ours(i: int) -> None:
        start = time.perf_counter()
        run = run_big(1.0 + next(_KEYS) * 1e-9)  # a new cache key each time: the step runs
        total = time.perf_counter() - start
        made = next(s for s in run.info.steps if s.name == making_step)
        making = made.finished_at - made.started_at
        ours.append((total, making, total - making))
        outputs.extend(p for p in (home / "runs" / run.id / "artifacts").rglob("*") if p.is_file())

    def one_plain(i: int) -> None:
        dst = work / f"direct-{i}"
        cpu = children_cpu()
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", PLAIN, str(dst)], check=True, capture_output=True, text=True
        )
        total = time.perf_counter() - start
        making = float(done.stdout.split()[0])
        plain.append((total, making, children_cpu() - cpu))
        outputs.append(dst)

    def one_cp(i: int) -> None:
        dst = work / f"copy-{i}"
        cpu = time.process_time()
        start = time.perf_counter()
        shutil.copyfile(src, dst)
        cps.append((time.perf_counter() - start, time.process_time() - cpu))
        outputs.append(dst)

    # As in a notebook's later runs: the runner service started, its zygote with numpy loaded
    for _ in range(2):
        run_big(1e-6 + next(_KEYS) * 1e-12)  # an array of 134 numbers
        time.sleep(0.5)  # the zygote loads numpy meanwhile
    measures = [one_ours, one_plain, one_cp]
    for i in range(repeat):
        for one in measures[i % 3 :] + measures[: i % 3]:  # rotate the order per repeat
            prepare()
            one(i)
    prepare()

    def best_median(values: list[float]) -> str:
        return f"best {min(values):.2f} s (median {statistics.median(values):.2f})"

    o_best, p_best, c_best = min(t for t, _, _ in ours), min(t for t, _, _ in plain), min(w for w, _ in cps)
    r_best = min(r for _, _, r in ours)
    rows = [
        f"1 GiB array between two steps ({making_step}), cache on, memory {memory}"
        + (f" ({settle:g} s idle before each measure):" if memory == "settled" else ":"),
        f"   ours                          {best_median([t for t, _, _ in ours])}"
        f" = the making step {best_median([m for _, m, _ in ours])}"
        f" + the rest {best_median([r for _, _, r in ours])}",
        f"   the steps' code, plain process {best_median([t for t, _, _ in plain])}"
        f", its making part {best_median([m for _, m, _ in plain])}"
        f", CPU {best_median([c for _, _, c in plain])}",
        f"   cp of the same bytes           {best_median([w for w, _ in cps])}"
        f", CPU {best_median([c for _, c in cps])}",
        f"   -> ours {o_best / c_best:.1f}x cp, {o_best / p_best:.2f}x the plain process (bests);"
        f" what ours adds to the making step {r_best / c_best:.2f}x cp",
    ]
    if reported_gib() is not None:
        rows.append(f"   free memory handed back to the host between the measures: {handed_back:.1f} GiB")
    return rows


def cells_pipeline() -> Any:
    from jupyter_mlops.notebook.reader import feed_cell
    from jupyter_mlops.notebook.workspace import Workspace

    workspace = Workspace("big")
    feed_cell(workspace, "%%pipeline params\ngib = 1.0\n", "params")
    make = "%%component make_array\nimport numpy as np\narr = np.ones(int(gib * (1 << 30)) // 8)\n"
    feed_cell(workspace, make, "make")
    feed_cell(workspace, "%%component read_array\nlast = float(arr[-1])\nlast\n", "read")
    return workspace.active


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--memory", nargs="+", choices=["warm", "settled"], default=["warm", "settled"])
    parser.add_argument("--settle", type=float, default=3.0, help="settled: seconds idle before each measure")
    parser.add_argument(
        "--cells",
        action="store_true",
        help="the notebook's way: two %%%%component cells, `arr = np.ones(...)` and `last = float(arr[-1])`: "
        "the array handed over as a value (saved and loaded by the step runtime), not by the step's np.save",
    )
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import bench_user_side as user_side  # sets JUPYTER_MLOPS_HOME to a fresh folder

    from jupyter_mlops.backends.local import LocalBackend
    from jupyter_mlops.ir.documents import load_pipeline

    spec = load_pipeline(cells_pipeline() if args.cells else user_side.pipelines()["big"])
    backend = LocalBackend(max_workers=2)
    home = Path(os.environ["JUPYTER_MLOPS_HOME"])
    work = Path(tempfile.mkdtemp(prefix="bench-big-"))
    load = os.getloadavg()
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load average {load[0]:.1f} {load[1]:.1f}"
    )
    rows: list[str] = []
    try:
        for memory in args.memory:
            rows += measure(
                lambda gib: user_side.user_run(spec, backend, cache=True, gib=gib)[1],
                home,
                work,
                args.repeat,
                memory,
                args.settle,
                "make_array" if args.cells else "make-array",
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(user_side.HOME, ignore_errors=True)
    load = os.getloadavg()
    rows.append(f"load average at the end: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
