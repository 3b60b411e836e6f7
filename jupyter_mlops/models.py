"""The run model shared by every surface: backends, magics, CLI, widgets and the REST API.

Plain dataclasses only (no kfp, tornado or widget objects), so every layer can take and return them.
State names match Kubeflow Pipelines' v2beta1 API.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from typing import Any


class RunState(str, enum.Enum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELING = "CANCELING"
    CANCELED = "CANCELED"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL_RUN_STATES


class StepState(str, enum.Enum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELING = "CANCELING"
    CANCELED = "CANCELED"
    SKIPPED = "SKIPPED"
    CACHED = "CACHED"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL_STEP_STATES


TERMINAL_RUN_STATES = frozenset({RunState.SUCCEEDED, RunState.FAILED, RunState.CANCELED})
TERMINAL_STEP_STATES = frozenset(
    {StepState.SUCCEEDED, StepState.FAILED, StepState.CANCELED, StepState.SKIPPED, StepState.CACHED}
)


@dataclass(frozen=True)
class Experiment:
    id: str
    name: str
    created_at: float
    run_count: int = 0


@dataclass
class ArtifactInfo:
    """An artifact a step produced. `uri` is a local path (local backend) or a remote URI."""

    run_id: str
    step: str
    name: str
    uri: str
    type: str = "system.Artifact"
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class MetricPoint:
    run_id: str
    step: str | None  # None: logged from the notebook session, not from a step
    name: str
    value: float
    index: int | None = None  # the `step=` argument of log_metric (a training step, not a pipeline step)
    time: float = 0.0


@dataclass
class StepInfo:
    """One task of a run's DAG (a pipeline step)."""

    name: str
    state: StepState = StepState.PENDING
    component: str = ""
    started_at: float | None = None
    finished_at: float | None = None
    error: str | None = None
    attempts: int = 0
    inputs: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    cache_key: str | None = None

    @property
    def duration(self) -> float | None:
        if self.started_at is None:
            return None
        if self.finished_at is None:
            return None
        return max(0.0, self.finished_at - self.started_at)


@dataclass
class RunInfo:
    id: str
    name: str
    state: RunState
    experiment: str = "Default"
    pipeline_name: str = ""
    backend: str = "local"
    created_at: float = 0.0
    started_at: float | None = None
    finished_at: float | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    steps: list[StepInfo] = field(default_factory=list)
    edges: list[tuple[str, str]] = field(default_factory=list)  # (upstream step, downstream step)
    metrics: dict[str, float] = field(default_factory=dict)  # "step.metric" -> last value
    schedule: str | None = None  # the schedule that started the run (a KFP recurring run on kfp)

    @property
    def duration(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return max(0.0, self.finished_at - self.started_at)

    def step(self, name: str) -> StepInfo:
        for s in self.steps:
            if s.name == name:
                return s
        known = ", ".join(s.name for s in self.steps) or "none"
        raise KeyError(f"run {self.id} has no step {name!r} (steps: {known})")

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["state"] = self.state.value
        d["edges"] = [list(e) for e in self.edges]
        for s in d["steps"]:
            s["state"] = s["state"].value if isinstance(s["state"], StepState) else s["state"]
        return d


@dataclass
class RunPage:
    runs: list[RunInfo]
    total: int
    next_offset: int | None = None
    # where the next page starts, whatever runs are created meanwhile (pass it as `cursor`)
    next_cursor: str | None = None


@dataclass
class LogChunk:
    text: str
    offset: int  # byte offset of `text` in the log
    next_offset: int
    complete: bool  # the step has finished: no more text will come
    missing: bool = False  # the log file is gone (its run's folder was removed): `text` says so


@dataclass
class RunEvent:
    """A change in a run, in order. `seq` increases per run; watchers ask for events after a seq."""

    run_id: str
    seq: int
    time: float
    kind: str  # "run" | "step" | "metric" (new metric values; detail: name, value, index)
    state: str
    step: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Capabilities:
    """What a backend can do, so views and the server ask instead of assuming (a KFP server without
    log access has no logs; a remote artifact store gives no downloads here)."""

    logs: bool = True  # step logs can be read (`Backend.logs`)
    artifact_download: bool = True  # artifact bytes can be opened (`Backend.open_artifact`)
    cancel: bool = True
    retry: bool = False  # a failed run can be retried in place
    schedules: bool = False  # recurring runs kept by the backend itself
    session_metrics: bool = True  # `log_metric` in a plain notebook cell is recorded
    working_dir: bool = True  # steps run in the notebook's folder (relative paths work)
    outputs: bool = True  # step output values, metrics and artifact metadata are read back

    def to_json(self) -> dict[str, bool]:
        return asdict(self)


@dataclass(frozen=True)
class BackendStatus:
    """Whether a backend is reachable and what it is (the sidebar's connection light, `%pipeline backend`)."""

    backend: str
    reachable: bool
    message: str | None = None  # why not reachable, or a note worth showing
    location: str | None = None  # the local home folder, or a server's URL
    runs: int | None = None
    active_runs: int | None = None
    max_workers: int | None = None
    runner: str | None = None  # local backend: what runs the runs (its runner service, or a process per run)
    ui_url: str | None = None  # the backend's own UI (the KFP UI's runs page), for a link

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    def __str__(self) -> str:
        if not self.reachable:
            return f"{self.backend}: unreachable ({self.message or 'no answer'})"
        parts = [f"{self.backend} at {self.location}" if self.location else self.backend]
        if self.runs is not None:
            parts.append(f"{self.runs} runs ({self.active_runs or 0} active)")
        if self.max_workers is not None:
            parts.append(f"{self.max_workers} parallel steps")
        if self.runner is not None:
            parts.append(f"runs by {self.runner}")
        return ", ".join(parts)


@dataclass
class ArtifactFile:
    """An artifact's bytes, opened by its backend: read `stream`, then close it."""

    filename: str  # the name to save it under (a directory artifact's file: that file's name)
    stream: Any  # a binary file object (typing.BinaryIO)
    size: int | None = None

    def close(self) -> None:
        self.stream.close()
