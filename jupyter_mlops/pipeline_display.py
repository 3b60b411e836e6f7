"""What `%pipeline show` displays: the not-yet-run pipeline's steps, data flow and edges."""

from __future__ import annotations

from typing import Any

from .compiler import PipelinePlan
from .file_order import FILES_LABEL
from .value_kinds import ARTIFACT


def plan_text(plan: PipelinePlan) -> str:
    lines = [f"Pipeline {plan.name!r}: {len(plan.steps)} steps"]
    if plan.params:
        params = ", ".join(f"{p.name}: {p.type} = {p.default!r}" for p in plan.params.values())
        lines.append(f"  parameters: {params}")
    by_name = {step.name: step for step in plan.steps}
    for step in plan.steps:
        ins = [
            f"{v} <- {p}" + _marks("artifact" if k == ARTIFACT else None, v in by_name[p].may_change)
            for v, (p, k) in step.inputs.items()
        ]
        ins += [f"{name} (parameter)" for name in step.params]
        outs = [f"{v}" + _marks(k, v in step.may_change) for v, k in step.outputs.items()]
        if step.result:
            outs.append("result (artifact)")
        lines.append(f"  {step.name}")
        lines.append(f"    in:  {', '.join(ins) or '-'}")
        lines.append(f"    out: {', '.join(outs) or '-'}")
        if step.after:
            files = {a for a, b, label in plan.edges if b == step.name and label == FILES_LABEL}
            lines.append(
                f"    after: {', '.join(a + (f' ({FILES_LABEL})' if a in files else '') for a in step.after)}"
            )
        if step.groups:  # values that may share objects: one pickle, loaded as one
            together = "; ".join(", ".join(sorted(g)) for g in step.groups)
            lines.append(f"    stored together: {together}")
    if plan.notes:
        lines.append("  notes:")
        lines += [f"    {note}" for note in plan.notes]
    return "\n".join(lines)


def _marks(kind: str | None, may_change: bool) -> str:
    """` (artifact, may change)`: the value's kind, and "may change" where the analysis could not
    be sure that the producing step changes the value, yet passes it on to be correct."""
    marks = [m for m in (kind, "may change" if may_change else None) if m]
    return f" ({', '.join(marks)})" if marks else ""


class PlanDisplay:
    """Shows the pipeline as a DAG drawing where a frontend can, and as text everywhere."""

    def __init__(self, plan: PipelinePlan) -> None:
        self.plan = plan

    def _view(self) -> Any | None:
        try:
            from .views import pipeline_view
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
