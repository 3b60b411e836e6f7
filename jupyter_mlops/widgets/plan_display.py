"""What `%pipeline show` displays: the not-yet-run pipeline's steps, data flow and edges."""

from __future__ import annotations

from typing import Any

from ..compiler.plan import PipelinePlan
from ..render.plan_text import plan_text


class PlanDisplay:
    """Shows the pipeline as a DAG drawing where a frontend can, and as text everywhere."""

    def __init__(self, plan: PipelinePlan) -> None:
        self.plan = plan

    def _view(self) -> Any | None:
        try:
            from . import pipeline_view
        except ImportError:
            return None
        steps = [s.name for s in self.plan.steps]
        edges = [(a, b) for a, b, _ in self.plan.edges]
        labels = {(a, b): label for a, b, label in self.plan.edges if label}
        return pipeline_view(steps, edges, labels=labels)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> Any:
        view = self._view()
        bundle: dict[str, Any] = {}
        if view is not None and hasattr(view, "_repr_mimebundle_"):
            got = view._repr_mimebundle_(include=include, exclude=exclude)
            data = got[0] if isinstance(got, tuple) else got
            bundle.update(data or {})
        bundle["text/plain"] = plan_text(self.plan)
        return bundle

    def __repr__(self) -> str:
        return plan_text(self.plan)


def show_pipeline(plan: PipelinePlan) -> PlanDisplay:
    return PlanDisplay(plan)
