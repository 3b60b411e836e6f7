"""What the views (and `jupyter-mlops run --wait`) say a step's value is: from the metadata the step
runtime stores with it, never a file path. Metadata here is what `step_runtime` writes, taken from real
runs: a parquet frame (shape at the top), a pickled frame or group member (shape in its preview only), a
cell's last value (its repr, unless it has a shape)."""

from __future__ import annotations

from typing import Any

import pytest

from jupyter_mlops.models import ArtifactInfo
from jupyter_mlops.render.values_shown import describe_artifact


def _artifact(name: str, **meta: Any) -> ArtifactInfo:
    return ArtifactInfo("r", "s", name, "/somewhere/value", "system.Dataset", meta)


@pytest.mark.parametrize(
    ("name", "meta", "shown"),
    [
        (
            "df",
            {"format": "parquet", "type": "pandas.DataFrame", "shape": [300, 4]},
            "pandas.DataFrame (300, 4)",
        ),
        (
            "df",
            {"format": "group", "type": "pandas.DataFrame", "preview": {"kind": "table", "shape": [282, 7]}},
            "pandas.DataFrame (282, 7)",
        ),
        (
            "y",
            {"format": "pickle", "type": "pandas.Series", "preview": {"kind": "table", "shape": [71, 1]}},
            "pandas.Series (71,)",
        ),
        (
            "x",
            {"format": "group", "type": "numpy.ndarray", "preview": {"shape": [400, 4], "dtype": "float64"}},
            "numpy.ndarray (400, 4) float64",
        ),
        (
            "result",
            {
                "format": "parquet",
                "type": "pandas.DataFrame",
                "repr": "   a  b\n0  1  2",
                "preview": {"shape": [5, 2]},
            },
            "pandas.DataFrame (5, 2)",
        ),
        ("result", {"format": "json", "type": "dict", "repr": "{'rows': 400}"}, "{'rows': 400}"),
    ],
)
def test_a_value_is_described_by_its_kind_and_shape(name: str, meta: dict[str, Any], shown: str) -> None:
    assert describe_artifact(_artifact(name, **meta)) == shown
