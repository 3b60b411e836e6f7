"""Non-finite numbers in answers: JSON has no NaN or Infinity, so they travel as strings.

A diverging loss (`log_metric("loss", float("nan"))`) or an argument `1e400` is carried faithfully as
"NaN", "Infinity" or "-Infinity" (as KFP's UI shows them), in every answer and every event, instead of
the bare `NaN` token Python's json writes and a browser's `JSON.parse` refuses. openapi.yaml's
`Number` schema says so.
"""

from __future__ import annotations

import json
import math
from typing import Any

NON_FINITE = ("NaN", "Infinity", "-Infinity")


def finite_json(value: Any) -> Any:
    """`value` with every non-finite float (however deeply nested) replaced by its name."""
    if isinstance(value, float) and not math.isfinite(value):
        if math.isnan(value):
            return "NaN"
        return "Infinity" if value > 0 else "-Infinity"
    if isinstance(value, dict):
        return {key: finite_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_json(item) for item in value]
    return value


def dumps(value: Any) -> str:
    """Strict JSON text of `value`: `allow_nan=False` proves nothing non-finite slipped through. Most
    answers have no non-finite number: they are written as they are (json's C encoder), and only one
    that has is walked and rewritten (a page of 100 runs: a third of the time)."""
    try:
        return json.dumps(value, allow_nan=False)
    except ValueError:  # a NaN or an infinity somewhere
        return json.dumps(finite_json(value), allow_nan=False)
