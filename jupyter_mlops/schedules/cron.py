"""Cron expressions and time zones: when a schedule is due (croniter does the calendar arithmetic).

Every schedule names its time zone (IANA, e.g. "Europe/Paris"; "UTC" unless told otherwise), so
"0 3 * * *" means 03:00 on the wall clock of that zone, daylight saving time included.

Catch-up policy, for the due times a schedule missed while no scheduler ran (Jupyter and the headless
scheduler both down):
- "latest" (the default): the missed times collapse into one run, for the most recent of them;
- "all": each missed time runs (at most MAX_CATCH_UP of the most recent; older ones are skipped);
- "none": a missed time runs only if it is at most GRACE_S old; older ones are skipped.
Skipped times are recorded with the schedule (`schedule list` shows them), never silently dropped.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import UsageError

CATCH_UP = ("latest", "all", "none")
MAX_CATCH_UP = 100
GRACE_S = 300.0


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(
            f"unknown time zone {name!r}: give an IANA name such as 'UTC', 'Europe/Paris' or "
            "'America/New_York'"
        ) from None


def check_cron(expression: str) -> str:
    from croniter import croniter

    text = " ".join(expression.split())
    if len(text.split()) != 5 or not croniter.is_valid(text):
        raise UsageError(
            f"{expression!r} is not a cron expression: give five fields, minute hour day month weekday, "
            'e.g. "0 3 * * *" (every day at 03:00) or "*/15 * * * *" (every 15 minutes)'
        )
    return text


def next_due(expression: str, tz: str, after: float) -> float:
    """The first due time strictly after `after` (epoch seconds)."""
    from croniter import croniter

    start = datetime.fromtimestamp(after, zone(tz))
    return float(croniter(expression, start).get_next(float))


def due_times(expression: str, tz: str, after: float, until: float, limit: int = 10_000) -> list[float]:
    """Due times in (after, until], oldest first; at most the `limit` most recent."""
    from croniter import croniter

    it = croniter(expression, datetime.fromtimestamp(after, zone(tz)))
    out: list[float] = []
    while True:
        t = float(it.get_next(float))
        if t > until:
            return out
        out.append(t)
        if len(out) > limit:
            out.pop(0)


def plan_fires(policy: str, dues: list[float], now: float) -> tuple[list[float], list[float]]:
    """(times to fire, times to record as skipped) for the due times `dues` (oldest first) at `now`."""
    if not dues:
        return [], []
    if policy == "all":
        return dues[-MAX_CATCH_UP:], dues[:-MAX_CATCH_UP]
    if policy == "none":
        fire = [t for t in dues if now - t <= GRACE_S][-1:]
        return fire, [t for t in dues if t not in fire]
    return dues[-1:], dues[:-1]
