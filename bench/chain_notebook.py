"""The n-step chain written as a notebook of `%%component` cells (`v{i}: int = v{i-1} + 1`), for the
benches that time notebook steps (bench_user_side.py, bench_paired_trees.py)."""

from __future__ import annotations

from typing import Any


def cell_chain(n: int, add: int = 1) -> Any:
    """The chain's notebook pipeline (not yet compiled: `load_pipeline(...)` compiles it); each cell
    adds `add` (another number: other step programs, the same work)."""
    from jupyter_mlops.notebook.reader import feed_cell
    from jupyter_mlops.notebook.workspace import Workspace

    workspace = Workspace("chain")
    feed_cell(workspace, "%%pipeline params\nx = 0\n", "params")
    feed_cell(workspace, f"%%component s0\nv0: int = x + {add}\n", "cell 0")
    for i in range(1, n):
        feed_cell(workspace, f"%%component s{i}\nv{i}: int = v{i - 1} + {add}\n", f"cell {i}")
    return workspace.active
