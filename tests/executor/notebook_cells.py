"""Notebook pipelines for executor tests: cells fed as the kernel or the CLI would feed them."""

from __future__ import annotations

from typing import Any

from jupyter_mlops.compiler import compile_documents
from jupyter_mlops.notebook.pipeline import Pipeline
from jupyter_mlops.notebook.reader import feed_cell
from jupyter_mlops.notebook.workspace import Workspace


def notebook_pipeline(cells: list[str], name: str = "nb") -> Pipeline:
    """The pipeline that running `cells` (sources with their %%component/%%pipeline lines) defines."""
    workspace = Workspace(name)
    for index, source in enumerate(cells, start=1):
        feed_cell(workspace, source, f"code cell {index}")
    return workspace.active


def compiled(cells: list[str], name: str = "nb") -> list[dict[str, Any]]:
    """The compiled KFP IR documents of the pipeline the cells define."""
    return compile_documents(notebook_pipeline(cells, name))
