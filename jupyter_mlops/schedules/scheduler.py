"""Firing schedules: `tick(now)` starts the runs that are due, and `SchedulerLoop` ticks until stopped.

Both the Jupyter server extension and `jupyter-mlops scheduler` run a loop over the same store; each due
time is claimed in the store before its run is submitted (`ScheduleRecords.claim`), so it fires exactly
once however many schedulers are up. The clock is a parameter: tests move time instead of waiting.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..backends.base import Backend
from ..errors import MlopsError
from ..store.schedule_records import ScheduleRecord, ScheduleRecords
from .cron import due_times, next_due, plan_fires

POLL_MAX_S = 30.0  # a loop wakes at least this often (a schedule added elsewhere is seen this soon)


@dataclass(frozen=True)
class Fired:
    schedule: str
    due: float
    run_id: str | None
    error: str | None


def _stamp(t: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(t)) + " UTC"


def fire(records: ScheduleRecords, backend: Backend, schedule: ScheduleRecord, due: float) -> Fired:
    """Submit the schedule's frozen pipeline for due time `due` (already claimed) and record the run."""
    from ..ir.documents import spec_documents

    run_id: str | None = None
    error: str | None = None
    try:
        documents = spec_documents(Path(schedule.spec_path).read_text())
        name = f"{schedule.name}-{time.strftime('%Y%m%d-%H%M', time.gmtime(due))}"
        info = backend.submit(
            documents,
            schedule.arguments,
            experiment=schedule.experiment or schedule.name,
            name=name,
            cache=schedule.cache,
            working_dir=Path(schedule.working_dir) if schedule.working_dir else None,
        )
        run_id = info.id
    except (MlopsError, OSError) as exc:
        error = f"could not start the run due {_stamp(due)}: {exc}"
    records.record_fire(schedule.id, due, run_id, error)
    return Fired(schedule.name, due, run_id, error)


def tick(records: ScheduleRecords, backend: Backend, now: float, fired_by: str = "") -> list[Fired]:
    """Fire every schedule's due times up to `now`, following its catch-up policy; what fired."""
    who = fired_by or f"pid {os.getpid()}"
    out: list[Fired] = []
    for schedule in records.all():
        if schedule.paused:
            continue
        dues = due_times(schedule.cron, schedule.timezone, schedule.last_due, now)
        to_fire, skipped = plan_fires(schedule.catch_up, dues, now)
        if skipped:
            note = (
                f"skipped {len(skipped)} missed time(s), {_stamp(skipped[0])} to {_stamp(skipped[-1])}, "
                f"while no scheduler ran (catch-up: {schedule.catch_up})"
            )
            records.claim(schedule.id, skipped[-1], who, note)
        for due in to_fire:
            if records.claim(schedule.id, due, who):
                out.append(fire(records, backend, schedule, due))
    return out


def seconds_to_next(records: ScheduleRecords, now: float) -> float:
    """How long a loop may sleep: until the next due time of any active schedule, at most POLL_MAX_S."""
    wait = POLL_MAX_S
    for schedule in records.all():
        if not schedule.paused:
            wait = min(wait, next_due(schedule.cron, schedule.timezone, max(now, schedule.last_due)) - now)
    return max(0.0, wait)


class SchedulerLoop:
    """Ticks until `stop()`: in a thread of the Jupyter server, or in the foreground of the CLI."""

    def __init__(
        self,
        records: ScheduleRecords,
        backend: Backend,
        *,
        clock: Callable[[], float] = time.time,
        fired_by: str = "",
        on_fire: Callable[[Fired], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        self.records = records
        self.backend = backend
        self.clock = clock
        self.fired_by = fired_by
        self.on_fire = on_fire or (lambda f: None)
        self.on_error = on_error or (lambda e: None)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                for fired in tick(self.records, self.backend, self.clock(), self.fired_by):
                    self.on_fire(fired)
                pause = seconds_to_next(self.records, self.clock())
            except Exception as exc:  # a broken store or schedule must not end the server's loop
                self.on_error(exc)
                pause = POLL_MAX_S
            self._stop.wait(min(POLL_MAX_S, pause + 0.5))

    def start(self) -> SchedulerLoop:
        self._thread = threading.Thread(target=self.run, name="mlops-scheduler", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
