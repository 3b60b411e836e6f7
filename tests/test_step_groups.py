"""Values stored together keep what they share (step_groups, inlined into every step): one pickle of
the group, numpy views kept as views, pandas frames apart as copy on write has them."""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
import pandas as pd
import pytest

from jupyter_mlops.step_runtime.groups import _mlops_group_bytes


def roundtrip(values: dict[str, Any]) -> dict[str, Any]:
    loaded = pickle.loads(_mlops_group_bytes(values, "s", ", ".join(values), set()))
    assert isinstance(loaded, dict)
    return loaded


def test_shared_objects_stay_shared() -> None:
    inner = [1]
    got = roundtrip({"inner": inner, "outer": [inner, {"k": inner}]})
    assert got["outer"][0] is got["inner"] and got["outer"][1]["k"] is got["inner"]


def test_numpy_views_come_back_as_views_of_one_array() -> None:
    base = np.arange(24.0)
    grid = base.reshape(4, 6)  # itself a view of an array no name holds
    values: dict[str, Any] = {
        "grid": grid,
        "reversed": grid[::-1, ::-2],
        "column": grid[:, 1],
        "transposed": grid.T,
        "row": grid[2],
        "bytes": grid[1].view(np.uint8)[3:11],
        "held": [grid[0, 1:3], {"k": (grid[3],)}],
        "alone": np.arange(3)[1:],  # a view of nothing else here: stored as a plain array
        "fortran": np.asfortranarray(np.ones((2, 3))),
    }
    values["fortran_column"] = values["fortran"][:, 1]  # views of Fortran order: copies
    got = roundtrip(values)
    for name, value in values.items():
        loaded = got[name] if name != "held" else got["held"][0]
        original = value if name != "held" else value[0]
        assert loaded.dtype == original.dtype and loaded.shape == original.shape, name
        assert loaded.strides == original.strides and np.array_equal(loaded, original), name
    for name in ("reversed", "column", "transposed", "row", "bytes"):
        assert np.shares_memory(got[name], got["grid"]), name
    assert np.shares_memory(got["held"][0], got["grid"]) and np.shares_memory(
        got["held"][1]["k"][0], got["grid"]
    )
    got["reversed"][0, 0] = -1.0
    assert got["grid"][3, 5] == -1.0
    assert not np.shares_memory(got["fortran_column"], got["fortran"])


def test_frames_sharing_memory_until_written_stay_apart() -> None:
    df = pd.DataFrame({"x": [1.0, 2.0]})
    got = roundtrip({"df": df, "both": [df, df.astype("float64"), df[["x"]]]})
    assert got["both"][0] is got["df"]
    got["both"][1].iloc[0, 0] = 99.0
    got["both"][2].iloc[1, 0] = 77.0
    assert got["df"]["x"].tolist() == [1.0, 2.0]


def test_a_member_that_cannot_be_stored_is_named() -> None:
    gen = (i for i in range(3))
    with pytest.raises(TypeError, match=r"step 's': variable 'box' of type list cannot be passed"):
        roundtrip({"box": [gen], "gen": gen})
