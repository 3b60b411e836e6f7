"""Runs as a plain-text table (`jupyter-mlops runs`): a header row and aligned columns."""

from __future__ import annotations

import time
from collections.abc import Sequence

from ..models import RunInfo

_HEADER = ("id", "started", "state", "took", "experiment", "name")


def _took(info: RunInfo) -> str:
    return f"{info.duration:.1f}s" if info.duration is not None else ""


def runs_text(runs: Sequence[RunInfo]) -> str:
    """One line per run under a header; each column as wide as its widest cell (the name last, whole)."""
    rows = [
        (
            info.id,
            time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(info.created_at)),
            info.state.value,
            _took(info),
            info.experiment,
            info.name + (f"  (schedule {info.schedule})" if info.schedule else ""),
        )
        for info in runs
    ]
    table = [_HEADER, *rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(_HEADER) - 1)]
    lines = []
    for row in table:
        cells = [row[i].rjust(widths[i]) if i == 3 else row[i].ljust(widths[i]) for i in range(len(widths))]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return "\n".join(lines)
