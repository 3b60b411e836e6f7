"""Conversions between the store's SQLite rows and the run model's dataclasses."""

from __future__ import annotations

import dataclasses
import json
import math
import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

from ..models import ArtifactInfo, MetricPoint, RunEvent, RunInfo, RunState, StepInfo, StepState

RUN_COLUMNS = (
    "r.id, r.name, e.name AS experiment, r.pipeline_name, r.backend, r.state, r.created_at, "
    "r.started_at, r.finished_at, r.parameters, r.error, r.metrics_summary, "
    # the schedule that started the run, if one did (schedule_fires is indexed by run_id)
    "(SELECT s.name FROM schedule_fires f JOIN schedules s ON s.id = f.schedule_id "
    "WHERE f.run_id = r.id LIMIT 1) AS schedule"
)


_ENCODER = json.JSONEncoder(default=str, sort_keys=True)  # built once (json.dumps builds one a call)


def dumps(value: Any) -> str:
    """JSON for a column. Values that JSON cannot hold (a path, a numpy scalar) are kept as text
    rather than failing the write: the record matters more than its exact type."""
    return _ENCODER.encode(value)


def loads(text: str | None) -> Any:
    """A JSON column's value; `{}` (most steps' inputs and outputs until they ran) without decoding."""
    return json.loads(text) if text and text != "{}" else {}


T = TypeVar("T")


_FIELDS: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


# (dataclass, the row's column names) -> (field, column index) of the fields the row has a column for
_COLUMNS: dict[tuple[type, tuple[str, ...]], tuple[tuple[str, int], ...]] = {}


def from_row(cls: type[T], row: sqlite3.Row, **convert: Callable[[Any], Any]) -> T:
    """The dataclass `cls` from the row's columns named as its fields (fields without a column keep
    their defaults); `convert` maps a field to a function of its column: `loads` for a JSON column,
    `bool` for a flag, an enum for a state."""
    keys = tuple(row.keys())
    columns = _COLUMNS.get((cls, keys))
    if columns is None:  # once per query shape: which fields come from which column
        lower = [k.lower() for k in keys]  # sqlite3.Row finds a column whatever its case
        columns = tuple((n, lower.index(n.lower())) for n in _field_names(cls) if n.lower() in lower)
        _COLUMNS[(cls, keys)] = columns
    values = {name: row[i] for name, i in columns}
    for name, function in convert.items():
        if name in values:
            values[name] = function(values[name])
    return cls(**values)


def run_from_row(row: sqlite3.Row) -> RunInfo:
    return RunInfo(
        id=row["id"],
        name=row["name"],
        state=RunState(row["state"]),
        experiment=row["experiment"],
        pipeline_name=row["pipeline_name"],
        backend=row["backend"],
        created_at=row["created_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        parameters=loads(row["parameters"]),
        error=row["error"],
        metrics=loads(row["metrics_summary"]),
        schedule=row["schedule"],
    )


# A state's value -> the state: a dict lookup (the enum's constructor costs ~10x more a row).
_STEP_STATES = {state.value: state for state in StepState}


def _step_state(value: str) -> StepState:
    found = _STEP_STATES.get(value)
    return found if found is not None else StepState(value)  # (an unknown value: the enum's error)


def step_from_row(row: sqlite3.Row) -> StepInfo:
    return from_row(StepInfo, row, state=_step_state, inputs=loads, outputs=loads)


def artifact_from_row(row: sqlite3.Row) -> ArtifactInfo:
    return from_row(ArtifactInfo, row, metadata=loads)


def metric_from_row(row: sqlite3.Row) -> MetricPoint:
    return MetricPoint(
        run_id=row["run_id"],
        step=row["step"],
        name=row["name"],
        value=math.nan if row["value"] is None else row["value"],
        index=row["idx"],
        time=row["time"],
    )


def event_from_row(row: sqlite3.Row) -> RunEvent:
    return from_row(RunEvent, row, detail=loads)


def metric_key(step: str | None, name: str) -> str:
    """The key of a run's metric summary: "step.metric", or just "metric" for notebook-session ones."""
    return f"{step}.{name}" if step else name
