"""Schedules and their firings in the run store (tables `schedules` and `schedule_fires`, version 4).

Exactly once: a scheduler fires a due time only after inserting its row in `schedule_fires` (primary
key: schedule, due time) inside one `BEGIN IMMEDIATE` transaction that also checks the schedule is
not paused and moves its `last_due` on. Two schedulers (the Jupyter server's and a headless
`jupyter-mlops scheduler`) may both see a time due; only the one whose insert lands fires it.
"""

from __future__ import annotations

import secrets
import sqlite3
import time
from dataclasses import dataclass
from typing import Any

from ..errors import NotFound, UsageError
from .records import dumps, from_row, loads
from .run_store import RunStore


@dataclass
class ScheduleRecord:
    id: str
    name: str
    cron: str
    timezone: str
    catch_up: str
    pipeline_name: str
    spec_path: str
    arguments: dict[str, Any]
    experiment: str | None
    working_dir: str | None
    backend: str
    cache: bool  # False (the default): every firing runs every step afresh, new data included
    paused: bool
    created_at: float
    last_due: float


@dataclass
class FireRecord:
    schedule_id: str
    due: float
    fired_at: float
    fired_by: str
    run_id: str | None
    error: str | None


def _schedule(row: sqlite3.Row) -> ScheduleRecord:
    return from_row(ScheduleRecord, row, arguments=loads, cache=bool, paused=bool)


def _fire(row: sqlite3.Row) -> FireRecord:
    return from_row(FireRecord, row)


class ScheduleRecords:
    def __init__(self, store: RunStore) -> None:
        self.store = store

    def create(
        self,
        *,
        name: str,
        cron: str,
        timezone: str,
        catch_up: str,
        pipeline_name: str,
        spec_path: str,
        arguments: dict[str, Any],
        experiment: str | None,
        working_dir: str | None,
        backend: str,
        now: float,
        cache: bool = False,
    ) -> ScheduleRecord:
        schedule_id = secrets.token_hex(6)
        with self.store._write() as db:
            try:
                db.execute(
                    "INSERT INTO schedules (id, name, cron, timezone, catch_up, pipeline_name, spec_path, "
                    "arguments, experiment, working_dir, backend, cache, paused, created_at, last_due) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)",
                    (schedule_id, name, cron, timezone, catch_up, pipeline_name, spec_path, dumps(arguments),
                     experiment, working_dir, backend, int(cache), now, now),
                )  # fmt: skip
            except sqlite3.IntegrityError:
                raise UsageError(
                    f"a schedule named {name!r} already exists: delete it first "
                    f"(`jupyter-mlops schedule delete {name}`) or choose another --name"
                ) from None
        return self.get(schedule_id)

    def get(self, ref: str) -> ScheduleRecord:
        with self.store._read() as db:
            row = db.execute("SELECT * FROM schedules WHERE name = ? OR id = ?", (ref, ref)).fetchone()
            names = [r["name"] for r in db.execute("SELECT name FROM schedules ORDER BY name LIMIT 20")]
        if row is None:
            known = ", ".join(names) or "none yet"
            raise NotFound(f"no schedule {ref!r} in the run store {self.store.db_path} (schedules: {known})")
        return _schedule(row)

    def all(self) -> list[ScheduleRecord]:
        with self.store._read() as db:
            rows = db.execute("SELECT * FROM schedules ORDER BY name").fetchall()
        return [_schedule(r) for r in rows]

    def set_paused(self, ref: str, paused: bool, now: float) -> ScheduleRecord:
        """Pause, or resume. A resumed schedule fires from now on: what fell due while it was paused is
        not caught up."""
        record = self.get(ref)
        with self.store._write() as db:
            if paused:
                db.execute("UPDATE schedules SET paused = 1 WHERE id = ?", (record.id,))
            else:
                db.execute(
                    "UPDATE schedules SET paused = 0, last_due = MAX(last_due, ?) "
                    "WHERE id = ? AND paused = 1",
                    (now, record.id),
                )
        return self.get(record.id)

    def delete(self, ref: str) -> ScheduleRecord:
        record = self.get(ref)
        with self.store._write() as db:
            db.execute("DELETE FROM schedule_fires WHERE schedule_id = ?", (record.id,))
            db.execute("DELETE FROM schedules WHERE id = ?", (record.id,))
        return record

    def claim(self, schedule_id: str, due: float, fired_by: str, note: str | None = None) -> bool:
        """Take due time `due` of the schedule for this scheduler: True for exactly one caller, and only
        while the schedule exists and is not paused. `note`: why it is recorded without a run (a missed
        time the catch-up policy skips)."""
        with self.store._write() as db:
            row = db.execute("SELECT paused FROM schedules WHERE id = ?", (schedule_id,)).fetchone()
            if row is None or row["paused"]:
                return False
            taken = db.execute(
                "INSERT OR IGNORE INTO schedule_fires (schedule_id, due, fired_at, fired_by, error) "
                "VALUES (?, ?, ?, ?, ?)",
                (schedule_id, due, time.time(), fired_by, note),
            ).rowcount
            db.execute("UPDATE schedules SET last_due = MAX(last_due, ?) WHERE id = ?", (due, schedule_id))
        return bool(taken)

    def record_fire(self, schedule_id: str, due: float, run_id: str | None, error: str | None) -> None:
        with self.store._write() as db:
            db.execute(
                "UPDATE schedule_fires SET run_id = ?, error = ? WHERE schedule_id = ? AND due = ?",
                (run_id, error, schedule_id, due),
            )

    def fires(self, schedule_id: str, limit: int = 20) -> list[FireRecord]:
        """The schedule's firings, newest first (skipped times too, with their note)."""
        with self.store._read() as db:
            rows = db.execute(
                "SELECT * FROM schedule_fires WHERE schedule_id = ? ORDER BY due DESC LIMIT ?",
                (schedule_id, limit),
            ).fetchall()
        return [_fire(r) for r in rows]

    def schedule_of_run(self, run_id: str) -> str | None:
        """The name of the schedule that started run `run_id`, if one did."""
        with self.store._read() as db:
            row = db.execute(
                "SELECT s.name FROM schedule_fires f JOIN schedules s ON s.id = f.schedule_id "
                "WHERE f.run_id = ?",
                (run_id,),
            ).fetchone()
        return None if row is None else str(row["name"])
