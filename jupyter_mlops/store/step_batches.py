"""Many step reports of one run written at once: what `RunStore.record_step` writes for each, in order,
with a few statements in all instead of three per report.

A run resolved whole from the cache in the submitting process (backends/cached_runs.py) has every
report in hand before it writes anything; writing them one by one was a SELECT, an UPDATE or INSERT
and an event INSERT (with its MAX(seq) scan) per step. Here: one SELECT of the run's steps and its
last event, then one executemany each for the updated steps, the new steps and the events. The rows
are those `record_step` would leave: each step's last report wins, a step not planned is appended
after the others in the order it was first reported, and a step's event is written whenever its state
or attempt count changed from its previous report.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from ..models import StepInfo
from .records import dumps
from .run_store import RunStore


class Folded:
    """What a sequence of step reports leaves, folded over the steps known before it."""

    def __init__(self, run_id: str, known: dict[str, tuple[str, int]], seq: int) -> None:
        self.run_id = run_id
        self.known = known  # step -> (state, attempts) after the reports so far
        self.planned = set(known)
        self.seq = seq  # the last event's seq
        self.final: dict[str, StepInfo] = {}  # each reported step's last report
        self.added: list[str] = []  # steps only known at run time, in the order first reported
        self.events: list[tuple[Any, ...]] = []  # rows for the events table

    def fold(self, reports: Sequence[StepInfo]) -> Folded:
        for step in reports:
            prev = self.known.get(step.name)
            if prev is None and step.name not in self.final:
                self.added.append(step.name)
            self.final[step.name] = step
            if prev is None or prev != (step.state.value, step.attempts):
                self.seq += 1
                detail = dumps({"error": step.error, "attempts": step.attempts})
                self.events.append(
                    (self.run_id, self.seq, time.time(), "step", step.state.value, step.name, detail)
                )
            self.known[step.name] = (step.state.value, step.attempts)
        return self


def step_values(step: StepInfo) -> tuple[Any, ...]:
    """A step's columns as `record_step` writes them: state, component, started_at, finished_at,
    attempts, error, inputs, outputs, cache_key."""
    return (
        step.state.value, step.component, step.started_at, step.finished_at, step.attempts,
        step.error, dumps(step.inputs), dumps(step.outputs), step.cache_key,
    )  # fmt: skip


# Up to this many reports are written with `record_step`'s statements, one report after the other: the
# batch's SELECT of all the run's steps costs more than that on a run of many steps.
FEW = 4

INSERT_EVENTS = (
    "INSERT INTO events (run_id, seq, time, kind, state, step, detail) VALUES (?, ?, ?, ?, ?, ?, ?)"
)


def record_steps(store: RunStore, run_id: str, reports: Sequence[StepInfo]) -> None:
    """Write `reports` (StepInfo snapshots, in the order they were made) as `record_step` would, one
    after the other, in one write transaction (or the caller's `batch()`)."""
    if not reports:
        return
    if len(reports) <= FEW:  # a chain's step end and the next one's start (executor/held_ends.py)
        store.record_step(run_id, *reports)
        return
    with store._write() as db:
        known: dict[str, tuple[str, int]] = {
            str(r["name"]): (str(r["state"]), int(r["attempts"]))
            for r in db.execute("SELECT name, state, attempts FROM steps WHERE run_id = ?", (run_id,))
        }
        row = db.execute(
            "SELECT COALESCE(MAX(seq), 0), (SELECT COALESCE(MAX(position), -1) FROM steps WHERE run_id = ?) "
            "FROM events WHERE run_id = ?",
            (run_id, run_id),
        ).fetchone()
        position = int(row[1])
        done = Folded(run_id, known, int(row[0])).fold(reports)
        db.executemany(
            "UPDATE steps SET state = ?, component = ?, started_at = ?, finished_at = ?, attempts = ?, "
            "error = ?, inputs = ?, outputs = ?, cache_key = ? WHERE run_id = ? AND name = ?",
            [(*step_values(s), run_id, s.name) for s in done.final.values() if s.name in done.planned],
        )
        db.executemany(
            "INSERT INTO steps (state, component, started_at, finished_at, attempts, error, inputs, "
            "outputs, cache_key, run_id, name, position) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(*step_values(done.final[n]), run_id, n, position + i) for i, n in enumerate(done.added, 1)],
        )
        if done.events:
            store._changed.add(run_id)  # announced once the transaction commits (database.py)
            db.executemany(INSERT_EVENTS, done.events)
