"""Read a notebook file (.ipynb) into a Workspace, exactly as running its cells in order would."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..errors import CellError, MlopsError, PipelineError, UsageError
from .pipeline import Pipeline
from .workspace import Workspace, default_pipeline_name

_LINE_MAGIC = re.compile(r"^%pipeline\s+(.*)$")


def split_cell_magic(source: str) -> tuple[str, str, str] | None:
    """`%%component train --cpu 2\\nbody` -> ("component", "train --cpu 2", "body"); None if no magic."""
    text = source.lstrip("\n")
    if not text.startswith("%%"):
        return None
    first, _, body = text.partition("\n")
    magic, _, line = first[2:].partition(" ")
    return magic.strip(), line.strip(), body


def feed_cell(workspace: Workspace, source: str, label: str, key: str | None = None) -> None:
    """Apply one code cell's pipeline magics to the workspace; errors name the cell.

    `key` tells the cell apart from the notebook's other cells (see `cell_key`).
    """
    try:
        magic = split_cell_magic(source)
        if magic is None:
            for line in source.splitlines():
                match = _LINE_MAGIC.match(line.strip())
                if match:
                    workspace.pipeline_line(match.group(1))
            return
        kind, line, body = magic
        if kind == "component":
            workspace.define_component(line, body, key)
        elif kind == "pipeline":
            sub, _, rest = line.partition(" ")
            if sub == "setup":
                workspace.define_setup(rest, body, key)
            elif sub == "params":
                workspace.define_params(body, key)
            else:
                raise UsageError(f"%%pipeline {sub!r}: the cell magic takes `setup` or `params`")
    except CellError as exc:
        where = label if exc.cell is None else f"{label} ({exc.cell})"
        raise CellError(exc.detail, cell=where, line=exc.line) from None
    except MlopsError as exc:
        raise type(exc)(f"{label}: {exc}") from None


def cell_key(cell: Any, code_index: int) -> str:
    """The cell's notebook id (nbformat 4.5 stores one per cell; the kernel gets the same id from
    JupyterLab), else its position among the code cells."""
    cell_id = cell.get("id")
    return f"id:{cell_id}" if isinstance(cell_id, str) and cell_id else f"position:{code_index}"


def read_notebook(path: str | Path) -> Workspace:
    """Every pipeline the notebook defines. Raises MlopsError naming the cell for bad cells."""
    import nbformat

    path = Path(path)
    try:
        nb = nbformat.read(str(path), as_version=4)
    except FileNotFoundError:
        raise UsageError(f"no notebook at {path}") from None
    except Exception as exc:  # nbformat raises several kinds for a file that is not a notebook
        raise UsageError(f"{path} is not a readable notebook: {exc}") from None
    workspace = Workspace(default_pipeline_name(str(path)))
    code_index = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        code_index += 1
        feed_cell(workspace, cell.source, f"code cell {code_index}", cell_key(cell, code_index))
    return workspace


def pipeline_from_notebook(path: str | Path, name: str | None = None) -> Pipeline:
    """The notebook's pipeline NAME, or its only pipeline with steps (the CLI and the server use this)."""
    workspace = read_notebook(path)
    if name is not None:
        return workspace.get(name)
    defined = [p for p in workspace.pipelines.values() if p.steps]
    if not defined:
        raise PipelineError(f"{path} defines no pipeline steps: mark cells with `%%component NAME`")
    if len(defined) > 1:
        names = ", ".join(p.name for p in defined)
        raise PipelineError(f"{path} defines several pipelines ({names}); choose one with --pipeline NAME")
    return defined[0]
