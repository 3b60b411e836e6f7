"""What a value's preview costs the step that stores it (target: <= 5% for a 100 MB DataFrame).

    python bench/bench_previews.py [--mb 100] [--repeat 5]

A step stores each value it passes on with the step runtime's `_mlops_save` (parquet for this frame)
and, since issue 11, also makes a preview of it (`_mlops_preview`: shape, dtypes, first rows). Both are
timed here on the same values in the same run, as the step runs them: the preview's cost is reported
as a share of the store. A 1 GB float64 array (a broadcast view: no memory of its own) is timed too,
with the peak memory the preview allocates (tracemalloc).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import pandas as pd

from jupyter_mlops.step_runtime.previews import _mlops_preview
from jupyter_mlops.step_runtime.values import _mlops_save


def _median_ms(action: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rows = args.mb * 1024 * 1024 // (8 * 4 + 16)  # 4 float64 columns and a short string column
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({f"x{i}": rng.random(rows) for i in range(4)})
    frame["label"] = np.where(frame["x0"] > 0.5, "yes", "no")
    size = frame.memory_usage(deep=True).sum() / 1e6
    folder = Path(tempfile.mkdtemp())
    try:

        def store() -> None:
            shutil.rmtree(folder / "v", ignore_errors=True)
            _mlops_save(str(folder / "v"), frame, "bench", "frame", set())

        store_ms = _median_ms(store, args.repeat)
        preview_ms = _median_ms(lambda: _mlops_preview(frame), args.repeat)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"DataFrame {frame.shape}, {size:.0f} MB in memory")
    print(f"  store (parquet), the step's own cost: {store_ms:9.1f} ms")
    share = 100 * preview_ms / store_ms
    print(f"  preview:                              {preview_ms:9.1f} ms  ({share:.2f}% of the store)")
    big = np.broadcast_to(np.arange(1000, dtype="float64"), (125_000, 1000))
    tracemalloc.start()
    big_ms = _median_ms(lambda: _mlops_preview(big), args.repeat)
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    print(f"1 GB float64 array {big.shape}: preview {big_ms:.1f} ms, peak allocation {peak:.1f} MB")


if __name__ == "__main__":
    main()
