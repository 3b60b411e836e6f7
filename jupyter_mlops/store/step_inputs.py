"""A step's inputs as it received them: what `%pipeline debug` and the run view's debug button load.

Parameters come from the step's record (as KFP carried them, made alike the params cell's literals as
the step did); artifacts are loaded from the files the upstream steps stored, by the step runtime's own
code (`run_values`), so the notebook gets what the step got.
"""

from __future__ import annotations

from typing import Any

from ..errors import UsageError
from ..ir.step_sources import StepSource, run_step_sources
from ..models import RunInfo
from ..step_runtime.run import _mlops_like
from ..step_runtime.values import _MLOPS_UNBOUND
from .run_values import load_artifact_value


def step_inputs(backend: Any, run: RunInfo, step: str) -> tuple[dict[str, Any], list[str], StepSource]:
    """(variable -> value as the step received it, variables it did not receive, the step's source)."""
    info = run.step(step)
    source = run_step_sources(backend, run.id).get(step)
    if source is None:
        raise UsageError(
            f"step {step!r} of run {run.id} is not a notebook step whose code this machine has "
            "(a plain kfp component, or a run on another backend): nothing to debug here"
        )
    if not info.inputs and source.inputs and info.state.value in ("PENDING", "SKIPPED", "CANCELED"):
        raise UsageError(
            f"step {step!r} of run {run.id} never started ({info.state.value}): it received no inputs"
        )
    artifacts = {a.uri: a for a in backend.artifacts(run.id)}
    groups: dict[str, dict[str, Any]] = {}
    values: dict[str, Any] = {}
    unbound: list[str] = []
    for arg, (var, kind) in sorted(source.inputs.items()):
        received = info.inputs.get(arg)
        if kind != "artifact":  # KFP carried the numbers of a list or dict as doubles: as in the step
            values[var] = _mlops_like(received, source.defaults[arg]) if arg in source.defaults else received
            continue
        artifact = artifacts.get(str(received))
        if artifact is None:
            raise UsageError(
                f"step {step!r} of run {run.id}: input {var!r} came from {received!r}, no longer stored"
            )
        try:
            value = load_artifact_value(artifact, var, groups)
        except KeyError:
            value = _MLOPS_UNBOUND
        if value is _MLOPS_UNBOUND:
            unbound.append(var)  # as in the step: the name is simply not defined
        else:
            values[var] = value
    return values, unbound, source
