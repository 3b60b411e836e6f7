"""The demo notebook from the user's side (BENCHMARKS.md): run from the root of a source tree of
jupyter-mlops with that tree first on PYTHONPATH. Prints: YAML KB, compile_yaml ms (median of 5 after
a first), then seconds from `mlops.run(pipeline)` to `.wait()` returning: fresh, cached, cached."""

from __future__ import annotations

import os
import tempfile
import time
from typing import Any

os.environ["JUPYTER_MLOPS_HOME"] = tempfile.mkdtemp(prefix="demo-user-")

import jupyter_mlops as mlops

try:
    from jupyter_mlops.compiler import compile_yaml
    from jupyter_mlops.notebook.reader import pipeline_from_notebook
except ImportError:  # the flat layout before the stage folders

    def compile_yaml(pipeline: Any) -> str:
        return str(pipeline.compile_yaml())

    from jupyter_mlops.notebook_reader import pipeline_from_notebook  # type: ignore[no-redef]

pipeline = pipeline_from_notebook("examples/demo.ipynb")
text = compile_yaml(pipeline)
times = []
for _ in range(5):
    t0 = time.perf_counter()
    compile_yaml(pipeline)
    times.append(time.perf_counter() - t0)
out = ["%.1f" % (len(text.encode()) / 1000), "%.0f" % (sorted(times)[2] * 1000)]
for _label in ("fresh", "cached", "cached"):
    t0 = time.perf_counter()
    run = mlops.run(pipeline).wait(timeout=300)
    assert run.state.value == "SUCCEEDED", run.error
    out.append("%.3f" % (time.perf_counter() - t0))
print(" ".join(out))
