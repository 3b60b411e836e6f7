"""A run found whole in the step cache, resolved in the submitting process: no runner process at all.

Before `LocalBackend.submit` hands a run (with the cache on) to a runner, it executes the pipeline here
in cache-only mode (`ExecutionOptions(cache_only=True)`): the real scheduler and steps, which look each
step up, put its cached outputs into the run's directory (hard links) and write its log line, but start
no process; the first step that would have to run stops the attempt. What the steps report is kept in
memory meanwhile. Every step CACHED: the run is recorded from that report, in one transaction,
exactly as a runner records a cached run (PENDING, RUNNING, each step's states and outputs, its
artifacts and metrics, SUCCEEDED, with their events), and `submit` returns it finished. Anything
else (a miss, a step with caching off, an error): the attempt leaves no trace (its files are removed,
nothing was recorded) and the run goes to a runner as before; that runner finds the cached steps again.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..ir.spec import PipelineIR
from ..models import ArtifactInfo, MetricPoint, RunState, StepInfo, StepState
from ..store import RunStore
from ..store.finished_runs import record_succeeded_run
from ..store.logs import step_log_path
from ..store.records import dumps, loads
from ..store.step_batches import record_steps
from .runner_liveness import this_host


class _Report:
    """The engine's listener while the run is tried from the cache: every call kept, in order."""

    def __init__(self, store: RunStore, run_id: str, run_dir: Path, planned: Sequence[str]) -> None:
        self.store = store
        self.run_id = run_id
        self.run_dir = run_dir
        # in order: a step's report, an artifact, or another write (metrics)
        self.calls: list[StepInfo | ArtifactInfo | Callable[[], None]] = []
        self.cached = 0
        # Planned steps are created PENDING with the run; the scheduler's first report of one (PENDING,
        # its component named) changes nothing its next report does not write again: replayed only
        # for a step reported no more (PENDING over PENDING writes no event, so order does not matter).
        self._planned = set(planned)
        self.first_pending: dict[str, StepInfo] = {}

    def on_step(self, step: StepInfo) -> None:
        if step.state is StepState.CACHED:
            self.cached += 1
        if step.state is StepState.PENDING and step.name in self._planned:
            self._planned.discard(step.name)
            self.first_pending[step.name] = step
            return
        self._planned.discard(step.name)
        self.first_pending.pop(step.name, None)
        self.calls.append(step)

    def on_artifact(self, artifact: ArtifactInfo) -> None:
        artifact.run_id = self.run_id
        self.calls.append(artifact)

    def on_metric(self, metric: MetricPoint) -> None:
        metric.run_id = self.run_id
        self.calls.append(lambda: self.store.record_metric(metric))

    def on_metrics(self, metrics: list[MetricPoint]) -> None:
        for metric in metrics:
            metric.run_id = self.run_id
        self.calls.append(lambda: self.store.record_metrics(metrics))

    def log_path(self, step: str) -> Path:
        return step_log_path(self.run_dir, step)  # unused: a cached step looked up here writes no log


def resolve_from_cache(
    store: RunStore,
    record: Mapping[str, Any],
    documents: Sequence[Mapping[str, Any]],
    run_dir: Path,
    cache_dir: Path,
    max_workers: int | None,
    ir: PipelineIR | None = None,
) -> bool:
    """Record run `record` (the arguments of `RunStore.create_run`) as finished from the cache, if
    every step of it is cached; False (and nothing recorded) if any step would have to run."""
    from ..executor.engine import ExecutionOptions, execute

    run_id = str(record["run_id"])
    report = _Report(store, run_id, run_dir, record["steps"])
    options = ExecutionOptions(
        workdir=run_dir,
        cache_dir=cache_dir,
        cache=True,
        max_workers=max_workers or os.cpu_count() or 1,
        run_id=run_id,
        step_cwd=Path(record["working_dir"]),
        cache_only=True,
    )
    # The parameters as a runner reads them back from the store (JSON), so the cache keys are its keys.
    parameters = loads(dumps(dict(record["parameters"])))
    try:
        state, _ = execute(documents, parameters, options, report, threading.Event(), ir=ir)
    except Exception:
        state = RunState.FAILED  # whatever went wrong, the runner meets it again and reports it
    if state is not RunState.SUCCEEDED or report.cached == 0:
        _forget(run_dir)
        return False
    reports = [*report.first_pending.values(), *(c for c in report.calls if isinstance(c, StepInfo))]
    artifacts = [c for c in report.calls if isinstance(c, ArtifactInfo)]
    with store.batch():
        # Steps and artifacts only (no metric, whose events interleave with the steps'): written at once
        if len(reports) + len(artifacts) == len(report.first_pending) + len(report.calls) and (
            record_succeeded_run(store, record, os.getpid(), this_host(), reports, artifacts)
        ):
            return True
        store.create_run(**record)  # else call by call, as a runner records it
        store.mark_running(run_id, os.getpid(), this_host())
        steps: list[StepInfo] = list(report.first_pending.values())
        for call in report.calls:
            if isinstance(call, StepInfo):
                steps.append(call)
                continue
            record_steps(store, run_id, steps)  # the reports before it, in one go (step_batches.py)
            steps = []
            if isinstance(call, ArtifactInfo):
                store.record_artifact(call)
            else:
                call()
        record_steps(store, run_id, steps)
        store.finish_run(run_id, RunState.SUCCEEDED)
    return True


def _forget(run_dir: Path) -> None:
    """Remove what the attempt put in the run's directory (links to cached outputs), so the runner
    starts from what `submit` left: the IR."""
    for name in ("artifacts", "tmp", "logs"):
        if (run_dir / name).exists():
            shutil.rmtree(run_dir / name, ignore_errors=True)
