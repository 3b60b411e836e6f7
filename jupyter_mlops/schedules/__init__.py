"""Scheduled runs: a frozen pipeline fired on a cron schedule by the server extension or the CLI.

Cheap to import: the names below load on first use (the command line reads `schedules.options` alone).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .handle import Schedule, delete_schedule, pause_schedule, resume_schedule, schedule, schedules

    list_schedules = schedules

_NAMES = ("Schedule", "delete_schedule", "pause_schedule", "resume_schedule", "schedule", "schedules")


def __getattr__(name: str) -> Any:
    if name == "list_schedules":  # `mlops.list_schedules()`: `mlops.schedules` names this subpackage
        name = "schedules"
    elif name not in _NAMES:
        raise AttributeError(f"module 'jupyter_mlops.schedules' has no attribute {name!r}")
    from . import handle

    return getattr(handle, name)


__all__ = [
    "Schedule",
    "delete_schedule",
    "list_schedules",
    "pause_schedule",
    "resume_schedule",
    "schedule",
    "schedules",
]
