"""The pipelines a notebook defines, and which one is active: one object the kernel and the CLI share.

The kernel feeds it cells as they run; the CLI feeds it the cells of an .ipynb in order. Both go through
the same methods, so a notebook compiles to the same YAML either way.

Each definition names the cell it comes from by a key, so that defining a cell again replaces what
that cell defined and nothing else (setup and params cells accumulate; a renamed `%%component` cell
replaces its old step): `id:<notebook cell id>` when known (JupyterLab and Notebook 7 send it with
each execution; nbformat 4.5 files store the same id, which the CLI reads); otherwise the CLI uses
the cell's position (`position:<n>`) and the kernel the cell's text (`text:<source>`), since a kernel
that gets no ids cannot tell a re-run from a new cell any other way. Cells are ordered by the first
time their key came: notebook order in the CLI, first-execution order in the kernel.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import PipelineError, UsageError
from .options import parse_component_line, parse_setup_line, split_magic_line
from .pipeline import UNKEYED, Pipeline, SetupCell, StepDef, normalize_source
from .plain_cells import PlainCells


def default_pipeline_name(notebook_path: str | None) -> str:
    """The notebook's file stem, else `pipeline`."""
    if notebook_path:
        stem = Path(notebook_path.rstrip("/").split("?")[0]).stem  # a path or a URL (s3://b/x.ipynb)
        if stem:
            return stem
    return "pipeline"


# Where a kernel learns which notebook it runs, most specific first (see kernel_notebook_path).
NOTEBOOK_PATH_SOURCES = (
    "PAPERMILL_INPUT_PATH",  # papermill --inject-input-path / --inject-paths (a notebook variable)
    "__vsc_ipynb_file__",  # VS Code's Jupyter extension
    "__session__",  # ipykernel, from JPY_SESSION_NAME, which Jupyter Server sets for the kernel
)


def kernel_notebook_path(user_ns: dict[str, object]) -> str | None:
    """The notebook a kernel runs, as its environment tells it; None if nothing does.

    In order: the variable `PAPERMILL_INPUT_PATH` (papermill sets it in the notebook when run with
    `--inject-input-path` or `--inject-paths`; papermill sets no environment variable), VS Code's
    `__vsc_ipynb_file__`, ipykernel's `__session__`, then the `JPY_SESSION_NAME` environment
    variable (Jupyter Server sets it for the notebook's kernel; a headless run can set it too).
    nbclient and a plain papermill run tell the kernel nothing.
    """
    for name in NOTEBOOK_PATH_SOURCES:
        value = user_ns.get(name)
        if isinstance(value, str) and value.strip() and value != "-":  # papermill reads stdin as "-"
            return value
    return os.environ.get("JPY_SESSION_NAME") or None


class Workspace:
    def __init__(self, default_name: str = "pipeline") -> None:
        self.default_name = default_name
        self.pipelines: dict[str, Pipeline] = {}
        self.active_name: str | None = None
        self.named = False  # True once `%pipeline new/use` chose a pipeline by name
        self.plain_cells = PlainCells()  # cells with no pipeline magic (see notebook/plain_cells.py)

    def set_default_name(self, name: str) -> None:
        """The notebook's name became known (a kernel learns it late, e.g. from papermill's injected
        parameters): the pipeline defined under the old default takes it, unless the user named one."""
        old, self.default_name = self.default_name, name
        if name == old or self.named or old not in self.pipelines or name in self.pipelines:
            return
        pipeline = self.pipelines.pop(old)
        pipeline.name = name
        self.pipelines[name] = pipeline
        if self.active_name == old:
            self.active_name = name

    @property
    def active(self) -> Pipeline:
        name = self.active_name or self.default_name
        if name not in self.pipelines:
            self.pipelines[name] = Pipeline(name, plain_cells=self.plain_cells)
        self.active_name = name
        return self.pipelines[name]

    def forget_cell(self, cell: str) -> None:
        """The notebook cell keyed `cell` was deleted: drop what it defined, in every pipeline."""
        for pipeline in self.pipelines.values():
            pipeline.forget_cell(cell, step=True)

    def get(self, name: str | None) -> Pipeline:
        if name is None:
            return self.active
        if name not in self.pipelines:
            known = ", ".join(sorted(self.pipelines)) or "none yet"
            raise PipelineError(f"no pipeline named {name!r} (pipelines: {known})")
        return self.pipelines[name]

    def new(self, name: str) -> Pipeline:
        """Start pipeline NAME (replacing an earlier one of that name) and make it active."""
        self.pipelines[name] = Pipeline(name, plain_cells=self.plain_cells)
        self.active_name = name
        self.named = True
        return self.pipelines[name]

    def use(self, name: str) -> Pipeline:
        """Select pipeline NAME, creating it if it does not exist yet."""
        self.named = True
        if name not in self.pipelines:
            self.pipelines[name] = Pipeline(name, plain_cells=self.plain_cells)
        self.active_name = name
        return self.pipelines[name]

    # `cell` is the key of the notebook cell the definition comes from (see Pipeline): a cell defined
    # again replaces its own earlier definition, and only it. None: the one cell without a key.
    def define_component(self, line: str, body: str, cell: str | None = None) -> StepDef:
        name, options = parse_component_line(line)
        step = StepDef(name=name, source=normalize_source(body), options=options)
        self.active.define_step(step, cell)
        return step

    def define_setup(self, line: str, body: str, cell: str | None = None) -> SetupCell:
        return self.active.set_setup(body, parse_setup_line(line), UNKEYED if cell is None else cell)

    def define_params(self, body: str, cell: str | None = None) -> None:
        self.active.set_params(body, UNKEYED if cell is None else cell)

    def pipeline_line(self, line: str) -> None:
        """Apply the notebook-structure part of a `%pipeline` line (new/use); others are no-ops here."""
        words = split_magic_line(line, "%pipeline")
        if not words or words[0] not in ("new", "use"):
            return
        if len(words) != 2:
            raise UsageError(
                f"%pipeline {words[0]} takes one pipeline name, e.g. `%pipeline {words[0]} train`"
            )
        if words[0] == "new":
            self.new(words[1])
        else:
            self.use(words[1])
