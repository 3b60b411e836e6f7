"""Schedules for the sidebar: `GET mlops/api/schedules` (each with its next and last run) and
`POST mlops/api/schedules/{name}/pause|resume`. Schedules are the backend's: the local store's, or
KFP recurring runs on the kfp backend."""

from __future__ import annotations

from typing import Any

import tornado.web
from jupyter_server.auth.decorator import authorized

from ..backends.base import Backend
from ..errors import UsageError
from ..schedules.handle import Schedule, pause_schedule, resume_schedule, schedules
from .base import MlopsHandler, http_error


def schedule_json(s: Schedule) -> dict[str, Any]:
    r = s.record
    last = next(iter(s.fires), None)
    return {
        "name": r.name,
        "cron": r.cron,
        "timezone": r.timezone,
        "paused": r.paused,
        "catch_up": r.catch_up,
        "pipeline_name": r.pipeline_name,
        "arguments": r.arguments,
        "experiment": r.experiment or r.name,
        "next_run": s.next_run,
        "last": None
        if last is None
        else {"due": last.due, "run_id": last.run_id, "error": last.error, "fired_by": last.fired_by},
    }


def _local(b: Backend) -> Backend:
    """The backend, if it keeps schedules (local: its store; kfp: KFP recurring runs)."""
    if not b.capabilities.schedules:
        raise UsageError(f"the {b.name!r} backend this server runs keeps no schedules")
    return b


class SchedulesHandler(MlopsHandler):
    """`GET mlops/api/schedules`: every schedule, by name."""

    @tornado.web.authenticated
    @authorized
    async def get(self) -> None:
        found = await self.backend_call(lambda b: schedules(_local(b)))
        self.finish({"schedules": [schedule_json(s) for s in found]})


class ScheduleStateHandler(MlopsHandler):
    """`POST mlops/api/schedules/{name}/pause` or `.../resume` (a resumed schedule does not catch up)."""

    @tornado.web.authenticated
    @authorized
    async def post(self, name: str, verb: str) -> None:
        if verb not in ("pause", "resume"):
            raise http_error(
                404, f"schedules/{name}/{verb}: a schedule can be paused or resumed, nothing else"
            )
        change = pause_schedule if verb == "pause" else resume_schedule
        changed = await self.backend_call(lambda b: change(name, backend=_local(b)))
        self.finish(schedule_json(changed))
