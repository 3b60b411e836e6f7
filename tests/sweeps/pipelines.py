"""Notebook pipelines for sweep tests, whose metric is a known function of their parameters."""

from __future__ import annotations

from pathlib import Path

from jupyter_mlops.notebook.pipeline import Pipeline
from jupyter_mlops.notebook.workspace import Workspace

# score = -(x - 3)^2 - (y - 0.5)^2 * 4 + 10: best at x = 3, y = 0.5 (score 10).
PARAMS = "x = 0\ny = 0.0\nlabel = 'a'\n"
LOAD = """
import os
os.makedirs('counts', exist_ok=True)
with open('counts/load.txt', 'a') as f:
    f.write('ran\\n')
base = 10.0
"""
SCORE = """
import time
time.sleep(SLEEP)
score = base - (x - 3) ** 2 - 4 * (y - 0.5) ** 2
log_metric('score', score)
"""


def quadratic_pipeline(name: str = "quad", sleep: float = 0.0, load_sleep: float = 0.0) -> Pipeline:
    ws = Workspace(name)
    ws.define_params(PARAMS, "params")
    load = LOAD + (f"import time\ntime.sleep({load_sleep!r})\n" if load_sleep else "")
    ws.define_component("load --cache", load, "load")  # it writes its count file: cache it anyway
    ws.define_component("fit", SCORE.replace("SLEEP", repr(sleep)), "fit")
    return ws.active


def load_count(folder: Path) -> int:
    path = folder / "counts" / "load.txt"
    return len(path.read_text().splitlines()) if path.exists() else 0


def expected_score(x: float, y: float) -> float:
    return 10.0 - (x - 3) ** 2 - 4 * (y - 0.5) ** 2
