"""Compare-view charts beyond the bars of final values: a metric's histories across runs (lines), and
parameters against a metric across three or more runs (parallel coordinates). Plain SVG, drawn here,
so the widget and the static fallback show the same picture; every value is on hover (`<title>`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from ..models import MetricPoint
from .metric_histories import _thin
from .style import esc, truncate

WIDTH = 560
HEIGHT = 200
PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#4b5563")
MAX_AXES = 6  # parameters drawn as axes, at most (those that differ first)


def metric_key_history(points: Iterable[MetricPoint], key: str) -> list[list[float]]:
    """The history of metric `key` ("step.name", or "name" for notebook-session metrics) in one run."""
    step, _, name = key.rpartition(".")
    line: list[list[float]] = []
    for p in points:
        if p.name == name and (p.step or "") == step and math.isfinite(p.value):
            line.append([float(p.index) if p.index is not None else float(len(line)), p.value])
    return _thin(line)


def history_chart_svg(metric: str, labels: Sequence[str], lines: Sequence[list[list[float]]]) -> str:
    """One line per run that logged `metric` two or more times; "" when none did."""
    drawn = [(lab, line) for lab, line in zip(labels, lines, strict=True) if len(line) >= 2]
    if not drawn:
        return ""
    xs = [p[0] for _, line in drawn for p in line]
    ys = [p[1] for _, line in drawn for p in line]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    left, top, plot_w, plot_h = 50, 24, WIDTH - 60 - 130, HEIGHT - 44

    def sx(x: float) -> float:
        return left + (x - x0) / ((x1 - x0) or 1) * plot_w

    def sy(y: float) -> float:
        return top + plot_h - (y - y0) / ((y1 - y0) or 1) * plot_h

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="mlops-chart mlops-history-chart" '
        f'data-metric="{esc(metric)}" width="{WIDTH}" height="{HEIGHT}" font-family="system-ui, sans-serif" '
        f'font-size="11"><text x="0" y="14" font-weight="600">{esc(metric)}: history</text>',
        f'<text x="{left - 4}" y="{top + 4}" text-anchor="end" fill="#6b7280">{y1:.4g}</text>',
        f'<text x="{left - 4}" y="{top + plot_h}" text-anchor="end" fill="#6b7280">{y0:.4g}</text>',
        f'<text x="{left}" y="{HEIGHT - 4}" fill="#6b7280">{x0:g}</text>',
        f'<text x="{left + plot_w}" y="{HEIGHT - 4}" text-anchor="end" fill="#6b7280">{x1:g}</text>',
    ]
    for i, (label, line) in enumerate(drawn):
        color = PALETTE[i % len(PALETTE)]
        points = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in line)
        out.append(f'<polyline class="mlops-history-line" points="{points}" fill="none" stroke="{color}" '
                   f'stroke-width="1.5"><title>{esc(label)}</title></polyline>')  # fmt: skip
        for x, y in line:
            out.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="2.5" fill="{color}" fill-opacity="0.2">'
                       f"<title>{esc(label)} at {x:g}: {y:.6g}</title></circle>")  # fmt: skip
        ly = top + 12 + 16 * i
        out.append(f'<rect x="{left + plot_w + 12}" y="{ly - 8}" width="10" height="10" fill="{color}"/>'
                   f'<text x="{left + plot_w + 26}" y="{ly + 1}">{esc(truncate(label, 16))}'
                   f"<title>{esc(label)}</title></text>")  # fmt: skip
    out.append("</svg>")
    return "".join(out)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def parallel_svg(
    metric: str, labels: Sequence[str], params: Sequence[dict[str, Any]], values: Sequence[float | None]
) -> str:
    """Parameters (numeric ones that differ between runs) and the metric as vertical axes, one line per
    run, coloured by the metric (darker is higher); "" for fewer than three runs with the metric or no
    such parameter."""
    runs = [i for i, v in enumerate(values) if v is not None]
    if len(runs) < 3:
        return ""
    keys = sorted({k for p in params for k in p})
    axes = [
        k
        for k in keys
        if all(_number(params[i].get(k)) is not None for i in runs)
        and len({_number(params[i].get(k)) for i in runs}) > 1
    ][:MAX_AXES]
    if not axes:
        return ""
    columns: list[tuple[str, list[float]]] = [
        (k, [_number(params[i].get(k)) or 0.0 for i in runs]) for k in axes
    ]
    columns.append((metric, [float(values[i] or 0.0) for i in runs]))
    left, top, plot_h = 30, 30, HEIGHT - 60
    step_x = (WIDTH - 2 * left) / (len(columns) - 1)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="mlops-chart mlops-parallel" '
        f'data-metric="{esc(metric)}" width="{WIDTH}" height="{HEIGHT}" font-family="system-ui, sans-serif" '
        f'font-size="11"><text x="0" y="14" font-weight="600">parameters and {esc(metric)}</text>'
    ]
    scaled: list[list[float]] = []
    for c, (name, col) in enumerate(columns):
        lo, hi = min(col), max(col)
        x = left + c * step_x
        anchor = "start" if c == 0 else "end" if c == len(columns) - 1 else "middle"
        label = f'<text x="{x:.1f}" text-anchor="{anchor}"'
        out.append(
            f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + plot_h}" stroke="#9ca3af"/>'
            f'{label} y="{top - 6}">{esc(truncate(name, 18))}<title>{esc(name)}</title></text>'
            f'{label} y="{top + plot_h + 12}" fill="#6b7280">{lo:.4g}</text>'
            f'{label} y="{top + plot_h + 24}" fill="#6b7280">{hi:.4g}</text>'
        )
        scaled.append([top + plot_h - (v - lo) / ((hi - lo) or 1) * plot_h for v in col])
    metric_col = columns[-1][1]
    m_lo, m_hi = min(metric_col), max(metric_col)
    for r, run in enumerate(runs):
        share = (metric_col[r] - m_lo) / ((m_hi - m_lo) or 1)
        color = f"rgb({int(191 - 154 * share)},{int(219 - 120 * share)},{int(254 - 19 * share)})"
        points = " ".join(f"{left + c * step_x:.1f},{scaled[c][r]:.1f}" for c in range(len(columns)))
        detail = ", ".join(f"{name}={col[r]:.6g}" for name, col in columns)
        out.append(
            f'<polyline class="mlops-parallel-line" points="{points}" fill="none" stroke="{color}" '
            f'stroke-width="2"><title>{esc(labels[run])}: {esc(detail)}</title></polyline>'
        )
    out.append("</svg>")
    return "".join(out)
