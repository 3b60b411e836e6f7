"""What the compiler decides about a pipeline: its steps, their inputs and outputs, the edges, notes.

Plain data, no kfp: the planner makes it, the IR builder and the views read it.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import PipelineError
from ..notebook.options import StepOptions

if TYPE_CHECKING:
    from ..notebook.pipeline import Param

# Names a compiled step provides itself (the inlined stand-in for jupyter_mlops).
PROVIDED = frozenset({"log_metric", "logdir", "log_embedding", "mlops", "display"})
RESERVED_ARGS = frozenset({"result", "mlops_metrics", "mlops_logdir", "mlops_figures"})


@dataclass(frozen=True)
class StepPlan:
    name: str
    source: str  # pure Python that the step runs: implicit imports, then the cell
    params: tuple[str, ...]  # pipeline parameters the step reads
    inputs: dict[str, tuple[str, str]]  # variable -> (producing step, kind)
    outputs: dict[str, str]  # variable -> kind ("artifact" or a parameter type)
    result: bool  # the cell ends with a bare expression: output `result`
    uses_metrics: bool
    uses_logdir: bool
    packages: tuple[str, ...]
    after: tuple[str, ...]  # ordering-only upstream steps (--after)
    options: StepOptions
    # Outputs the step passes on because it MAY have changed them (the analysis cannot be sure:
    # an unknown call, an alias); `%pipeline show` marks them "may change".
    may_change: frozenset[str] = frozenset()
    line_map: tuple[int, ...] = ()  # the user's line of each line of `source` (implicit imports: 1)
    # Outputs that may share objects (`alias_flow`): each group is stored as one, so a step that
    # loads several of them gets what was one object as one object.
    groups: tuple[frozenset[str], ...] = ()
    shows_figures: bool = False  # the cell may draw or display(): its figures are kept (step_figures)
    # Functions and classes of earlier steps that this one uses (analysis/carried_code.py): per
    # defining step, (its name, the definitions' source, the user's line of each source line).
    carried: tuple[tuple[str, str, tuple[int, ...]], ...] = ()
    # This step's classes that later steps carry: values holding their objects can be stored.
    shared: frozenset[str] = frozenset()
    # Its code (setup, carried code included) uses tqdm.notebook: the step shows text bars instead.
    text_progress: bool = False


@dataclass(frozen=True)
class Note:
    """Something `%pipeline show` (and compile) tells the user about a cell, short of an error."""

    cell: str  # the step name, or "%%pipeline setup" / "%%pipeline params"
    line: int | None  # the user's line in that cell (the magic line is line 1), if one line
    message: str

    def __str__(self) -> str:
        where = self.cell if self.line is None else f"{self.cell}, line {self.line}"
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class PipelinePlan:
    name: str
    kfp_name: str
    params: dict[str, Param]
    setup: str  # what every step runs first; its line 1 stands for the %%pipeline setup line
    steps: list[StepPlan]
    edges: list[tuple[str, str, str]] = field(default_factory=list)  # (upstream, downstream, label)
    notes: list[Note] = field(default_factory=list)  # shown by `%pipeline show`, in notebook order
    setup_line_map: tuple[int, ...] = ()  # the setup cell's line of each line of `setup`
    inline_runtime: bool = False  # steps carry the step runtime's code instead of importing it

    def step(self, name: str) -> StepPlan:
        found = self._steps_by_name.get(name)
        if found is None:
            raise PipelineError(f"pipeline {self.name!r} has no step {name!r}")
        return found

    @functools.cached_property
    def _steps_by_name(self) -> dict[str, StepPlan]:
        """The steps by name, made on the first `step()`: the compiler looks steps up by name for each
        input and each step (a scan of the list each time made a 1,000-step compile quadratic)."""
        return {s.name: s for s in self.steps}

    @functools.cached_property
    def derived(self) -> dict[Any, Any]:
        """What the compiler works out from the plan alone, kept with it (each step's argument names,
        asked for its function, its inputs' and its readers': kfp_ir._argument_names)."""
        return {}


def kfp_name(name: str) -> str:
    """A name kfp accepts for a pipeline: lowercase letters, digits and dashes."""
    cleaned = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return cleaned or "pipeline"
