"""Compile the real-world notebooks (converted, as the CLI reads them) N times in this process; prints the
sum of the per-notebook medians (ms) and each median (plan + kfp compile).

Run it with PYTHONPATH set to the tree under test, whose tests/realworld it uses, alternating two trees:
`PYTHONPATH=TREE python bench/realworld_compile_paired.py 15`. passenger_records is left out, so that a
tree from before it can be compared.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path


def main(rounds: int) -> None:
    sys.path.insert(0, os.environ["PYTHONPATH"])
    import nbformat

    from jupyter_mlops.compiler import compile_documents
    from jupyter_mlops.notebook.reader import pipeline_from_notebook
    from tests.realworld.conversions import CONVERSIONS, NOTEBOOKS, convert, read_plain

    chosen = [c for c in CONVERSIONS if c.name != "passenger_records"]
    medians = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "nb"
        shutil.copytree(NOTEBOOKS, folder)
        os.chdir(folder)
        for conversion in chosen:
            path = folder / conversion.notebook
            nbformat.write(convert(conversion, read_plain(conversion)), str(path))
            compile_documents(pipeline_from_notebook(path))  # warm
            times = []
            for _ in range(rounds):
                start = time.perf_counter()
                compile_documents(pipeline_from_notebook(path))
                times.append(time.perf_counter() - start)
            medians[conversion.name] = round(statistics.median(times) * 1000, 1)
    print(round(sum(medians.values()), 1), json.dumps(medians))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 15)
