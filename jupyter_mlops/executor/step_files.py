"""Reading what a running step writes: its metrics lines, and the error at the end of its log."""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

_ERROR_TAIL_BYTES = 256 * 1024


Point = tuple[str, float, int | None, float]  # name, value, index, time


class MetricsTail:
    """Reads the JSON lines a step appends to JUPYTER_MLOPS_METRICS_FILE, as they come: each read hands
    over every complete new line as one batch (the store writes a batch in one transaction)."""

    def __init__(self, path: Path, emit: Callable[[list[Point]], None]) -> None:
        self.path = path
        self.emit = emit
        self.offset = 0

    def read(self) -> int:
        """Hand over the complete lines written since the last read; how many points they held."""
        try:
            with self.path.open("rb") as f:
                f.seek(self.offset)
                data = f.read()
        except OSError:
            return 0
        end = data.rfind(b"\n")
        if end < 0:
            return 0
        self.offset += end + 1
        batch: list[Point] = []
        now = time.time()
        for point in _decoded(data[: end + 1]):
            try:
                step = point.get("step")
                batch.append(
                    (
                        str(point["name"]),
                        float(point["value"]),
                        int(step) if step is not None else None,
                        float(point.get("time") or now),
                    )
                )
            except (ValueError, KeyError, TypeError, AttributeError):
                continue  # a torn or foreign line must not fail the step
        if batch:
            self.emit(batch)
        return len(batch)


def _decoded(data: bytes) -> list[Any]:
    """The JSON value of each non-blank line of `data`: all lines as one JSON array (one call for
    thousands of points), or line by line when a line is not JSON (a torn or foreign one is left out)."""
    lines = [line for line in data.splitlines() if line.strip()]
    try:
        values = json.loads(b"[" + b",".join(lines) + b"]")
    except ValueError:
        values = None
    if isinstance(values, list) and len(values) == len(lines):
        return values
    decoded = []
    for line in lines:
        try:
            decoded.append(json.loads(line))
        except ValueError:
            continue
    return decoded


_USER_FRAME = re.compile(r'File "<(cell [^>]+|pipeline setup[^>]*)>", line (\d+)')


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
    if len(lines) <= 1:
        return None
    # A notebook step's code runs as "<cell NAME>" / "<pipeline setup>" with the lines the user sees:
    # say where in the notebook the error came from (the deepest frame of the user's code).
    frames = _USER_FRAME.findall(text[start:])
    if not frames:
        return lines[-1]
    label, line = frames[-1]
    where = "%%pipeline setup" if label.startswith("pipeline setup") else label
    return f"{lines[-1]} ({where}, line {line})"


FULL_BELOW_BYTES = 64 * 1024


def disk_full_note(path: Path) -> str:
    """ " (No space left on device: ...)" when the disk holding `path` is (almost) full, else "": a step
    that died writing to a full disk could not write its traceback either, and its exit code alone
    would not say why."""
    try:
        stats = os.statvfs(path)
    except (OSError, AttributeError):  # gone, or no statvfs (Windows)
        return ""
    if stats.f_bavail * stats.f_frsize >= FULL_BELOW_BYTES:
        return ""
    return " (No space left on device: the disk holding the run's folder is full; free some space)"
