"""Schedules on the kfp backend are KFP recurring runs (`backends/kfp/recurring.py` says how our
settings map to KFP's): made, listed, paused, resumed and deleted on the server, and shown as the same
`Schedule` the local backend's store gives (its last runs are the runs the recurring run started):
each function returns the parts of one, (record, next run, firings), which `handle` assembles."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from ..store.schedule_records import FireRecord, ScheduleRecord
from .cron import next_due

Parts = tuple[ScheduleRecord, float | None, list[FireRecord]]


def _runs(backend: Any) -> Any:
    from ..backends.kfp.recurring import KfpRecurringRuns

    return KfpRecurringRuns(backend)


def _as_schedule(backend: Any, item: Any, now: float | None = None) -> Parts:
    from ..backends.kfp.convert import seconds
    from ..backends.kfp.recurring import created_at, our_cron

    now = time.time() if now is None else now
    trigger = item.trigger.cron_schedule if item.trigger else None
    cron = our_cron(str(trigger.cron)) if trigger is not None else ""
    paused = str(item.mode) == "DISABLE"
    runs = _runs(backend).last_runs(item)
    fires = [
        FireRecord(schedule_id=str(item.recurring_run_id), due=seconds(r.scheduled_at or r.created_at) or 0.0,
                   fired_at=seconds(r.created_at) or 0.0, fired_by="KFP", run_id=str(r.run_id), error=None)
        for r in runs
    ]  # fmt: skip
    spec = item.pipeline_spec if isinstance(item.pipeline_spec, Mapping) else {}
    inner = spec.get("pipeline_spec", spec)
    pname = str(inner.get("pipelineInfo", {}).get("name", "")) if isinstance(inner, Mapping) else ""
    record = ScheduleRecord(
        id=str(item.recurring_run_id),
        name=str(item.display_name),
        cron=cron,
        timezone="UTC",
        catch_up="latest" if item.no_catchup else "all",
        pipeline_name=pname,
        spec_path="",  # the snapshot is kept by the KFP server, in the recurring run
        arguments=dict((item.runtime_config.parameters or {}) if item.runtime_config else {}),
        experiment=backend.experiment_book.name_of(item.experiment_id),
        working_dir=None,
        backend="kfp",
        cache=True,
        paused=paused,
        created_at=created_at(item),
        last_due=fires[0].due if fires else created_at(item),
    )
    upcoming = None if paused or not cron else next_due(cron, "UTC", max(now, record.last_due))
    return record, upcoming, fires


def schedule_on_kfp(
    backend: Any,
    documents: Sequence[Mapping[str, Any]],
    arguments: Mapping[str, Any],
    *,
    name: str,
    cron: str,
    timezone: str,
    catch_up: str,
    experiment: str | None,
    cache: bool,
) -> Parts:
    item = _runs(backend).create(documents, arguments, name=name, cron=cron, timezone=timezone,
                                 catch_up=catch_up, experiment=experiment, cache=cache)  # fmt: skip
    return _as_schedule(backend, item)


def kfp_schedules(backend: Any) -> list[Parts]:
    return [_as_schedule(backend, item) for item in _runs(backend).all()]


def change_on_kfp(backend: Any, verb: str, name: str) -> Parts:
    item = _runs(backend).change(verb, name)
    record, upcoming, fires = _as_schedule(backend, item)
    return (record, None, []) if verb == "delete" else (record, upcoming, fires)
