"""Shared helpers: compile real @dsl.pipeline functions with kfp and run them with the executor."""

from __future__ import annotations

import sys
import threading
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from jupyter_mlops.executor import ExecutionOptions, execute
from jupyter_mlops.executor import worker as worker_source
from jupyter_mlops.models import ArtifactInfo, MetricPoint, RunState, StepInfo, StepState


class RecordingListener:
    """An in-memory, thread-safe ExecutionListener: the latest StepInfo per step and every event."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.lock = threading.Lock()
        self.steps: dict[str, StepInfo] = {}
        self.history: list[tuple[str, StepState]] = []
        self.artifacts: list[ArtifactInfo] = []
        self.metrics: list[MetricPoint] = []

    def on_step(self, step: StepInfo) -> None:
        with self.lock:
            self.steps[step.name] = step
            self.history.append((step.name, step.state))

    def on_artifact(self, artifact: ArtifactInfo) -> None:
        with self.lock:
            self.artifacts.append(artifact)

    def on_metric(self, metric: MetricPoint) -> None:
        with self.lock:
            self.metrics.append(metric)

    def log_path(self, step: str) -> Path:
        return self.root / "logs" / f"{step}.log"

    def log(self, step: str) -> str:
        return self.log_path(step).read_text(errors="replace")

    def states(self) -> dict[str, StepState]:
        with self.lock:
            return {name: s.state for name, s in self.steps.items()}


@dataclass
class Result:
    state: RunState
    error: str | None
    listener: RecordingListener
    workdir: Path
    spec: list[dict[str, Any]] = field(default_factory=list)

    def step(self, name: str) -> StepInfo:
        return self.listener.steps[name]

    def outputs(self, name: str) -> dict[str, Any]:
        return self.listener.steps[name].outputs


def compile_pipeline(pipeline: Any, path: Path) -> list[dict[str, Any]]:
    from kfp import compiler

    compiler.Compiler().compile(pipeline, str(path))
    return list(yaml.safe_load_all(path.read_text()))


Runner = Callable[..., Result]


@pytest.fixture
def run_pipeline(tmp_path: Path) -> Runner:
    """run_pipeline(pipeline_or_spec, arguments=None, *, name="run", cancel=None, **options) -> Result.

    Runs share one cache directory per test, so a second call can hit the first one's cache.
    """
    counter = iter(range(1000))

    def run(
        pipeline: Any,
        arguments: dict[str, Any] | None = None,
        *,
        name: str | None = None,
        cancel: threading.Event | None = None,
        listener: RecordingListener | None = None,
        **options: Any,
    ) -> Result:
        spec = (
            pipeline if isinstance(pipeline, list) else compile_pipeline(pipeline, tmp_path / "pipeline.yaml")
        )
        workdir = tmp_path / (name or f"run-{next(counter)}")
        listener = listener or RecordingListener(workdir)
        options.setdefault("cache_dir", tmp_path / "cache")
        options.setdefault("max_workers", 2)
        state, error = execute(
            spec,
            arguments or {},
            ExecutionOptions(workdir=workdir, run_id=workdir.name, **options),
            listener,
            cancel or threading.Event(),
        )
        return Result(state, error, listener, workdir, spec)

    return run


@pytest.fixture
def worker_module() -> Iterator[types.ModuleType]:
    """worker.py loaded as the step workers' zygote loads it (its own module, not this package's)."""
    path = worker_source.__file__
    assert path is not None
    module = types.ModuleType("_worker_under_test")
    module.__file__ = path
    exec(compile(Path(path).read_text(), path, "exec"), module.__dict__)
    saved_path, saved = list(sys.path), sys.modules.get("ephemeral_component")
    yield module
    sys.path[:] = saved_path
    if saved is None:
        sys.modules.pop("ephemeral_component", None)
    else:
        sys.modules["ephemeral_component"] = saved
