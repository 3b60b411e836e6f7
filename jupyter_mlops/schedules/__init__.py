"""Scheduled runs: a frozen pipeline fired on a cron schedule by the server extension or the CLI."""

from .handle import Schedule, delete_schedule, pause_schedule, resume_schedule, schedule, schedules

list_schedules = schedules  # `mlops.list_schedules()`: `mlops.schedules` names this subpackage

__all__ = [
    "Schedule",
    "delete_schedule",
    "list_schedules",
    "pause_schedule",
    "resume_schedule",
    "schedule",
    "schedules",
]
