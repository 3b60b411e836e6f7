"""Which outputs of a compiled notebook step are the user's, and under which names.

The compiler gives a step outputs of its own (its KFP Metrics, its TensorBoard folder, what it showed)
and names some outputs apart from their variables (`_x` travels as `out_x`). Everything the user sees
(the API, the views, the REST API) lists the user's outputs under the cell's names.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..models import ArtifactInfo

# Artifacts the compiler adds to a step for its own use (`compiler.kfp_ir._argument_names`): not the user's.
INTERNAL_OUTPUTS = ("mlops_metrics", "mlops_logdir", "mlops_figures")


def is_internal(name: str, artifact: ArtifactInfo | None) -> bool:
    """An output the user did not make: the compiler's Metrics/logdir outputs, or a None last value."""
    if artifact is None:
        return False
    meta = artifact.metadata
    if meta.get("format") in ("none", "unbound"):
        return True
    if meta.get("kind") == "figures":  # what the step showed: the views show it as figures
        return True
    internal_type = artifact.type in ("system.Metrics", "system.Artifact")
    return internal_type and any(name.startswith(n) for n in INTERNAL_OUTPUTS) and "format" not in meta


def user_name(name: str, artifact: ArtifactInfo | None, variables: Mapping[str, str]) -> str:
    """The output's name as the cell wrote it (`_x` travels as `out_x`, `Output` as `Output_out`)."""
    if name in variables:
        return variables[name]
    if artifact is not None and name != "result":
        variable = artifact.metadata.get("variable")
        if isinstance(variable, str) and variable:
            return variable
    return name
