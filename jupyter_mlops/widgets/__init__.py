"""Run views: the live run DAG, the not-yet-run pipeline, the runs table and the comparison.

The magics, `Run` and the CLI call these functions. Widget modules (anywidget, ipywidgets) load on the
first call, not when this package is imported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..backends.base import Backend
    from .compare import CompareView
    from .run_widget import DagView, RunView
    from .runs_widget import RunsTable

__all__ = ["compare_view", "pipeline_view", "run_view", "runs_table"]


def run_view(backend: Backend, run_id: str, *, live: bool | None = None) -> RunView:
    """The live view of a run: it follows the run until it ends, then stops polling.

    `live=None` follows the run only inside a Jupyter kernel (where a widget can show it).
    """
    from .run_widget import RunView

    return RunView(backend, run_id, live=live)


def pipeline_view(
    steps: list[str],
    edges: list[tuple[str, str]],
    *,
    labels: dict[tuple[str, str], str] | None = None,
) -> DagView:
    """A not-yet-run pipeline (`%pipeline show`); `labels` name the data on each edge."""
    from .run_widget import DagView

    return DagView(steps, edges, labels)


def runs_table(
    backend: Backend, *, experiment: str | None = None, state: str | None = None, limit: int = 50
) -> RunsTable:
    """Runs newest first, sortable and filterable, with a column per parameter and metric."""
    from .runs_widget import RunsTable

    return RunsTable(backend, experiment=experiment, state=state, limit=limit)


def compare_view(backend: Backend, run_ids: list[str]) -> CompareView:
    """Parameters and metrics of runs side by side, differences highlighted, a chart of one metric."""
    from .compare import CompareView

    return CompareView(backend, run_ids)
