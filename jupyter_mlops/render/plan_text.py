"""The not-yet-run pipeline as text: steps, their inputs and outputs, edges and notes (`%pipeline show`,
`jupyter-mlops show`)."""

from __future__ import annotations

from ..analysis.file_order import FILES_LABEL
from ..analysis.value_kinds import ARTIFACT
from ..compiler.plan import PipelinePlan


def plan_text(plan: PipelinePlan) -> str:
    lines = [f"Pipeline {plan.name!r}: {len(plan.steps)} steps"]
    if plan.params:
        params = ", ".join(p.signature for p in plan.params.values())
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
