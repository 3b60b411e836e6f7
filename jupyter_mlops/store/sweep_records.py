"""Sweeps and their trials in the run store (tables `sweeps` and `sweep_trials`, schema version 4).

A sweep row holds what is needed to resume it from any process: its settings (search space, metric,
goal, search, budget), the frozen compiled pipeline (`spec_path`) and the folder its steps work in.
Each trial is one run of the pipeline (`run_id`), recorded before the run is submitted so that an
interrupted sweep knows every run it started. One driver at a time owns a sweep (pid, host and a
heartbeat), so a resume while the first driver still works is refused instead of doubling trials.
"""

from __future__ import annotations

import secrets
import sqlite3
import time
from dataclasses import dataclass, field
from typing import Any

from ..errors import UsageError
from ..executor.processes import pid_exists
from .records import dumps, from_row, loads
from .run_store import RunStore, unique_name

OWNER_STALE_AFTER_S = 10.0  # a driver heartbeats every second or so

# Sweep states. An "interrupted" sweep is one still RUNNING whose driver is gone (see `owner_alive`).
RUNNING, STOPPING, STOPPED, FINISHED, FAILED = "RUNNING", "STOPPING", "STOPPED", "FINISHED", "FAILED"
# Trial states: a CANCELED trial (stopped) runs again when its sweep resumes.
T_RUNNING, T_SUCCEEDED, T_FAILED, T_CANCELED = "RUNNING", "SUCCEEDED", "FAILED", "CANCELED"


@dataclass
class SweepRecord:
    id: str
    name: str
    pipeline_name: str
    settings: dict[str, Any]
    spec_path: str
    working_dir: str | None
    state: str
    created_at: float
    finished_at: float | None = None
    owner_pid: int | None = None
    owner_host: str | None = None
    heartbeat: float | None = None
    error: str | None = None


@dataclass
class TrialRecord:
    sweep_id: str
    number: int
    params: dict[str, Any] = field(default_factory=dict)
    run_id: str | None = None
    state: str = T_RUNNING
    value: float | None = None
    error: str | None = None
    finished_at: float | None = None


def _sweep(row: sqlite3.Row) -> SweepRecord:
    return from_row(SweepRecord, row, settings=loads)


def _trial(row: sqlite3.Row) -> TrialRecord:
    return from_row(TrialRecord, row, params=loads)


def owner_alive(record: SweepRecord, *, now: float | None = None, host: str = "") -> bool:
    """Whether the sweep's driver may still be working: a fresh heartbeat, and on this host a live pid."""
    now = time.time() if now is None else now
    if record.owner_pid is None or record.heartbeat is None:
        return False
    if now - record.heartbeat > OWNER_STALE_AFTER_S:
        return False
    if host and record.owner_host == host:
        return pid_exists(record.owner_pid)
    return True


