"""A run recorded finished at once, with every row and event a runner's writes would have left.

A run resolved whole from the cache in the submitting process (backends/cached_runs.py) is known
completely before anything is written. Recording it call by call (create_run with its steps PENDING,
mark_running, the step reports, finish_run) wrote every step twice and read the run back between
calls; here its rows are written once each, in one transaction of a few statements: the run (already
SUCCEEDED), its steps with their last report, its edges, runner and artifacts, and its events (PENDING,
RUNNING, each step's changes, SUCCEEDED) with the details and order those calls give them.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import StoreError
from ..models import ArtifactInfo, RunState, StepInfo, StepState
from .records import dumps
from .run_store import DEFAULT_EXPERIMENT, RunStore, unique_name
from .runner_records import record_runner
from .step_batches import INSERT_EVENTS, Folded, step_values

_UNFINISHED = {StepState.PENDING.value, StepState.RUNNING.value, StepState.CANCELING.value}


def record_succeeded_run(
    store: RunStore,
    record: Mapping[str, Any],
    pid: int,
    host: str,
    reports: Sequence[StepInfo],
    artifacts: Sequence[ArtifactInfo],
) -> bool:
    """Record run `record` (the arguments of `RunStore.create_run`) as run by process `pid` on `host`,
    its steps reported as `reports` (in order), its `artifacts` recorded, and SUCCEEDED. False, and
    nothing written, if a step would be left unfinished (finish_run would close it): the caller records
    that run call by call instead."""
    run_id = str(record["run_id"])
    planned = list(record.get("steps") or ())
    done = Folded(run_id, {name: (StepState.PENDING.value, 0) for name in planned}, 2).fold(reports)
    if any(state in _UNFINISHED for state, _ in done.known.values()):
        return False
    with store._write() as db:
        created = time.time()
        name = unique_name(db, "runs", str(record["name"]))
        experiment = store._experiment_id(db, record.get("experiment") or DEFAULT_EXPERIMENT, created)
        started = time.time()
        finished = time.time()
        working_dir = record.get("working_dir")
        spec_path = record.get("spec_path")
        try:
            db.execute(
                "INSERT INTO runs (id, name, experiment_id, pipeline_name, backend, state, created_at, "
                "started_at, finished_at, parameters, spec_path, cache, kind, working_dir) "
                "VALUES (?, ?, ?, ?, 'local', ?, ?, ?, ?, ?, ?, ?, 'pipeline', ?)",
                (run_id, name, experiment, record["pipeline_name"], RunState.SUCCEEDED.value, created,
                 started, finished, dumps(dict(record["parameters"])), str(spec_path) if spec_path else None,
                 int(record.get("cache", True)), str(working_dir) if working_dir else None),
            )  # fmt: skip
        except sqlite3.IntegrityError as exc:
            raise StoreError(f"a run with id {run_id!r} already exists in {store.db_path}") from exc
        order = [*planned, *done.added]
        db.executemany(
            "INSERT INTO steps (state, component, started_at, finished_at, attempts, error, inputs, "
            "outputs, cache_key, run_id, name, position) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(*step_values(done.final[n]), run_id, n, i) for i, n in enumerate(order)],
        )
        db.executemany(
            "INSERT OR IGNORE INTO edges (run_id, upstream, downstream) VALUES (?, ?, ?)",
            [(run_id, up, down) for up, down in record.get("edges") or ()],
        )
        record_runner(db, run_id, pid, host, heartbeat=started)
        db.executemany(
            "INSERT OR REPLACE INTO artifacts (run_id, step, name, uri, type, metadata) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(a.run_id, a.step, a.name, a.uri, a.type, dumps(a.metadata)) for a in artifacts],
        )
        events = [
            (run_id, 1, created, "run", RunState.PENDING.value, None, dumps({"name": name})),
            (run_id, 2, started, "run", RunState.RUNNING.value, None, dumps({"pid": pid})),
            *done.events,
            (run_id, done.seq + 1, finished, "run", RunState.SUCCEEDED.value, None, dumps({"error": None})),
        ]
        db.executemany(INSERT_EVENTS, events)
        store._changed.add(run_id)  # announced once the transaction commits (database.py)
        store._state_changed.add(run_id)
    return True
