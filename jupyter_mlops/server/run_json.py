"""The JSON the REST API answers with for runs: one shape for the list, another for the detail.

The detail carries the DAG's layout from `views.layout`, so JupyterLab draws the same coordinates as
the notebook's widget and its static SVG (the front end only draws).
"""

from __future__ import annotations

from typing import Any

from ..models import ArtifactInfo, RunInfo, RunPage


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


def run_detail(run: RunInfo, artifacts: list[ArtifactInfo]) -> dict[str, Any]:
    """The run with its steps, edges, metrics, artifacts (as download names) and the DAG's layout."""
    from ..render.layout import layout_dag

    body = run.to_json()
    body["duration"] = run.duration
    for step_json, step in zip(body["steps"], run.steps, strict=True):
        step_json["duration"] = step.duration
    body["artifacts"] = [
        {"step": a.step, "name": a.name, "type": a.type, "metadata": a.metadata} for a in artifacts
    ]
    body["layout"] = layout_dag([s.name for s in run.steps], run.edges).to_json()
    return body
