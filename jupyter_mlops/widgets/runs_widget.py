"""The runs table (`%pipeline runs`): newest first, sortable, filtered by experiment and state, with a
column per parameter and per metric (KFP v2's UI dropped those; users asked for them back).

Rows are computed here; the front end (static/runs_table.js) only sorts and filters what it is given.
"""

from __future__ import annotations

import datetime as _dt
from math import isfinite
from typing import Any

import traitlets

from ..backends.base import Backend
from ..errors import UsageError
from ..models import RunInfo, RunState
from ..render.finite_json import finite_json
from ..render.style import STATE_STYLES, esc, format_duration, state_name, state_style, truncate
from .esm import STATIC, esm
from .mime import MimeView

TEXT_COLUMNS = 8  # a terminal cannot show every parameter and metric column


def parse_state(state: str | None) -> RunState | None:
    if state is None or state == "":
        return None
    try:
        return RunState(state.upper())
    except ValueError:
        known = ", ".join(s.value for s in RunState)
        raise UsageError(f"unknown run state {state!r}: use one of {known}") from None


def run_row(info: RunInfo) -> dict[str, Any]:
    return {
        "id": info.id,
        "name": info.name,
        "experiment": info.experiment,
        "state": state_name(info.state),
        "created_at": info.created_at,
        "created": _when(info.created_at),
        "duration": info.duration,
        "params": {k: _cell(v) for k, v in info.parameters.items()},
        # JSON has no NaN: "NaN", as KFP shows it
        "metrics": {k: v if type(v) is int or (type(v) is float and isfinite(v)) else finite_json(v)
                    for k, v in info.metrics.items()},
        "schedule": info.schedule,  # the schedule that started it, if one did
    }  # fmt: skip


def _cell(value: Any) -> Any:
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:  # most parameters: as they are
        return value
    if isinstance(value, (int, float, str, bool)):
        return finite_json(value)
    return truncate(repr(value), 60)


def _when(ts: float) -> str:
    if not ts:
        return ""
    return _dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")


def _by_first_use(rows: list[dict[str, Any]], field: str) -> list[str]:
    seen: dict[str, None] = {}
    for row in rows:
        for key in sorted(row[field]):
            seen.setdefault(key)
    return list(seen)


