"""Run output for terminals and notebooks alike: following a step's log, the experiments table."""

from __future__ import annotations

import html
import time
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from .backends.base import Backend
    from .models import Experiment

_FOLLOW_PAUSE_S = 0.3


def print_logs(backend: Backend, run_id: str, step: str, *, follow: bool, out: TextIO) -> None:
    """Print a step's log; with `follow`, keep printing until the step has finished.

    `step` may be written as in the notebook (`train_fast`): KFP names the task `train-fast`.
    """
    if "_" in step and step not in {s.name for s in backend.get(run_id).steps}:
        step = step.replace("_", "-")
    offset = 0
    while True:
        chunk = backend.logs(run_id, step, offset)
        if chunk.text:
            out.write(chunk.text)
            out.flush()
        offset = chunk.next_offset
        if not follow or chunk.missing or (chunk.complete and not chunk.text):
            return
        if not chunk.text:
            time.sleep(_FOLLOW_PAUSE_S)


class ExperimentsTable:
    def __init__(self, experiments: list[Experiment]) -> None:
        self.experiments = experiments

    def __repr__(self) -> str:
        if not self.experiments:
            return "No experiments yet."
        width = max(len(e.name) for e in self.experiments)
        rows = [f"{'experiment':<{width}}  runs  created"]
        for e in self.experiments:
            created = time.strftime("%Y-%m-%d %H:%M", time.localtime(e.created_at))
            rows.append(f"{e.name:<{width}}  {e.run_count:>4}  {created}")
        return "\n".join(rows)

    def _repr_html_(self) -> str:
        body = "".join(
            f"<tr><td>{html.escape(e.name)}</td><td style='text-align:right'>{e.run_count}</td>"
            f"<td>{time.strftime('%Y-%m-%d %H:%M', time.localtime(e.created_at))}</td></tr>"
            for e in self.experiments
        )
        return f"<table><tr><th>experiment</th><th>runs</th><th>created</th></tr>{body}</table>"

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(repr(self))


def experiments_table(experiments: list[Experiment]) -> ExperimentsTable:
    return ExperimentsTable(experiments)
