"""The run store: SQLite (WAL) at `<home>/store.db` plus one directory per run for its files.

Several processes use one store at once (a kernel submitting, detached runners writing, a server and a
CLI reading): every write is a short `BEGIN IMMEDIATE` transaction, readers never block writers (WAL),
and a busy database is waited for (busy timeout) rather than failed (see database.py).
"""

from __future__ import annotations

import secrets
import sqlite3
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import RunNotFound, StoreError, UsageError
from ..models import (
    ArtifactInfo,
    Experiment,
    MetricPoint,
    RunEvent,
    RunInfo,
    RunPage,
    RunState,
    StepInfo,
    StepState,
)
from . import records
from .database import ensure_writable_dir
from .records import RUN_COLUMNS, dumps, loads
from .runner_records import RunnerRecords, record_runner

__all__ = ["RunStore", "ensure_writable_dir", "new_run_id"]

DEFAULT_EXPERIMENT = "Default"
METRIC_EVENT_EVERY_S = 1.0
MIN_PREFIX = 4  # shortest run id prefix accepted where a run id is expected


def new_run_id() -> str:
    return secrets.token_hex(6)  # 48 random bits: no collision in a store of millions of runs


def unique_name(db: sqlite3.Connection, table: str, name: str) -> str:
    """`name`, or `name-2`, `name-3`, ... when rows of `table` ("runs", "sweeps") already have it (two
    runs or unnamed sweeps started in the same second get distinct names). Called in the write
    transaction that inserts the row."""
    taken = {
        str(r["name"])
        for r in db.execute(
            f"SELECT name FROM {table} WHERE name = ? OR (name > ? AND name < ?)",
            (name, name + "-", name + "-\uffff"),
        )
    }
    if name not in taken:
        return name
    n = 2
    while f"{name}-{n}" in taken:
        n += 1
    return f"{name}-{n}"


