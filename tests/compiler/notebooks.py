"""Notebooks for the compiler tests, built with nbformat as a user would save them."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

SETUP = """\
%%pipeline setup --packages numpy
import numpy as np


class Point:
    def __init__(self, x, y):
        self.x, self.y = x, y

    def moved(self, dx):
        return Point(self.x + dx, self.y + dx)
"""

PARAMS = """\
%%pipeline params
scale = 2
label = "exp"
report = ""
"""

STEPS = [
    # a numpy array (artifact .npy), two dicts (artifacts .json)
    """%%component make
arr = np.arange(6, dtype=float) * scale
info = {"label": str(label), "n": 6}
meta = {"made_by": label, "sizes": [len(arr)]}
""",
    # an instance of a class defined in the setup cell (pickled)
    """%%component origin
p = Point(1.0, 2.0)
""",
    # fan-out from make
    """%%component double
assert arr.tolist() == [0.0, 2.0, 4.0, 6.0, 8.0, 10.0], arr
doubled = arr * 2
""",
    """%%component count --cpu 1 --memory 1G
assert info == {"label": "exp", "n": 6}, info
n_items: int = len(arr) + info["n"]
""",
    """%%component shift --retries 2
assert type(p).__name__ == "Point" and (p.x, p.y) == (1.0, 2.0)
p2 = p.moved(scale)
""",
    # fan-in of everything
    """%%component combine
import json
assert doubled.tolist() == [0.0, 4.0, 8.0, 12.0, 16.0, 20.0], doubled
assert n_items == 12 and isinstance(n_items, int), n_items
assert (p2.x, p2.y) == (3.0, 4.0)
assert meta == {"made_by": "exp", "sizes": [6]}, meta
got = {"doubled": doubled.tolist(), "n_items": n_items, "p2": [p2.x, p2.y], "info": info, "meta": meta}
if report:
    with open(report, "w") as f:
        json.dump(got, f)
len(got)
""",
]


def flow_notebook(path: Path) -> Path:
    cells = [
        new_markdown_cell("A notebook pipeline with fan-out and fan-in."),
        new_code_cell("%load_ext jupyter_mlops\n%pipeline new flow"),
        new_code_cell(SETUP),
        new_code_cell(PARAMS),
        *[new_code_cell(s) for s in STEPS],
        new_code_cell("%pipeline show"),
    ]
    nbformat.write(new_notebook(cells=cells), str(path))
    return path


def write_notebook(path: Path, sources: list[str]) -> Path:
    nbformat.write(new_notebook(cells=[new_code_cell(s) for s in sources]), str(path))
    return path
