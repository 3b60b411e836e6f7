"""A chain's step end and the next step's start written as one report.

In a chain (each step the only one that can run) the scheduler's thread ends step k and starts step
k+1 back to back: two store transactions (each a commit and a push to the run's watchers) a few
hundred microseconds apart, both on the chain's path. `HeldEnds` stands between the steps and the
run's listener: the end of a step the scheduler ran on its own thread is held, and given to the
listener with the next report, in order, as one batch (`on_steps`: one transaction in the store). The
scheduler lets go of a held end (`flush`) whenever it would wait for anything, and at the run's end,
so no end is held while nothing else happens. Any other report (an artifact, a metric) lets it go
first: the listener sees every report in the order they were made.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

from ..models import ArtifactInfo, MetricPoint, StepInfo
from .steps import Listener


class HeldEnds:
    """The run's listener, with at most one step end held back to be written with the next report."""

    def __init__(self, inner: Listener) -> None:
        self.inner = inner
        self._held: StepInfo | None = None
        self._lock = threading.Lock()  # steps on pool threads report too

    def hold(self, step: StepInfo) -> None:
        """`step`'s end, reported with the next report (or by `flush`)."""
        with self._lock:
            earlier, self._held = self._held, step
        if earlier is not None:
            self._many([earlier])

    def flush(self) -> None:
        """Report the end held back, if any."""
        with self._lock:
            held, self._held = self._held, None
        if held is not None:
            self._many([held])

    def _take(self) -> list[StepInfo]:
        with self._lock:
            held, self._held = self._held, None
        return [] if held is None else [held]

    def _many(self, steps: Sequence[StepInfo]) -> None:
        many = getattr(self.inner, "on_steps", None)
        if many is not None and len(steps) > 1:
            many(list(steps))
        else:
            for step in steps:
                self.inner.on_step(step)

    def on_step(self, step: StepInfo) -> None:
        self._many([*self._take(), step])

    def on_steps(self, steps: list[StepInfo]) -> None:
        self._many([*self._take(), *steps])

    def on_artifact(self, artifact: ArtifactInfo) -> None:
        self.flush()
        self.inner.on_artifact(artifact)

    def on_metric(self, metric: MetricPoint) -> None:
        self.flush()
        self.inner.on_metric(metric)

    def on_metrics(self, metrics: list[MetricPoint]) -> None:
        self.flush()
        many = getattr(self.inner, "on_metrics", None)
        if many is not None:
            many(metrics)
        else:
            for metric in metrics:
                self.inner.on_metric(metric)

    def log_path(self, step: str) -> Path:
        return self.inner.log_path(step)
