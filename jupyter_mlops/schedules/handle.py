"""`mlops.schedule(...)`: run a frozen snapshot of a pipeline on a cron schedule.

The pipeline is compiled and its arguments checked when it is scheduled; the YAML is kept under
`<home>/schedules/<id>/pipeline.yaml`, so editing the notebook later does not change what the schedule
runs (schedule again to take the edit). Schedules live in the run store and are fired by the Jupyter
server extension while Jupyter runs and by `jupyter-mlops scheduler` (headless), exactly once per due
time. On the kfp backend a schedule is a KFP recurring run instead (`kfp_schedules.py`): the KFP
server keeps the snapshot and its controller fires it.
"""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..backends.base import Backend
from ..errors import UsageError
from ..store import RunStore
from ..store.schedule_records import FireRecord, ScheduleRecord, ScheduleRecords
from .cron import CATCH_UP, check_cron, next_due, zone


def schedule_records(backend: Backend | None = None) -> ScheduleRecords:
    store = getattr(backend, "store", None)
    if not isinstance(store, RunStore):
        from ..home import mlops_home

        store = RunStore(mlops_home())
    return ScheduleRecords(store)


@dataclass
class Schedule:
    """A schedule as stored, with its next due time and recent firings."""

    record: ScheduleRecord
    next_run: float | None
    fires: list[FireRecord]

    @property
    def name(self) -> str:
        return self.record.name

    @property
    def last_run_id(self) -> str | None:
        return next((f.run_id for f in self.fires if f.run_id), None)

    def __repr__(self) -> str:
        state = "paused" if self.record.paused else "active"
        return f"Schedule(name={self.name!r}, cron={self.record.cron!r}, {self.record.timezone}, {state})"

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        from .view import schedules_text

        p.text(repr(self) if cycle else schedules_text([self]))

    def _repr_html_(self) -> str:
        from .view import schedules_html

        return schedules_html([self])


def describe(records: ScheduleRecords, record: ScheduleRecord, now: float | None = None) -> Schedule:
    now = time.time() if now is None else now
    upcoming = None if record.paused else next_due(record.cron, record.timezone, max(now, record.last_due))
    return Schedule(record, upcoming, records.fires(record.id, limit=5))


def schedule(
    pipeline: Any,
    cron: str,
    *,
    name: str | None = None,
    arguments: dict[str, Any] | None = None,
    timezone: str = "UTC",
    catch_up: str = "latest",
    experiment: str | None = None,
    working_dir: str | os.PathLike[str] | None = None,
    backend: str | Backend = "local",
    cache: bool = False,
    now: float | None = None,
) -> Schedule:
    """Run `pipeline` (frozen now) with `arguments` at every time `cron` names, in time zone `timezone`.

    `catch_up`: what happens to times missed while no scheduler ran: "latest" (one run for the most
    recent), "all", or "none" (see `jupyter_mlops.schedules.cron`). Runs go to `experiment` (default:
    the schedule's name) and are named `<schedule>-<YYYYmmdd-HHMM>` (UTC). `cache=False` (the default):
    every firing runs every step, so a step reading a file that changed since runs again; `cache=True`
    lets unchanged steps come from the step cache, as `%pipeline run` does."""
    from ..backends.registry import get_backend
    from ..ir.documents import bind_arguments, load_pipeline, pipeline_name

    target = get_backend(backend) if isinstance(backend, str) else backend
    if target.name not in ("local", "kfp"):
        raise UsageError(f"schedules run on the local and kfp backends, not on {target.name!r}")
    expression = check_cron(cron)
    zone(timezone)
    if catch_up not in CATCH_UP:
        raise UsageError(f"catch_up must be one of {', '.join(CATCH_UP)}, not {catch_up!r}")
    documents = load_pipeline(pipeline)
    args = dict(arguments or {})
    bind_arguments(documents, args)  # refused now, not at 3 in the morning
    pname = pipeline_name(documents)
    name = name or pname
    if target.name == "kfp":  # a KFP recurring run: the server keeps the snapshot and fires it
        from .kfp_schedules import schedule_on_kfp

        parts = schedule_on_kfp(target, documents, args, name=name, cron=expression, timezone=timezone,
                                catch_up=catch_up, experiment=experiment, cache=cache)  # fmt: skip
        return Schedule(*parts)
    records = schedule_records(target)
    if not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise UsageError(f"schedule name {name!r}: use letters, digits, '-', '_' and '.'")
    folder = records.store.home / "schedules" / secrets.token_hex(6)
    folder.mkdir(parents=True, exist_ok=True)
    import yaml

    spec_path = folder / "pipeline.yaml"
    spec_path.write_text(yaml.safe_dump_all(documents, sort_keys=False))
    cwd = Path(os.getcwd() if working_dir is None else working_dir).absolute()
    record = records.create(name=name, cron=expression, timezone=timezone, catch_up=catch_up,
                            pipeline_name=pname, spec_path=str(spec_path), arguments=args,
                            experiment=experiment, working_dir=str(cwd), backend=target.name, cache=cache,
                            now=time.time() if now is None else now)  # fmt: skip
    return describe(records, record, now)


def schedules(backend: str | Backend = "local") -> list[Schedule]:
    from ..backends.registry import get_backend

    target = get_backend(backend) if isinstance(backend, str) else backend
    if target.name == "kfp":
        from .kfp_schedules import kfp_schedules

        return [Schedule(*parts) for parts in kfp_schedules(target)]
    records = schedule_records(target)
    return [describe(records, r) for r in records.all()]


def _change(verb: str, name: str, backend: str | Backend) -> Schedule:
    from ..backends.registry import get_backend

    target = get_backend(backend) if isinstance(backend, str) else backend
    if target.name == "kfp":
        from .kfp_schedules import change_on_kfp

        return Schedule(*change_on_kfp(target, verb, name))
    records = schedule_records(target)
    now = time.time()
    if verb == "delete":
        record = records.delete(name)
        return Schedule(record, None, [])
    return describe(records, records.set_paused(name, verb == "pause", now), now)


def pause_schedule(name: str, backend: str | Backend = "local") -> Schedule:
    return _change("pause", name, backend)


def resume_schedule(name: str, backend: str | Backend = "local") -> Schedule:
    """Fire again from now on (what fell due while paused does not run)."""
    return _change("resume", name, backend)


def delete_schedule(name: str, backend: str | Backend = "local") -> Schedule:
    return _change("delete", name, backend)