class RunStore(RunnerRecords):
    """Runs, their steps, edges, metrics, artifacts and events; one directory per run for files."""

    def __init__(self, home: Path, *, artifact_root: Path | None = None, probe: bool = True) -> None:
        super().__init__(home, artifact_root=artifact_root, probe=probe)
        self._metric_event_at: dict[str, float] = {}  # run id -> when this process last wrote one
        self.metric_event_every = METRIC_EVENT_EVERY_S

    # -- runs ---------------------------------------------------------------------------------------

    def run_dir(self, run_id: str) -> Path:
        return self.runs_root / run_id

    def create_run(
        self,
        *,
        run_id: str,
        name: str,
        experiment: str | None,
        pipeline_name: str,
        parameters: Mapping[str, Any],
        steps: Sequence[str] = (),
        edges: Sequence[tuple[str, str]] = (),
        spec_path: Path | None = None,
        cache: bool = True,
        kind: str = "pipeline",
        state: RunState = RunState.PENDING,
        backend: str = "local",
        working_dir: Path | None = None,
    ) -> None:
        now = time.time()
        done = now if state.terminal else None
        with self._write() as db:
            name = unique_name(db, "runs", name)
            exp_id = self._experiment_id(db, experiment or DEFAULT_EXPERIMENT, now)
            try:
                db.execute(
                    "INSERT INTO runs (id, name, experiment_id, pipeline_name, backend, state, created_at, "
                    "started_at, finished_at, parameters, spec_path, cache, kind, working_dir) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (run_id, name, exp_id, pipeline_name, backend, state.value, now, done, done,
                     dumps(dict(parameters)), str(spec_path) if spec_path else None, int(cache), kind,
                     str(working_dir) if working_dir else None),
                )  # fmt: skip
            except sqlite3.IntegrityError as exc:
                raise StoreError(f"a run with id {run_id!r} already exists in {self.db_path}") from exc
            db.executemany(
                "INSERT INTO steps (run_id, name, position, state) VALUES (?, ?, ?, ?)",
                [(run_id, step, i, StepState.PENDING.value) for i, step in enumerate(steps)],
            )
            db.executemany(
                "INSERT OR IGNORE INTO edges (run_id, upstream, downstream) VALUES (?, ?, ?)",
                [(run_id, up, down) for up, down in edges],
            )
            self._event(db, run_id, "run", state.value, None, {"name": name})

    def _experiment_id(self, db: sqlite3.Connection, name: str, now: float) -> str:
        row = db.execute("SELECT id FROM experiments WHERE name = ?", (name,)).fetchone()
        if row is not None:
            return str(row["id"])
        exp_id = secrets.token_hex(6)
        db.execute("INSERT INTO experiments (id, name, created_at) VALUES (?, ?, ?)", (exp_id, name, now))
        return exp_id

    def _event(
        self, db: sqlite3.Connection, run_id: str, kind: str, state: str, step: str | None, detail: Any
    ) -> None:
        # seq = max + 1 is race-free: the caller holds the write lock (BEGIN IMMEDIATE).
        self._changed.add(run_id)  # announced once the transaction commits (database.py)
        if kind == "run":
            self._state_changed.add(run_id)
        db.execute(
            "INSERT INTO events (run_id, seq, time, kind, state, step, detail) "
            "SELECT ?, COALESCE(MAX(seq), 0) + 1, ?, ?, ?, ?, ? FROM events WHERE run_id = ?",
            (run_id, time.time(), kind, state, step, dumps(detail), run_id),
        )

    def resolve_run_id(self, ref: str) -> str:
        """The full id of the run that `ref` names: its id, its name, or (like git) a unique prefix of
        its id of 4+ characters."""
        with self._lock:
            if self._db.execute("SELECT 1 FROM runs WHERE id = ?", (ref,)).fetchone() is not None:
                return ref
            named = self._db.execute(
                "SELECT id FROM runs WHERE name = ? ORDER BY created_at DESC LIMIT 5", (ref,)
            ).fetchall()
            if len(named) == 1:
                return str(named[0]["id"])
            if named:  # names are unique since runs get a suffix; older stores may hold repeats
                ids = ", ".join(r["id"] for r in named)
                raise UsageError(f"several runs are named {ref!r} (ids {ids}); give the run's id")
            # A range on the primary key (ids compare as bytes; U+FFFF sorts after any id character).
            rows = self._db.execute(
                "SELECT id FROM runs WHERE id > ? AND id < ? ORDER BY id LIMIT 5", (ref, ref + "\uffff")
            ).fetchall()
        if ref and rows and len(ref) < MIN_PREFIX:  # too short, though some ids start so: say so
            starting = ", ".join(r["id"] for r in rows[:3]) + (", ..." if len(rows) > 3 else "")
            raise RunNotFound(
                f"no run {ref!r}: a run id prefix needs {MIN_PREFIX} or more characters (ids that start "
                f"{ref!r}: {starting}); give more of the id, or the run's name"
            )
        if not rows:
            raise self._not_found(ref)
        if len(rows) > 1:
            matches = ", ".join(r["id"] for r in rows)
            raise UsageError(f"run id {ref!r} is ambiguous: it starts {matches}; give more characters")
        return str(rows[0]["id"])

    def mark_running(
        self, run_id: str, pid: int, host: str, *, started: float | None = None, service: str | None = None
    ) -> RunState:
        """PENDING -> RUNNING by this runner (recorded as the run's runner: runner_records.py); returns
        the state now (CANCELING if cancelled meanwhile)."""
        now = time.time()
        with self._write() as db:
            row = db.execute("SELECT state FROM runs WHERE id = ?", (run_id,)).fetchone()
            if row is None:
                raise self._not_found(run_id)
            state = RunState(row["state"])
            record_runner(db, run_id, pid, host, started=started, service=service, heartbeat=now)
            if state is RunState.PENDING:
                db.execute("UPDATE runs SET state = ?, started_at = ? WHERE id = ?",
                           (RunState.RUNNING.value, now, run_id))  # fmt: skip
                self._event(db, run_id, "run", RunState.RUNNING.value, None, {"pid": pid})
                state = RunState.RUNNING
        return state

    def run_state(self, run_id: str) -> RunState:
        with self._lock:
            row = self._db.execute("SELECT state FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise self._not_found(run_id)
        return RunState(row["state"])

    def request_cancel(self, run_id: str) -> RunState:
        """PENDING/RUNNING -> CANCELING (the runner stops the steps); a finished run is left alone."""
        with self._write() as db:
            row = db.execute("SELECT state FROM runs WHERE id = ?", (run_id,)).fetchone()
            if row is None:
                raise self._not_found(run_id)
            state = RunState(row["state"])
            if state in (RunState.PENDING, RunState.RUNNING):
                db.execute("UPDATE runs SET state = ? WHERE id = ?", (RunState.CANCELING.value, run_id))
                self._event(db, run_id, "run", RunState.CANCELING.value, None, {})
                state = RunState.CANCELING
        return state

    def finish_run(self, run_id: str, state: RunState, error: str | None = None) -> bool:
        """Record the final state, once: False if the run had already finished (first writer wins).

        Steps left unfinished are closed so no step stays RUNNING forever: running ones take the run's
        fate (FAILED with the run's error, or CANCELED), pending ones become SKIPPED.
        """
        if not state.terminal:
            raise ValueError(f"finish_run needs a final state, got {state.value}")
        now = time.time()
        with self._write() as db:
            row = db.execute("SELECT state FROM runs WHERE id = ?", (run_id,)).fetchone()
            if row is None:
                raise self._not_found(run_id)
            if RunState(row["state"]).terminal:
                return False
            for step in db.execute(
                "SELECT name, state FROM steps WHERE run_id = ? AND state IN (?, ?, ?)",
                (run_id, StepState.PENDING.value, StepState.RUNNING.value, StepState.CANCELING.value),
            ).fetchall():
                if step["state"] == StepState.PENDING.value:
                    new, step_error = StepState.SKIPPED, None
                elif state is RunState.FAILED:
                    new, step_error = StepState.FAILED, error
                else:
                    new, step_error = StepState.CANCELED, None
                db.execute(
                    "UPDATE steps SET state = ?, error = COALESCE(?, error), finished_at = ? "
                    "WHERE run_id = ? AND name = ?",
                    (new.value, step_error, now, run_id, step["name"]),
                )
                self._event(db, run_id, "step", new.value, step["name"], {"error": step_error})
            db.execute(
                "UPDATE runs SET state = ?, error = ?, finished_at = ?, started_at = COALESCE(started_at, ?) "
                "WHERE id = ?",
                (state.value, error, now, now, run_id),
            )
            self._event(db, run_id, "run", state.value, None, {"error": error})
        return True

    def record_step(self, run_id: str, step: StepInfo, *more: StepInfo) -> None:
        """Write a step's report (and `more` reports after it, in order: one transaction)."""
        with self._write() as db:
            for report in (step, *more):
                self._record_step(db, run_id, report)

    def _record_step(self, db: sqlite3.Connection, run_id: str, step: StepInfo) -> None:
        prev = db.execute(
            "SELECT state, attempts FROM steps WHERE run_id = ? AND name = ?", (run_id, step.name)
        ).fetchone()
        values = (
            step.state.value, step.component, step.started_at, step.finished_at, step.attempts,
            step.error, dumps(step.inputs), dumps(step.outputs), step.cache_key,
        )  # fmt: skip
        if prev is None:  # a step only known at run time (a ParallelFor iteration, a sub-DAG's task)
            db.execute(
                "INSERT INTO steps (state, component, started_at, finished_at, attempts, error, "
                "inputs, outputs, cache_key, run_id, name, position) VALUES (?, ?, ?, ?, ?, ?, ?, ?, "
                "?, ?, ?, (SELECT COALESCE(MAX(position), -1) + 1 FROM steps WHERE run_id = ?))",
                (*values, run_id, step.name, run_id),
            )
        else:
            db.execute(
                "UPDATE steps SET state = ?, component = ?, started_at = ?, finished_at = ?, "
                "attempts = ?, error = ?, inputs = ?, outputs = ?, cache_key = ? "
                "WHERE run_id = ? AND name = ?",
                (*values, run_id, step.name),
            )
        if prev is None or prev["state"] != step.state.value or prev["attempts"] != step.attempts:
            detail = {"error": step.error, "attempts": step.attempts}
            self._event(db, run_id, "step", step.state.value, step.name, detail)

    def record_artifact(self, artifact: ArtifactInfo) -> None:
        with self._write() as db:
            db.execute(
                "INSERT OR REPLACE INTO artifacts (run_id, step, name, uri, type, metadata) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (artifact.run_id, artifact.step, artifact.name, artifact.uri, artifact.type,
                 dumps(artifact.metadata)),
            )  # fmt: skip

    def record_metric(self, metric: MetricPoint) -> None:
        """Append a point, and keep the run's "latest value" summary current for cheap list pages."""
        self.record_metrics([metric])

    def record_metrics(self, metrics: Sequence[MetricPoint]) -> None:
        """Append points of one run in one transaction (a step's metrics file is read in batches: a
        training loop logging 50,000 points costs a few transactions, not 50,000), keeping the run's
        "latest value" summary current for cheap list pages.

        Live views learn of new metrics from a "metric" event, written at most once a second per run
        (by this process) so a training loop logging thousands of points does not flood the events.
        """
        if not metrics:
            return
        run_id = metrics[0].run_id
        if any(m.run_id != run_id for m in metrics):
            raise ValueError("record_metrics takes the points of one run")
        now = time.time()
        rows = [(run_id, m.step, m.name, float(m.value), m.index, m.time or now) for m in metrics]
        with self._write() as db:
            row = db.execute("SELECT metrics_summary, state FROM runs WHERE id = ?", (run_id,)).fetchone()
            if row is None:
                raise self._not_found(run_id)
            db.executemany(
                "INSERT INTO metrics (run_id, step, name, value, idx, time) VALUES (?, ?, ?, ?, ?, ?)", rows
            )
            summary = loads(row["metrics_summary"])
            latest = {(m.step, m.name): m.value for m in metrics}  # each series' last point, in order
            for (step, name), value in latest.items():
                summary[records.metric_key(step, name)] = float(value)
            db.execute("UPDATE runs SET metrics_summary = ? WHERE id = ?", (dumps(summary), run_id))
            if now - self._metric_event_at.get(run_id, 0.0) >= self.metric_event_every:
                self._metric_event_at[run_id] = now
                first = metrics[0]  # the point that would have been the event one by one
                detail = {"name": first.name, "value": float(first.value), "index": first.index}
                self._event(db, run_id, "metric", row["state"], first.step, detail)

    # -- reads --------------------------------------------------------------------------------------

    def get_run(self, run_id: str) -> RunInfo:
        with self._read() as db:
            row = db.execute(
                f"SELECT {RUN_COLUMNS} FROM runs r JOIN experiments e ON e.id = r.experiment_id "
                "WHERE r.id = ?",
                (run_id,),
            ).fetchone()
            if row is None:
                raise self._not_found(run_id)
            run = records.run_from_row(row)
            steps = db.execute("SELECT * FROM steps WHERE run_id = ? ORDER BY position", (run_id,))
            run.steps = [records.step_from_row(s) for s in steps.fetchall()]
            edges = db.execute("SELECT upstream, downstream FROM edges WHERE run_id = ? ORDER BY rowid",
                               (run_id,))  # fmt: skip
            run.edges = [(e["upstream"], e["downstream"]) for e in edges.fetchall()]
            # Bare columns with MAX(id): SQLite returns the value of the latest point of each metric.
            latest = db.execute(
                "SELECT step, name, value, MAX(id) FROM metrics WHERE run_id = ? AND step IS NOT NULL "
                "GROUP BY step, name",
                (run_id,),
            ).fetchall()
        by_step = {s.name: s for s in run.steps}
        for m in latest:
            if m["step"] in by_step:
                value = m["value"]
                by_step[m["step"]].metrics[m["name"]] = float("nan") if value is None else value
        return run

    def list_runs(
        self,
        *,
        experiment: str | None = None,
        state: RunState | None = None,
        limit: int = 50,
        offset: int = 0,
        kind: str | None = None,
        cursor: str | None = None,
    ) -> RunPage:
        if limit < 0 or offset < 0:
            raise ValueError(f"limit and offset must be >= 0 (got limit={limit}, offset={offset})")
        where: list[str] = []
        params: list[Any] = []
        if experiment is not None:
            where.append("r.experiment_id = (SELECT id FROM experiments WHERE name = ?)")
            params.append(experiment)
        if state is not None:
            where.append("r.state = ?")
            params.append(RunState(state).value)
        if kind is not None:
            where.append("r.kind = ?")
            params.append(kind)
        counted = ("WHERE " + " AND ".join(where)) if where else ""
        count_params = list(params)
        if cursor is not None:
            created, rowid = parse_cursor(cursor)
            where.append("(r.created_at < ? OR (r.created_at = ? AND r.rowid < ?))")
            params += [created, created, rowid]
            offset = 0
        clause = ("WHERE " + " AND ".join(where)) if where else ""
        with self._read() as db:
            total = db.execute(f"SELECT COUNT(*) FROM runs r {counted}", count_params).fetchone()[0]
            # The page's rows are picked from an index alone, then only those 50 are read and joined:
            # a deep page skips index entries, not whole rows.
            rows = db.execute(
                f"SELECT {RUN_COLUMNS}, r.rowid AS row "
                "FROM runs r JOIN experiments e ON e.id = r.experiment_id "
                f"WHERE r.rowid IN (SELECT r.rowid FROM runs r {clause} "
                "ORDER BY r.created_at DESC, r.rowid DESC LIMIT ? OFFSET ?) "
                "ORDER BY r.created_at DESC, r.rowid DESC",
                [*params, limit, offset],
            ).fetchall()
        runs = [records.run_from_row(r) for r in rows]
        if cursor is None:
            more = offset + len(runs) < total and len(runs) > 0
            next_offset = offset + len(runs) if more else None
        else:
            more, next_offset = len(runs) == limit and limit > 0, None
        next_cursor = f"{rows[-1]['created_at']!r}:{rows[-1]['row']}" if more else None
        return RunPage(runs=runs, total=int(total), next_offset=next_offset, next_cursor=next_cursor)

    def experiments(self) -> list[Experiment]:
        with self._read() as db:
            rows = db.execute(
                "SELECT e.id, e.name, e.created_at, "
                "(SELECT COUNT(*) FROM runs r WHERE r.experiment_id = e.id) AS run_count "
                "FROM experiments e ORDER BY e.created_at, e.name"
            ).fetchall()
        return [Experiment(r["id"], r["name"], r["created_at"], r["run_count"]) for r in rows]

    def events(self, run_id: str, after: int = 0, limit: int = 10_000) -> list[RunEvent]:
        with self._read() as db:
            self._require_run(db, run_id)
            rows = db.execute(
                "SELECT * FROM events WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?",
                (run_id, after, limit),
            ).fetchall()
        return [records.event_from_row(r) for r in rows]

    def artifacts(self, run_id: str, step: str | None = None) -> list[ArtifactInfo]:
        with self._read() as db:
            self._require_run(db, run_id)
            if step is None:
                rows = db.execute("SELECT * FROM artifacts WHERE run_id = ? ORDER BY id", (run_id,))
            else:
                rows = db.execute(
                    "SELECT * FROM artifacts WHERE run_id = ? AND step = ? ORDER BY id", (run_id, step)
                )
            return [records.artifact_from_row(r) for r in rows.fetchall()]

    def metric_history(self, run_id: str, name: str | None = None) -> list[MetricPoint]:
        """Every logged point of a run (for charts), in the order logged."""
        with self._read() as db:
            self._require_run(db, run_id)
            if name is None:
                rows = db.execute("SELECT * FROM metrics WHERE run_id = ? ORDER BY id", (run_id,))
            else:
                rows = db.execute(
                    "SELECT * FROM metrics WHERE run_id = ? AND name = ? ORDER BY id", (run_id, name)
                )
            points = rows.fetchall()
        return [records.metric_from_row(r) for r in points]

    def counts(self) -> dict[str, int]:
        with self._read() as db:
            rows = db.execute("SELECT state, COUNT(*) AS n FROM runs GROUP BY state").fetchall()
        return {r["state"]: r["n"] for r in rows}


def parse_cursor(cursor: str) -> tuple[float, int]:
    """A page's `next_cursor` ("<created_at>:<row>") as its two keys, or a UsageError."""
    created, _, row = cursor.partition(":")
    try:
        return float(created), int(row)
    except ValueError:
        raise UsageError(
            f"cursor {cursor[:80]!r} is not a page's next_cursor (ask for the first page again)"
        ) from None
