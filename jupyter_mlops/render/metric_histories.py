"""A step's metric histories for the run view's line charts: `log_metric(name, value, step=i)` points.

A metric logged once is a number (the metrics table shows it); one logged two or more times is a
history, charted. Long histories are thinned to at most `MAX_POINTS` (evenly, the last point kept),
so a 100,000-step training loop still draws at once.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from ..models import MetricPoint

MAX_POINTS = 400


def step_histories(points: Iterable[MetricPoint], step: str) -> dict[str, list[list[float]]]:
    """Metric name -> [[x, value], ...] for `step`'s metrics with two or more finite points; x is the
    `step=` given to log_metric, else the point's position."""
    series: dict[str, list[list[float]]] = {}
    for point in points:
        if point.step != step or not math.isfinite(point.value):
            continue
        line = series.setdefault(point.name, [])
        x = float(point.index) if point.index is not None else float(len(line))
        line.append([x, point.value])
    return {name: _thin(line) for name, line in series.items() if len(line) >= 2}


def _thin(line: list[list[float]]) -> list[list[float]]:
    if len(line) <= MAX_POINTS:
        return line
    stride = (len(line) - 1) / (MAX_POINTS - 1)
    return [line[round(i * stride)] for i in range(MAX_POINTS)]
