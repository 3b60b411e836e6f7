"""Compile the real-world notebooks (converted, as the CLI reads them) N times in this process; prints the
sum of the per-notebook medians (ms) and each median (plan + kfp compile). Run it with PYTHONPATH set to
the tree under test (tests/realworld of that tree): `PYTHONPATH=TREE python bench/realworld_compile_paired.py 15`,
alternating two trees. passenger_records is left out so that an older tree can be compared."""

import json, os, statistics, sys, time, tempfile
from pathlib import Path

root = Path(os.environ["PYTHONPATH"])
sys.path.insert(0, str(root))
import nbformat
from tests.realworld.conversions import CONVERSIONS, convert, read_plain, NOTEBOOKS
from jupyter_mlops.notebook.reader import pipeline_from_notebook
from jupyter_mlops.compiler import compile_documents

names = [c.name for c in CONVERSIONS if c.name != "passenger_records"]  # main has no passenger_records
out = {}
with tempfile.TemporaryDirectory() as tmp:
    import shutil

    shutil.copytree(NOTEBOOKS, Path(tmp) / "nb")
    for c in CONVERSIONS:
        if c.name in names:
            nbformat.write(convert(c, read_plain(c)), str(Path(tmp) / "nb" / c.notebook))
    os.chdir(Path(tmp) / "nb")
    for c in CONVERSIONS:
        if c.name not in names:
            continue
        path = Path(tmp) / "nb" / c.notebook
        compile_documents(pipeline_from_notebook(path))  # warm
        times = []
        for _ in range(int(sys.argv[1])):
            t = time.perf_counter()
            compile_documents(pipeline_from_notebook(path))
            times.append(time.perf_counter() - t)
        out[c.name] = statistics.median(times) * 1000
print(round(sum(out.values()), 1), json.dumps({k: round(v, 1) for k, v in out.items()}))
