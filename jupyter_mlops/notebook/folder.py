"""The notebook's folder: where the steps of a run started from the magics work.

A kernel starts in its notebook's folder, and a cell may move it (`os.chdir("data")`, `%cd`). A run
of the pipeline is the notebook run from the top, so its steps start in the notebook's folder, not in
wherever the kernel has been moved to: a setup cell's `os.chdir("data")` then works in every step as
it did once in the kernel. The folder is taken when `%load_ext jupyter_mlops` loads (the first cell,
as a rule), from the notebook's path where the kernel is told an absolute one, else the kernel's
working directory then. (`mlops.run` called in code keeps its own default: the current directory.)
"""

from __future__ import annotations

import os


def notebook_folder(notebook_path: str | None) -> str:
    """The folder of the notebook at `notebook_path` (what the kernel is told, if anything), when that
    is an absolute path to an existing folder; else the current directory."""
    if notebook_path and os.path.isabs(notebook_path) and os.path.isdir(os.path.dirname(notebook_path)):
        return os.path.dirname(notebook_path)
    return os.getcwd()
