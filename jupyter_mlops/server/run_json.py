"""The JSON the REST API answers with for runs: one shape for the list, another for the detail.

The detail carries the DAG drawn as SVG by `render.svg` (the static drawing of every notebook output),
which the sidebar's run view shows as it is, and its layout from `render.layout`.
"""

from __future__ import annotations

import time
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
        "terminal": run.state.terminal,  # the front ends ask this rather than keep a list of states
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
    from ..render.svg import render_dag_svg, step_states
    from ..render.values_shown import shown_inputs, shown_outputs
    from ..store.run_figures import figure_items, figures_artifact

    body = run.to_json()
    body["duration"] = run.duration
    body["terminal"] = run.state.terminal
    for step_json, step in zip(body["steps"], run.steps, strict=True):
        step_json["duration"] = step.duration
        step_json["terminal"] = step.state.terminal
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
    layout = layout_dag([s.name for s in run.steps], run.edges)
    body["layout"] = layout.to_json()
    body["dag_svg"] = render_dag_svg(layout, *step_states(run, time.time()))
    return body
