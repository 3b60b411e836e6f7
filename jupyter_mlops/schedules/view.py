"""Schedules as a table: name, cron and zone, state, next run, last run (text and HTML)."""

from __future__ import annotations

import html
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ..store.schedule_records import FireRecord, ScheduleRecord


class Schedule(Protocol):
    """What the table reads of a schedule (`jupyter_mlops.schedules.handle.Schedule`)."""

    record: ScheduleRecord
    next_run: float | None
    fires: list[FireRecord]


HEAD = ["schedule", "cron", "time zone", "state", "next run (UTC)", "last run", "pipeline"]


def _when(t: float | None) -> str:
    return "" if t is None else time.strftime("%Y-%m-%d %H:%M", time.gmtime(t))


def _rows(items: Sequence[Schedule]) -> list[list[str]]:
    rows = []
    for s in items:
        r = s.record
        last = next(iter(s.fires), None)
        if last is None:
            last_text = "never"
        elif last.run_id:
            last_text = f"{_when(last.due)} run {last.run_id}"
        else:
            last_text = f"{_when(last.due)} {last.error or 'starting'}"
        rows.append([r.name, r.cron, r.timezone, "paused" if r.paused else "active", _when(s.next_run),
                     last_text, r.pipeline_name])  # fmt: skip
    return rows


def schedules_text(items: Sequence[Schedule]) -> str:
    if not items:
        return 'No schedules. Add one with %pipeline schedule "0 3 * * *" (or jupyter-mlops schedule add).'
    rows = [HEAD, *_rows(items)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEAD))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows)


def schedules_html(items: Sequence[Schedule]) -> str:
    esc = html.escape
    head = "".join(f"<th>{esc(h)}</th>" for h in HEAD)
    body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in _rows(items))
    return f"<table class='jupyter-mlops-schedules'><tr>{head}</tr>{body}</table>"


class SchedulesTable:
    def __init__(self, items: Sequence[Schedule]) -> None:
        self.items = items

    def __repr__(self) -> str:
        return schedules_text(self.items)

    def _repr_html_(self) -> str:
        return schedules_html(self.items)
