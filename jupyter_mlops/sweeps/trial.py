"""One trial of a sweep, as its handle and its view show it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Trial:
    number: int
    params: dict[str, Any]  # every argument the trial ran with (swept and fixed)
    value: float | None
    state: str
    run_id: str | None
    error: str | None
