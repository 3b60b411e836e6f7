"""The JSON the REST API answers with for runs: one shape for the list, another for the detail.

The detail carries the DAG's layout from `views.layout`, so JupyterLab draws the same coordinates as
the notebook's widget and its static SVG (the front end only draws).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..models import ArtifactInfo, RunInfo, RunPage

if TYPE_CHECKING:
    from ..ir.step_sources import StepSource


def run_summary(run: RunInfo) -> dict[str, Any]:
    """A row of the runs list: no steps, so 10,000 runs page quickly."""
    return {
        "id": run.id,
        "name": run.name,
        "state": run.state.value,
        "experiment": run.experiment,
        "pipeline_name": run.pipeline_name,
        "backend": run.backend,
        "created_at": run.created_at,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "duration": run.duration,
        "parameters": run.parameters,
        "metrics": run.metrics,
        "error": run.error,
        "schedule": run.schedule,
    }


def run_page(page: RunPage, *, limit: int, offset: int) -> dict[str, Any]:
    return {
        "runs": [run_summary(r) for r in page.runs],
        "total": page.total,
        "limit": limit,
        "offset": offset,
        "next_offset": page.next_offset,
        "next_cursor": page.next_cursor,
    }


def run_detail(
    run: RunInfo, artifacts: list[ArtifactInfo], sources: Mapping[str, StepSource] | None = None
) -> dict[str, Any]:
    """The run with its steps, edges, metrics, artifacts (as download names) and the DAG's layout.
    Steps' inputs and outputs are shown as `render.values_shown` describes them (no paths)."""
    from ..ir.output_names import is_internal
    from ..render.layout import layout_dag
    from ..render.values_shown import shown_inputs, shown_outputs
    from ..store.run_figures import figure_items, figures_artifact

    body = run.to_json()
    body["duration"] = run.duration
    for step_json, step in zip(body["steps"], run.steps, strict=True):
        step_json["duration"] = step.duration
        # what each value is and which step made it, under the cell's names: no paths, no plumbing
        source = (sources or {}).get(step.name)
        names = source.variables if source is not None else {}
        step_json["inputs"] = shown_inputs(step, artifacts, names)
        step_json["outputs"] = shown_outputs(step, artifacts, names)
        # what it showed, in order; each file is served by the artifact route (?path=FILE)
        figures = figures_artifact(artifacts, step.name)
        step_json["figures"] = [
            {**item, "artifact": figures.name} for item in figure_items(figures) if figures is not None
        ]
    body["artifacts"] = [
        {"step": a.step, "name": a.name, "type": a.type, "metadata": a.metadata}
        for a in artifacts
        if not is_internal(a.name, a)
    ]
    body["layout"] = layout_dag([s.name for s in run.steps], run.edges).to_json()
    return body
