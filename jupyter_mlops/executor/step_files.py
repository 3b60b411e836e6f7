"""Reading what a running step writes: its metrics lines, and the error at the end of its log."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

_ERROR_TAIL_BYTES = 256 * 1024


class MetricsTail:
    """Reads the JSON lines a step appends to JUPYTER_MLOPS_METRICS_FILE, as they come."""

    def __init__(self, path: Path, emit: Callable[[str, float, int | None, float], None]) -> None:
        self.path = path
        self.emit = emit
        self.offset = 0

    def read(self) -> None:
        try:
            with self.path.open("rb") as f:
                f.seek(self.offset)
                data = f.read()
        except OSError:
            return
        end = data.rfind(b"\n")
        if end < 0:
            return
        self.offset += end + 1
        for line in data[: end + 1].splitlines():
            try:
                point = json.loads(line)
                step = point.get("step")
                self.emit(
                    str(point["name"]),
                    float(point["value"]),
                    int(step) if step is not None else None,
                    float(point.get("time") or time.time()),
                )
            except (ValueError, KeyError, TypeError):
                continue  # a torn or foreign line must not fail the step


def last_error_line(log: Path, offset: int) -> str | None:
    """The last line of the last Python traceback written to `log` after `offset`."""
    try:
        with log.open("rb") as f:
            size = f.seek(0, 2)
            f.seek(max(offset, size - _ERROR_TAIL_BYTES))
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return None
    start = text.rfind("Traceback (most recent call last):")
    if start < 0:
        return None
    lines = [ln.strip() for ln in text[start:].splitlines() if ln.strip()]
    return lines[-1] if len(lines) > 1 else None
