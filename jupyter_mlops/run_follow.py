"""Run output for terminals and notebooks alike: following a step's log, the experiments table."""

from __future__ import annotations

import html
import time
from typing import TYPE_CHECKING, Any, TextIO

from .store.run_notify import RunWatch, backend_watch

if TYPE_CHECKING:
    from .backends.base import Backend
    from .models import Experiment
    from .render.log_filter import ShownLog

_FOLLOW_PAUSE_S = 0.3


def print_logs(
    backend: Backend,
    run_id: str,
    step: str,
    *,
    follow: bool,
    out: TextIO,
    executor_lines: bool = False,
    note: TextIO | None = None,
) -> None:
    """Print a step's log; with `follow`, keep printing until the step has finished. kfp's executor
    bookkeeping lines are left out (as the views do) unless `executor_lines`.

    `step` is the name the notebook gave it (`train_fast`); runs recorded before steps kept their
    names call it as KFP does (`train-fast`), and either spelling finds it.
    """
    from .render.log_filter import ShownLog

    run = backend.get(run_id)
    names = {s.name for s in run.steps}
    if step not in names:
        for other in (step.replace("_", "-"), step.replace("-", "_")):
            if other in names:
                step = other
    lines = None if executor_lines else ShownLog()
    # the step's end is pushed (store/run_notify.py): its last lines come at once, not a pause later
    watch = backend_watch(backend, run.id) if follow else None
    try:
        written = _follow(backend, run.id, step, follow, out, lines, watch)
    finally:
        if watch is not None:
            watch.close()
    if not written:  # say so, rather than print nothing at all
        done = backend.get(run.id).step(step).state
        when = "has printed nothing yet" if not done.terminal else "printed nothing"
        print(f"(step {step!r} of run {run.id} {when}; it is {done.value})", file=note or out)


def _follow(
    backend: Backend,
    run_id: str,
    step: str,
    follow: bool,
    out: TextIO,
    lines: ShownLog | None,
    watch: RunWatch | None,
) -> int:
    """Print the log from its start (every chunk of it: a read answers at most 1 MiB); the number of
    characters printed. Without `follow`, what the log holds now; with it, until the step has ended."""
    offset = written = 0
    while True:
        chunk = backend.logs(run_id, step, offset)
        # A chunk may end inside a line: the filter holds it back until the next chunk, or the end.
        ended = chunk.missing or (not chunk.text and (chunk.complete or not follow))
        text = chunk.text if lines is None else lines.push(chunk.text, final=ended)
        if text:
            out.write(text)
            out.flush()
            written += len(text)
        offset = chunk.next_offset
        if ended:
            return written
        if not chunk.text:
            if watch is not None:
                watch.wait(_FOLLOW_PAUSE_S)  # new log text is not announced: looked for every pause
            else:
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
