"""Who is running a local run right now: the runner's coordination record (table `runners`, schema
version 5), kept apart from the run's history in `runs`.

One row per run that a runner took on: its pid and host, the process's start time (`started`, which
tells the runner from a later process given the same pid, whatever its command line), its last
heartbeat, and the runner service it belongs to (`service`: the service's socket, or NULL for a per-run
runner process). Readers use it to decide whether an unfinished run's runner is still alive
(backends/runner_liveness.py); nothing in it is part of what a run was.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from .database import StoreDatabase
from .records import loads

_ACTIVE_RUN = ("PENDING", "RUNNING", "CANCELING")


def record_runner(
    db: sqlite3.Connection,
    run_id: str,
    pid: int,
    host: str,
    *,
    started: float | None = None,
    service: str | None = None,
    heartbeat: float | None = None,
) -> None:
    """Write the run's runner (in the caller's write transaction); replaces an earlier one."""
    db.execute(
        "INSERT INTO runners (run_id, pid, host, started, heartbeat, service) VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (run_id) DO UPDATE SET pid = excluded.pid, host = excluded.host, "
        "started = excluded.started, service = excluded.service, "
        "heartbeat = COALESCE(excluded.heartbeat, runners.heartbeat)",
        (run_id, pid, host, started, heartbeat, service),
    )


class RunnerRecords(StoreDatabase):
    """The `runners` table, read joined with the run's state and options."""

    def runner_record(self, run_id: str) -> dict[str, Any]:
        """What a runner and the liveness check need: the run's state, spec path and options, and its
        runner's pid, host, start time, heartbeat and service (None when no runner took it yet)."""
        with self._lock:
            row = self._db.execute(
                "SELECT r.id, r.state, r.spec_path, r.cache, r.parameters, r.kind, r.created_at, "
                "r.working_dir, x.pid, x.host, x.started, x.heartbeat, x.service "
                "FROM runs r LEFT JOIN runners x ON x.run_id = r.id WHERE r.id = ?",
                (run_id,),
            ).fetchone()
        if row is None:
            raise self._not_found(run_id)
        record = dict(row)
        record["parameters"] = loads(record["parameters"])
        return record

    def active_runner_records(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT r.id, r.state, r.created_at, x.pid, x.host, x.started, x.heartbeat, x.service "
                "FROM runs r LEFT JOIN runners x ON x.run_id = r.id WHERE r.state IN (?, ?, ?)",
                _ACTIVE_RUN,
            ).fetchall()
        return [dict(r) for r in rows]

    def set_runner(
        self, run_id: str, pid: int, host: str, *, started: float | None = None, service: str | None = None
    ) -> None:
        """Record the process that will run `run_id` (before it reports itself with `mark_running`)."""
        with self._write() as db:
            self._require_run(db, run_id)
            record_runner(db, run_id, pid, host, started=started, service=service)

    def heartbeat(self, run_id: str) -> None:
        with self._write() as db:
            db.execute("UPDATE runners SET heartbeat = ? WHERE run_id = ?", (time.time(), run_id))
