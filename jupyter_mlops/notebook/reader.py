"""Read a notebook file (.ipynb) into a Workspace, exactly as running its cells in order would."""

from __future__ import annotations

import json
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
            workspace.plain_cells.record(key or label, label, source)
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


def _notebook_cells(path: Path) -> list[dict[str, Any]]:
    """The cells of an .ipynb file, each with its `source` as one string.

    A version 4 notebook (every Jupyter of the last decade writes one) is read as the JSON it is:
    `nbformat.read` would import jsonschema with its format checkers (0.8 s of a CLI compile) to
    validate, and it only logs what it finds. Older versions go through nbformat, which converts them.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"no notebook at {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path} is not a readable notebook: {exc}") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise UsageError(f"{path} is not a readable notebook: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("cells", []), list):
        raise UsageError(f"{path} is not a readable notebook: no list of cells")
    if data.get("nbformat") != 4:
        return _converted_cells(path)
    cells: list[dict[str, Any]] = []
    for cell in data.get("cells", []):
        if not isinstance(cell, dict):
            raise UsageError(f"{path} is not a readable notebook: a cell is {cell!r}")
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(str(line) for line in source)
        cells.append({**cell, "source": source if isinstance(source, str) else ""})
    return cells


def _converted_cells(path: Path) -> list[dict[str, Any]]:
    import nbformat

    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception as exc:  # nbformat raises several kinds for a file that is not a notebook
        raise UsageError(f"{path} is not a readable notebook: {exc}") from None
    return [dict(cell) for cell in nb.cells]


def read_notebook(path: str | Path) -> Workspace:
    """Every pipeline the notebook defines. Raises MlopsError naming the cell for bad cells."""
    path = Path(path)
    workspace = Workspace(default_pipeline_name(str(path)))
    code_index = 0
    for cell in _notebook_cells(path):
        if cell.get("cell_type") != "code":
            continue
        code_index += 1
        feed_cell(workspace, cell["source"], f"code cell {code_index}", cell_key(cell, code_index))
    for pipeline in workspace.pipelines.values():
        pipeline.folder = str(path.absolute().parent)
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