def table_columns(rows: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Fixed columns, then one per parameter and per metric seen in any row: those of the newest run
    first (rows come newest first; a run's own by name), so that a store holding several notebooks'
    runs shows the latest work's columns first (a terminal shows 8 columns)."""
    cols = [
        {"key": "name", "label": "run", "kind": "text"},
        {"key": "state", "label": "state", "kind": "state"},
        {"key": "experiment", "label": "experiment", "kind": "text"},
        {"key": "created_at", "label": "created", "kind": "time"},
        {"key": "duration", "label": "duration", "kind": "duration"},
    ]
    if any(r.get("schedule") for r in rows):  # runs a schedule started say which one
        cols.insert(3, {"key": "schedule", "label": "schedule", "kind": "text"})
    params = _by_first_use(rows, "params")
    metrics = _by_first_use(rows, "metrics")
    cols += [{"key": f"param:{p}", "label": p, "kind": "param"} for p in params]
    cols += [{"key": f"metric:{m}", "label": m, "kind": "metric"} for m in metrics]
    return cols


def cell_value(row: dict[str, Any], key: str) -> Any:
    if key.startswith("param:"):
        return row["params"].get(key[6:])
    if key.startswith("metric:"):
        return row["metrics"].get(key[7:])
    return row.get(key)


def cell_text(row: dict[str, Any], col: dict[str, str]) -> str:
    value = cell_value(row, col["key"])
    if value is None:
        return ""
    if col["kind"] == "time":
        return str(row["created"])
    if col["kind"] == "duration":
        return format_duration(value)
    if col["kind"] == "metric" and isinstance(value, (int, float)):
        return f"{value:.6g}"
    return str(value)


class RunsTable(MimeView):
    _esm = traitlets.Unicode(esm("runs_table.js")).tag(sync=True)  # as traits: see MimeView
    _css = traitlets.Unicode((STATIC / "dag.css").read_text(encoding="utf-8")).tag(sync=True)
    rows: traitlets.List[Any] = traitlets.List().tag(sync=True)
    columns: traitlets.List[Any] = traitlets.List().tag(sync=True)
    styles = traitlets.Dict().tag(sync=True)
    experiment = traitlets.Unicode("").tag(sync=True)  # filter; "" = all
    state = traitlets.Unicode("").tag(sync=True)
    sort_key = traitlets.Unicode("created_at").tag(sync=True)
    sort_desc = traitlets.Bool(True).tag(sync=True)

    def __init__(
        self, backend: Backend, *, experiment: str | None = None, state: str | None = None, limit: int = 50
    ) -> None:
        self.backend = backend
        self.limit = limit
        self._query = (experiment, parse_state(state))
        rows = self._rows()  # the widget opens with its rows: one message to the front end, not three
        super().__init__(
            styles=STATE_STYLES,
            experiment=experiment or "",
            state=(state or "").upper(),
            columns=table_columns(rows),
            rows=rows,
        )
        self.on_msg(self._on_frontend_msg)

    def refresh(self) -> None:
        """Ask the backend again (the front end's refresh button lands here)."""
        rows = self._rows()
        self.columns = table_columns(rows)
        self.rows = rows

    def _rows(self) -> list[dict[str, Any]]:
        experiment, state = self._query
        page = self.backend.list_runs(experiment=experiment, state=state, limit=self.limit)
        runs = []
        # A backend may list runs without their metrics (they live with the steps): fetch those runs, where
        # a run costs little to read (not on kfp: each would cost the KFP server five requests).
        fetch = self.backend.capabilities.outputs and getattr(self.backend, "cheap_get", True)
        for info in page.runs:
            if fetch and not info.metrics and info.state.terminal:
                info = self.backend.get(info.id)
            runs.append(info)
        return [run_row(r) for r in runs]

    def _on_frontend_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "refresh":
            self.refresh()

    def visible_rows(self) -> list[dict[str, Any]]:
        """The rows after the filters and the sort that the user chose (what the widget shows)."""
        rows = [
            r
            for r in self.rows
            if (not self.experiment or r["experiment"] == self.experiment)
            and (not self.state or r["state"] == self.state)
        ]
        present = [r for r in rows if cell_value(r, self.sort_key) is not None]
        missing = [r for r in rows if cell_value(r, self.sort_key) is None]
        present.sort(key=lambda r: _sort_key(cell_value(r, self.sort_key)), reverse=self.sort_desc)
        return present + missing  # rows without the value go last either way

    def static_html(self) -> str:
        head = "".join(f"<th>{esc(c['label'])}</th>" for c in self.columns)
        body = []
        for r in self.visible_rows():
            tds = []
            for c in self.columns:
                text = esc(cell_text(r, c))
                if c["kind"] == "state":
                    st = state_style(r["state"])
                    tds.append(f'<td style="color:{st["stroke"]}">{st["icon"]} {text}</td>')
                elif c["kind"] in ("metric", "duration"):
                    tds.append(f'<td style="text-align:right">{text}</td>')
                else:
                    tds.append(f"<td>{text}</td>")
            body.append(f'<tr data-run="{esc(r["id"])}">{"".join(tds)}</tr>')
        if not body:
            return "<div><i>no runs</i></div>"
        return f'<table class="mlops-runs-static"><tr>{head}</tr>{"".join(body)}</table>'

    def text(self) -> str:
        rows = self.visible_rows()
        if not rows:
            return "no runs"
        cols = [{"key": "id", "label": "id", "kind": "text"}, *self.columns][:TEXT_COLUMNS]
        table = [[c["label"] for c in cols]] + [[cell_text(r, c) for c in cols] for r in rows]
        widths = [max(len(line[i]) for line in table) for i in range(len(cols))]
        lines = ["  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip() for line in table]
        hidden = len(self.columns) + 1 - len(cols)
        if hidden > 0:
            lines.append(f"({hidden} more columns in the notebook view)")
        return "\n".join(lines)


def _sort_key(value: Any) -> tuple[int, Any]:
    # numbers before text, so a column of mixed types still sorts without a TypeError
    if isinstance(value, bool):
        return (0, int(value))
    if isinstance(value, (int, float)):
        return (0, value)
    return (1, str(value))
