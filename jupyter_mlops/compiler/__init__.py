"""The compiler: a notebook `Pipeline` → a plan (`planner`, no kfp) → KFP IR via kfp's compiler (`kfp_ir`).

`step_runtime`, `step_values` and `step_groups` are the code inlined into every compiled step: they
import nothing of this package (an import-linter contract keeps it so).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .plan import Note, PipelinePlan, StepPlan
from .planner import describe, plan_pipeline

if TYPE_CHECKING:
    from ..notebook.pipeline import Pipeline

__all__ = [
    "Note",
    "PipelinePlan",
    "StepPlan",
    "compile_documents",
    "compile_yaml",
    "describe",
    "plan_pipeline",
]


def compile_yaml(pipeline: Pipeline) -> str:
    """The pipeline's KFP IR YAML, as kfp's compiler writes it (kfp is imported on first use)."""
    from .kfp_ir import build_yaml

    return build_yaml(plan_pipeline(pipeline))


def compile_documents(pipeline: Pipeline) -> list[dict[str, Any]]:
    """The compiled KFP IR: the PipelineSpec, then the Kubernetes platform spec if any."""
    import yaml

    return [d for d in yaml.safe_load_all(compile_yaml(pipeline)) if d is not None]
