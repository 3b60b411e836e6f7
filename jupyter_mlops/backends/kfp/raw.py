"""A KFP API answer read as plain JSON, with the attribute access of kfp_server_api's models.

kfp_server_api builds a model object per field and parses each timestamp with dateutil: for a page of
50 runs that is ~60% of the time `list_runs` takes. Listing reads the answer's JSON (the very bytes the
server sent, field names as the models name them) and `convert` reads it the same way as a model:
timestamps stay RFC 3339 strings (`convert.seconds` reads both), a field the server left out is None.
"""

from __future__ import annotations

import json
from typing import Any

# Fields the models type as free-form objects (protobuf Struct): they stay plain dicts.
FREE_FORM = frozenset({"pipeline_spec", "parameters", "platform_spec"})


class Fields:
    """Attribute access to a JSON object: nested objects are Fields, lists of them lists of Fields."""

    __slots__ = ("_data",)

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        value = self._data.get(name)
        return value if name in FREE_FORM else _wrap(value)

    def to_dict(self) -> dict[str, Any]:
        return self._data


def _wrap(value: Any) -> Any:
    if isinstance(value, dict):
        return Fields(value)
    if isinstance(value, list):
        return [_wrap(v) for v in value]
    return value


def read(response: Any) -> Fields:
    """The JSON body of a raw (`_preload_content=False`) kfp_server_api answer."""
    data = json.loads(response.data or b"{}")
    return Fields(data if isinstance(data, dict) else {})
