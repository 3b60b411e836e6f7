"""The v2beta1 API's filters for the runs the kfp backend lists and counts."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

# Runs archived on the server are hidden, as the KFP UI's runs page hides them (AllRunsList.tsx).
NOT_ARCHIVED: dict[str, Any] = {"key": "storage_state", "operation": "NOT_EQUALS", "string_value": "ARCHIVED"}


def runs_filter(states: Sequence[str] = ()) -> str:
    """The API filter for the runs we list: not archived, and in one of `states` (any when empty)."""
    predicates: list[dict[str, Any]] = [NOT_ARCHIVED]
    if len(states) == 1:
        predicates.append({"key": "state", "operation": "EQUALS", "string_value": states[0]})
    elif states:
        predicates.append({"key": "state", "operation": "IN", "string_values": {"values": list(states)}})
    return json.dumps({"predicates": predicates})
