"""A step's inputs and outputs as the views show them: what each value is, never where its file lies.

A step's record holds, for each artifact input or output, the artifact's path on this machine. The
views show instead what the step stored there, from the artifact's metadata (no file is read): a
numpy array's type, shape and dtype, a frame's shape, the cell's last value's repr; an input says which
step made it. The compiler's own outputs (the step's Metrics artifact, its TensorBoard folder) and a
last value of None are left out. Parameter values are shown as they are.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from ..ir.output_names import is_internal, user_name
from ..models import ArtifactInfo, StepInfo

_REPR_CHARS = 120


def describe_artifact(artifact: ArtifactInfo) -> str:
    """`numpy.ndarray (2, 3) float32`, `pandas.DataFrame (100, 4)`, `3` (a last value), `Dataset`."""
    meta = artifact.metadata
    preview = meta.get("preview")
    shaped = isinstance(meta.get("shape"), list) or (isinstance(preview, dict) and "shape" in preview)
    if artifact.name == "result" and isinstance(meta.get("repr"), str) and not shaped:  # a frame: its shape
        text = str(meta["repr"])
        return text if len(text) <= _REPR_CHARS else text[: _REPR_CHARS - 1] + "…"
    kind = meta.get("type")
    if not isinstance(kind, str):
        return artifact.type.removeprefix("system.")  # not a notebook value: its KFP type
    shape = meta.get("shape")
    if not isinstance(shape, list) and isinstance(preview, dict):  # pickled or grouped: the preview's
        shape = preview.get("shape")
        if kind == "pandas.Series" and isinstance(shape, list) and len(shape) == 2:
            shape = shape[:1]  # previewed as a one-column frame
    dtype = meta.get("dtype")
    if not isinstance(dtype, str) and isinstance(preview, dict) and kind == "numpy.ndarray":
        dtype = preview.get("dtype")
    extra = f" {tuple(shape)}" if isinstance(shape, list) else ""
    if isinstance(dtype, str):
        extra += f" {dtype}"
    return kind + extra


def _uris(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    return []


def shown_outputs(
    step: StepInfo, artifacts: Iterable[ArtifactInfo], variables: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Output name (as the cell wrote it) -> what the views show for it. `variables`: the step's
    output and input arguments -> the user's variables (`step_sources.StepSource.variables`)."""
    by_name = {a.name: a for a in artifacts if a.step == step.name}
    shown: dict[str, Any] = {}
    for name, value in step.outputs.items():
        artifact = by_name.get(name)
        if value is None or is_internal(name, artifact):
            continue
        if artifact is None:
            shown[user_name(name, None, variables or {})] = _without_paths(value)
        else:
            shown[user_name(name, artifact, variables or {})] = describe_artifact(artifact)
    return shown


def shown_inputs(
    step: StepInfo, artifacts: Iterable[ArtifactInfo], variables: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Input name -> its value (a parameter) or what it is and which step made it (an artifact)."""
    by_uri = {a.uri: a for a in artifacts}
    shown: dict[str, Any] = {}
    for name, value in step.inputs.items():
        uris = _uris(value)
        found = [by_uri[u] for u in uris if u in by_uri]
        if uris and len(found) == len(uris):
            parts = [f"{describe_artifact(a)} from {a.step}" for a in found]
            shown[user_name(name, found[0], variables or {})] = parts[0] if len(parts) == 1 else parts
        else:
            shown[user_name(name, None, variables or {})] = _without_paths(value)
    return shown


def _without_paths(value: Any) -> Any:
    """An absolute path (an artifact the store has no record of) as its last component."""
    uris = _uris(value)
    if uris and all(os.path.isabs(u) for u in uris):
        names = [os.path.basename(u.rstrip("/")) or u for u in uris]
        return names[0] if isinstance(value, str) else names
    return value


def output_previews(
    step: StepInfo, artifacts: Iterable[ArtifactInfo], variables: Mapping[str, str] | None = None
) -> dict[str, dict[str, Any]]:
    """Output name -> the preview the step stored with it (`step_previews.py`), for outputs that have one."""
    by_name = {a.name: a for a in artifacts if a.step == step.name}
    previews: dict[str, dict[str, Any]] = {}
    for name, value in step.outputs.items():
        artifact = by_name.get(name)
        if value is None or artifact is None or is_internal(name, artifact):
            continue
        preview = artifact.metadata.get("preview")
        if isinstance(preview, dict):
            previews[user_name(name, artifact, variables or {})] = preview
    return previews