class SweepRecords:
    """Reads and writes of sweeps through a RunStore's connection (its short transactions)."""

    def __init__(self, store: RunStore) -> None:
        self.store = store

    def create(
        self,
        *,
        name: str,
        pipeline_name: str,
        settings: dict[str, Any],
        spec_path: str,
        working_dir: str | None,
        owner_pid: int,
        owner_host: str,
        unique: bool = False,
    ) -> SweepRecord:
        """`unique`: the name was made up, not given: `name-2`, `name-3`, ... when taken (two sweeps
        started in the same second), instead of refusing it."""
        sweep_id = secrets.token_hex(6)
        now = time.time()
        with self.store._write() as db:
            if unique:
                name = unique_name(db, "sweeps", name)
            try:
                db.execute(
                    "INSERT INTO sweeps (id, name, pipeline_name, settings, spec_path, working_dir, state, "
                    "created_at, owner_pid, owner_host, heartbeat) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (sweep_id, name, pipeline_name, dumps(settings), spec_path, working_dir, RUNNING, now,
                     owner_pid, owner_host, now),
                )  # fmt: skip
            except sqlite3.IntegrityError:
                raise UsageError(
                    f"a sweep named {name!r} already exists: resume it (`%pipeline sweep --resume {name}`, "
                    "`mlops.sweep(..., resume=True)`) or choose another --name"
                ) from None
        return self.get(sweep_id)

    def get(self, ref: str) -> SweepRecord:
        """The sweep named `ref`, or whose id is `ref`; UsageError listing the sweeps otherwise."""
        with self.store._read() as db:
            row = db.execute("SELECT * FROM sweeps WHERE name = ? OR id = ?", (ref, ref)).fetchone()
            names = [
                r["name"] for r in db.execute("SELECT name FROM sweeps ORDER BY created_at DESC LIMIT 10")
            ]
        if row is None:
            known = ", ".join(names) or "none yet"
            raise UsageError(f"no sweep {ref!r} in the run store {self.store.db_path} (sweeps: {known})")
        return _sweep(row)

    def find(self, name: str) -> SweepRecord | None:
        with self.store._read() as db:
            row = db.execute("SELECT * FROM sweeps WHERE name = ?", (name,)).fetchone()
        return None if row is None else _sweep(row)

    def all(self, limit: int = 50) -> list[SweepRecord]:
        with self.store._read() as db:
            rows = db.execute("SELECT * FROM sweeps ORDER BY created_at DESC LIMIT ?", (limit,)).fetchall()
        return [_sweep(r) for r in rows]

    def claim(self, sweep_id: str, pid: int, host: str) -> SweepRecord:
        """Become the sweep's driver (to resume it); UsageError if its driver is still alive."""
        with self.store._write() as db:
            row = db.execute("SELECT * FROM sweeps WHERE id = ?", (sweep_id,)).fetchone()
            record = _sweep(row)
            mine = record.owner_pid == pid and record.owner_host == host
            if not mine and record.state in (RUNNING, STOPPING) and owner_alive(record, host=host):
                raise UsageError(
                    f"sweep {record.name!r} is still being run by process {record.owner_pid} on "
                    f"{record.owner_host}: stop it first (`%pipeline sweep --stop {record.name}`) or wait"
                )
            db.execute(
                "UPDATE sweeps SET owner_pid = ?, owner_host = ?, heartbeat = ?, state = ?, "
                "finished_at = NULL, error = NULL WHERE id = ?",
                (pid, host, time.time(), RUNNING, sweep_id),
            )
        return self.get(sweep_id)

    def heartbeat(self, sweep_id: str) -> str:
        """Note that the driver is alive; return the sweep's state (STOPPING: asked to stop)."""
        with self.store._write() as db:
            db.execute("UPDATE sweeps SET heartbeat = ? WHERE id = ?", (time.time(), sweep_id))
            row = db.execute("SELECT state FROM sweeps WHERE id = ?", (sweep_id,)).fetchone()
        return str(row["state"])

    def request_stop(self, sweep_id: str) -> None:
        with self.store._write() as db:
            db.execute(
                "UPDATE sweeps SET state = ? WHERE id = ? AND state = ?", (STOPPING, sweep_id, RUNNING)
            )

    def finish(self, sweep_id: str, state: str, error: str | None = None) -> None:
        with self.store._write() as db:
            db.execute(
                "UPDATE sweeps SET state = ?, finished_at = ?, error = ?, owner_pid = NULL WHERE id = ?",
                (state, time.time(), error, sweep_id),
            )

    # -- trials -------------------------------------------------------------------------------------

    def add_trial(
        self, sweep_id: str, number: int, params: dict[str, Any], run_id: str | None = None
    ) -> None:
        """A trial about to start (`run_id` None until its run is submitted: `set_trial_run`)."""
        with self.store._write() as db:
            db.execute(
                "INSERT OR REPLACE INTO sweep_trials (sweep_id, number, params, run_id, state) "
                "VALUES (?, ?, ?, ?, ?)",
                (sweep_id, number, dumps(params), run_id, T_RUNNING),
            )

    def set_trial_run(self, sweep_id: str, number: int, run_id: str) -> None:
        with self.store._write() as db:
            db.execute(
                "UPDATE sweep_trials SET run_id = ? WHERE sweep_id = ? AND number = ?",
                (run_id, sweep_id, number),
            )

    def finish_trial(
        self, sweep_id: str, number: int, state: str, value: float | None, error: str | None = None
    ) -> None:
        with self.store._write() as db:
            db.execute(
                "UPDATE sweep_trials SET state = ?, value = ?, error = ?, finished_at = ? "
                "WHERE sweep_id = ? AND number = ?",
                (state, value, error, time.time(), sweep_id, number),
            )

    def trials(self, sweep_id: str) -> list[TrialRecord]:
        with self.store._read() as db:
            rows = db.execute(
                "SELECT * FROM sweep_trials WHERE sweep_id = ? ORDER BY number", (sweep_id,)
            ).fetchall()
        return [_trial(r) for r in rows]
