"""Errors from kfp's compiler, told as one line that names the cell (issue 12, item 16).

kfp raises a ValueError or TypeError from deep inside (a channel name it refuses, a number out of a
protobuf's range); the user should see which cell, what was refused, and what to do, not a traceback.
The cell is found from what the message names: a variable a step passes on, or one of its settings.
"""

from __future__ import annotations

import re

from ..errors import CellError, MlopsError, PipelineError
from .plan import PipelinePlan, StepPlan

_NAME = re.compile(r"Got name: (.+?)\s*$")
_VALUE = re.compile(r"Value out of range: (\S+)")


def explain(exc: Exception, plan: PipelinePlan) -> MlopsError:
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    name = _NAME.search(first)
    if name:
        step = _step_passing(plan, name[1])
        if step is not None:
            return CellError(
                f"Kubeflow Pipelines cannot pass the variable {name[1]!r} on: its names must be ASCII "
                "letters, digits, '_' or '-', beginning with a letter. Rename the variable",
                cell=step.name,
            )
    value = _VALUE.search(first)
    if value:
        step = _step_set_to(plan, value[1])
        if step is not None:
            return CellError(
                f"Kubeflow Pipelines cannot hold the setting {value[1]} (out of range): give a smaller "
                "number on the %%component line",
                cell=step.name,
            )
    return PipelineError(f"Kubeflow Pipelines cannot compile this pipeline: {first}")


def _step_passing(plan: PipelinePlan, variable: str) -> StepPlan | None:
    for step in plan.steps:
        if variable in step.outputs or variable in step.inputs or variable in step.params:
            return step
    return None


def _step_set_to(plan: PipelinePlan, value: str) -> StepPlan | None:
    for step in plan.steps:
        settings = (step.options.gpu, step.options.cpu, step.options.memory, step.options.retries)
        if any(str(s) == value for s in settings if s is not None):
            return step
    return None
