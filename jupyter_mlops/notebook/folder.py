"""The notebook's folder: where a kernel's runs put their steps to work by default.

A kernel starts in its notebook's folder, and a cell may move it (`os.chdir("data")`, `%cd`). A run
of the pipeline is the notebook run from the top, so its steps start in the notebook's folder, not in
wherever the kernel has been moved to: a setup cell's `os.chdir("data")` then works in every step as
it did once in the kernel. The folder is taken when `%load_ext jupyter_mlops` loads (the first cell,
as a rule), from the notebook's path where the kernel is told an absolute one, else the kernel's
working directory then. Outside a kernel with the extension loaded it is the current directory.
"""

from __future__ import annotations

import os

_folder: str | None = None


def remember_notebook_folder(notebook_path: str | None) -> None:
    """Called once the magics are registered in a kernel (`notebook_path`: what the kernel is told)."""
    global _folder
    if notebook_path and os.path.isabs(notebook_path) and os.path.isdir(os.path.dirname(notebook_path)):
        _folder = os.path.dirname(notebook_path)
    else:
        _folder = os.getcwd()


def notebook_folder() -> str:
    """The notebook's folder in a kernel with the extension loaded, else the current directory."""
    return _folder if _folder is not None and os.path.isdir(_folder) else os.getcwd()
