"""The compiler: a notebook `Pipeline` → a plan (`planner`, no kfp) → KFP IR via kfp's compiler (`kfp_ir`).

Compiled steps import the step runtime (`jupyter_mlops.step_runtime`, which imports nothing else of
the package), or, with `%%pipeline setup --inline-runtime`, carry the functions of it they use
(`runtime_source`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .collector import collector_paused
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

    with collector_paused():
        return build_yaml(plan_pipeline(pipeline))


def compile_documents(pipeline: Pipeline) -> list[dict[str, Any]]:
    """The compiled KFP IR: the PipelineSpec, then the Kubernetes platform spec if any, taken from kfp
    as dicts without a YAML round trip (equal to what kfp's YAML loads as; runs need no text)."""
    from .kfp_ir import build_documents

    with collector_paused():
        return build_documents(plan_pipeline(pipeline))
