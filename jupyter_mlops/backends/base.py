"""The Backend seam: one protocol that the local and Kubeflow backends implement.

It takes and returns the project's own dataclasses (`jupyter_mlops.models`), never kfp or HTTP objects.
A contract test suite (tests/backends/contract.py) runs the same assertions against every backend.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from ..models import (
    ArtifactFile,
    ArtifactInfo,
    BackendStatus,
    Capabilities,
    Experiment,
    LogChunk,
    RunEvent,
    RunInfo,
    RunPage,
    RunState,
)


@runtime_checkable
class Backend(Protocol):
    """A place that runs compiled pipelines and keeps their history.

    Implementations are found by name through the `jupyter_mlops.backends` entry-point group
    (`registry.py`), so a third-party package can add one. Errors: `RunNotFound`, `StepNotFound`,
    `ArtifactNotFound` (all `NotFound`) for what does not exist, `UsageError` for a bad request,
    `BackendError` when the backend itself fails.
    """

    name: str
    capabilities: Capabilities

    def submit(
        self,
        pipeline_spec: Mapping[str, Any] | Sequence[Mapping[str, Any]] | str,
        arguments: Mapping[str, Any] | None = None,
        *,
        experiment: str | None = None,
        name: str | None = None,
        cache: bool = True,
        working_dir: str | os.PathLike[str] | None = None,
    ) -> RunInfo:
        """Start a run of compiled KFP IR and return at once.

        `pipeline_spec`: the YAML text, the PipelineSpec document, or all documents of the file (the
        spec, then the optional `platforms: kubernetes:` document). Unknown or missing arguments raise
        UsageError before anything is recorded. `working_dir`: where the steps' relative paths point
        (the notebook's folder; default: the caller's current directory). The local backend runs its
        steps there; a backend whose steps run in containers has no such folder.
        """
        ...

    def get(self, run_id: str) -> RunInfo:
        """The run with its steps, edges and metrics. Raises RunNotFound."""
        ...

    def list_runs(
        self,
        *,
        experiment: str | None = None,
        state: RunState | None = None,
        limit: int = 50,
        offset: int = 0,
        cursor: str | None = None,
    ) -> RunPage:
        """Runs newest first (without steps, for speed). `cursor` (a page's `next_cursor`): the runs
        after that page, stable while new runs are created (`offset` is then ignored)."""
        ...

    def cancel(self, run_id: str) -> RunInfo: ...

    def logs(self, run_id: str, step: str, offset: int = 0) -> LogChunk:
        """The step's log from byte `offset`. StepNotFound for a step the run does not have."""
        ...

    def artifacts(self, run_id: str, step: str | None = None) -> list[ArtifactInfo]: ...

    def open_artifact(self, run_id: str, step: str, name: str, path: str | None = None) -> ArtifactFile:
        """The bytes of a step's artifact (`path`: a file inside a directory artifact). ArtifactNotFound
        when there is no such artifact or file, Forbidden when it would lead outside the backend's
        artifact store, UsageError for a directory without `path`."""
        ...

    def log_session_metric(self, name: str, value: float, step: int | None, at: float) -> str:
        """Record a metric logged in a plain notebook cell (not in a step) against this process's
        notebook session; returns the session's run id."""
        ...

    def experiments(self) -> list[Experiment]: ...

    def events(self, run_id: str, after: int = 0) -> list[RunEvent]:
        """Events of a run with seq > after, oldest first."""
        ...

    def status(self) -> BackendStatus:
        """Whether the backend is reachable, and what it is (for the sidebar's connection light)."""
        ...

    def close(self) -> None:
        """Release connections and files; the object is not used afterwards."""
        ...
