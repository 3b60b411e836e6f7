"""A step's charts for the sidebar's run view: its metric histories and KFP visual artifacts.

`GET mlops/api/runs/{id}?step=NAME` adds them to that step in the run's detail: only for the step
the view shows, so a run of many steps (or many logged points) stays a small, quick detail. The
notebook's run view gets the same two things from the kernel (`widgets/run_widget.py` step_detail).
"""

from __future__ import annotations

from typing import Any

from ..backends.base import Backend
from ..models import ArtifactInfo, RunInfo
from ..render.finite_json import finite_json


def add_step_results(
    body: dict[str, Any], backend: Backend, run: RunInfo, artifacts: list[ArtifactInfo], step: str
) -> None:
    """Put `histories` (metric -> [[x, value], ...]) and `visuals` (Markdown, HTML, Metrics,
    ClassificationMetrics as the view draws them) on `step` in the detail `body`; a step the run does
    not have gets nothing."""
    shown = next((s for s in body.get("steps", []) if s.get("name") == step), None)
    info = next((s for s in run.steps if s.name == step), None)
    if shown is None or info is None:
        return
    shown["histories"] = {}
    history = getattr(getattr(backend, "store", None), "metric_history", None)
    if callable(history) and info.metrics:  # the local backend keeps every point
        from ..render.metric_histories import step_histories

        shown["histories"] = step_histories(history(run.id), step)
    from ..store.kfp_artifacts import visual_artifacts

    shown["visuals"] = finite_json(visual_artifacts(artifacts, step)) if info.state.terminal else []
