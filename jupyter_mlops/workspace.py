"""The pipelines a notebook defines, and which one is active: one object the kernel and the CLI share.

The kernel feeds it cells as they run; the CLI feeds it the cells of an .ipynb in order. Both go through
the same methods, so a notebook compiles to the same YAML either way.
"""

from __future__ import annotations

import os
from pathlib import Path

from .component_options import parse_component_line, parse_setup_line, split_magic_line
from .errors import PipelineError, UsageError
from .pipeline import UNKEYED, Pipeline, SetupCell, StepDef, normalize_source


def default_pipeline_name(notebook_path: str | None) -> str:
    """The notebook's file stem, else `pipeline`."""
    if notebook_path:
        stem = Path(notebook_path).stem
        if stem:
            return stem
    return "pipeline"


def kernel_notebook_path(user_ns: dict[str, object]) -> str | None:
    """The notebook a kernel runs, as Jupyter tells it (`__session__`, or JPY_SESSION_NAME)."""
    session = user_ns.get("__session__")
    if isinstance(session, str) and session:
        return session
    return os.environ.get("JPY_SESSION_NAME") or None


class Workspace:
    def __init__(self, default_name: str = "pipeline") -> None:
        self.default_name = default_name
        self.pipelines: dict[str, Pipeline] = {}
        self.active_name: str | None = None

    @property
    def active(self) -> Pipeline:
        name = self.active_name or self.default_name
        if name not in self.pipelines:
            self.pipelines[name] = Pipeline(name)
        self.active_name = name
        return self.pipelines[name]

    def get(self, name: str | None) -> Pipeline:
        if name is None:
            return self.active
        if name not in self.pipelines:
            known = ", ".join(sorted(self.pipelines)) or "none yet"
            raise PipelineError(f"no pipeline named {name!r} (pipelines: {known})")
        return self.pipelines[name]

    def new(self, name: str) -> Pipeline:
        """Start pipeline NAME (replacing an earlier one of that name) and make it active."""
        self.pipelines[name] = Pipeline(name)
        self.active_name = name
        return self.pipelines[name]

    def use(self, name: str) -> Pipeline:
        """Select pipeline NAME, creating it if it does not exist yet."""
        if name not in self.pipelines:
            self.pipelines[name] = Pipeline(name)
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
