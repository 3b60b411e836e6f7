"""Compare runs (`%pipeline compare`): parameters and metrics side by side, rows that differ highlighted,
and a bar chart of one chosen metric across the runs.

The charts are drawn here as SVG (one per metric), so the widget's select only swaps which one shows and
the static fallback shows the same picture.
"""

from __future__ import annotations

import json
from typing import Any

import traitlets

from ..backends.base import Backend
from ..errors import UsageError
from ..models import RunInfo
from ..render.finite_json import finite_json
from ..render.style import STATE_STYLES, esc, state_name, state_style, truncate
from .esm import STATIC, esm
from .mime import MimeView

BAR_H = 22
LABEL_W = 170
CHART_W = 560


def compare_rows(values_by_run: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per key seen in any run: the runs' values (None where absent) and whether they differ."""
    keys = sorted({k for vals in values_by_run for k in vals})
    rows = []
    for k in keys:
        values = [finite_json(_plain(vals.get(k))) for vals in values_by_run]
        distinct = {json.dumps(v, sort_keys=True, default=repr) for v in values}
        rows.append({"key": k, "values": values, "diff": len(distinct) > 1})
    return rows


def _plain(value: Any) -> Any:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return truncate(repr(value), 80)
    return value


def metric_chart_svg(metric: str, labels: list[str], values: list[float | None]) -> str:
    """Horizontal bars, one per run, from a zero line (negative values extend left)."""
    present = [v for v in values if v is not None]
    lo = min([0.0, *present])
    hi = max([0.0, *present])
    span = (hi - lo) or 1.0
    bar_space = CHART_W - LABEL_W - 90
    zero_x = LABEL_W + (0 - lo) / span * bar_space
    height = 28 + BAR_H * len(labels) + 8
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="mlops-chart" data-metric="{esc(metric)}" '
        f'width="{CHART_W}" height="{height}" font-family="system-ui, sans-serif" font-size="12">',
        f'<text x="0" y="16" font-weight="600">{esc(metric)}</text>',
        f'<line x1="{zero_x:.1f}" y1="22" x2="{zero_x:.1f}" y2="{height - 6}" stroke="#9ca3af"/>',
    ]
    best = max(present) if present else None
    for i, (label, v) in enumerate(zip(labels, values, strict=True)):
        y = 26 + i * BAR_H
        out.append(
            f'<text x="{LABEL_W - 6}" y="{y + 14}" text-anchor="end">{esc(truncate(label, 24))}'
            f"<title>{esc(label)}</title></text>"
        )
        if v is None:
            out.append(f'<text x="{zero_x + 4:.1f}" y="{y + 14}" fill="#9ca3af">no value</text>')
            continue
        x0 = zero_x if v >= 0 else LABEL_W + (v - lo) / span * bar_space
        w = abs(v) / span * bar_space
        fill = "#2563eb" if v == best else "#93c5fd"
        out.append(
            f'<rect class="mlops-bar" x="{x0:.1f}" y="{y + 3}" width="{max(w, 1):.1f}" '
            f'height="{BAR_H - 6}" fill="{fill}"><title>{esc(label)}: {v:.6g}</title></rect>'
        )
        out.append(f'<text x="{max(x0 + w, zero_x) + 4:.1f}" y="{y + 14}">{v:.6g}</text>')
    out.append("</svg>")
    return "".join(out)


class CompareView(MimeView):
    _esm = esm("compare.js")
    _css = STATIC / "dag.css"
    runs: traitlets.List[Any] = traitlets.List().tag(sync=True)
    params: traitlets.List[Any] = traitlets.List().tag(sync=True)
    metrics: traitlets.List[Any] = traitlets.List().tag(sync=True)
    charts = traitlets.Dict().tag(sync=True)
    chosen = traitlets.Unicode("").tag(sync=True)
    styles = traitlets.Dict().tag(sync=True)

    def __init__(self, backend: Backend, run_ids: list[str]) -> None:
        if len(run_ids) < 2:
            raise UsageError(
                f"compare needs two or more runs, got {len(run_ids)}: give run ids after compare"
            )
        infos = [backend.get(r) for r in run_ids]
        self.infos: list[RunInfo] = infos
        labels = _labels(infos)
        metric_rows = compare_rows([i.metrics for i in infos])
        charts = {
            row["key"]: metric_chart_svg(row["key"], labels, [_num(v) for v in row["values"]])
            for row in metric_rows
        }
        super().__init__(
            runs=[
                {"id": i.id, "label": lab, "state": state_name(i.state)}
                for i, lab in zip(infos, labels, strict=True)
            ],
            params=compare_rows([i.parameters for i in infos]),
            metrics=metric_rows,
            charts=charts,
            chosen=_default_metric(metric_rows),
            styles=STATE_STYLES,
        )

    def static_html(self) -> str:
        head = "".join(
            f'<th style="color:{state_style(r["state"])["stroke"]}" title="{esc(r["id"])}">'
            f"{esc(r['label'])}</th>"
            for r in self.runs
        )
        parts = ['<div class="mlops-compare-static">']
        for caption, rows in (("parameters", self.params), ("metrics", self.metrics)):
            if not rows:
                continue
            body = "".join(
                f"<tr{' style=background:#fef9c3' if row['diff'] else ''}><td>{esc(row['key'])}</td>"
                + "".join(f"<td>{esc(_fmt(v))}</td>" for v in row["values"])
                + "</tr>"
                for row in rows
            )
            parts.append(f"<table><tr><th>{caption}</th>{head}</tr>{body}</table>")
        if self.chosen in self.charts:
            parts.append(self.charts[self.chosen])
        parts.append("</div>")
        return "".join(parts)

    def text(self) -> str:
        labels = [r["label"] for r in self.runs]
        lines = []
        for caption, rows in (("parameter", self.params), ("metric", self.metrics)):
            if not rows:
                continue
            table = [[caption, *labels]] + [
                [("* " if row["diff"] else "  ") + row["key"], *(_fmt(v) for v in row["values"])]
                for row in rows
            ]
            widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
            lines += [
                "  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip() for line in table
            ]
            lines.append("")
        lines.append("(* = differs between runs)")
        return "\n".join(lines)


def _labels(infos: list[RunInfo]) -> list[str]:
    """Run names, made unique with the id where two runs share a name."""
    names = [i.name or i.id for i in infos]
    return [n if names.count(n) == 1 else f"{n} ({i.id[:8]})" for n, i in zip(names, infos, strict=True)]


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.6g}"
    return value if isinstance(value, str) else json.dumps(value)


def _default_metric(rows: list[dict[str, Any]]) -> str:
    """The first metric that differs between runs, else the first metric."""
    for row in rows:
        if row["diff"]:
            return str(row["key"])
    return str(rows[0]["key"]) if rows else ""
