"""`assert_same(original, loaded)`: the loaded value is what the step had, down to types, dtypes,
memory order, writability and shared references (a helper for the value round-trip tests)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd


def assert_same(a: Any, b: Any, where: str = "value", memo: dict[int, Any] | None = None) -> None:
    memo = {} if memo is None else memo
    assert type(a) is type(b), f"{where}: {type(a)} came back as {type(b)}"
    if isinstance(a, (list, dict, tuple, set, np.ndarray, pd.DataFrame, pd.Series)) or hasattr(a, "__dict__"):
        if id(a) in memo:  # met before: the same object must come back as the same object
            assert memo[id(a)] is b, f"{where}: a shared object came back as a copy"
            return
        memo[id(a)] = b
    if isinstance(a, np.ndarray):
        _same_array(a, b, where)
    elif isinstance(a, pd.DataFrame):
        _same_frame(a, b, where, memo)
    elif isinstance(a, pd.Series):
        _same_frame(a.to_frame(), b.to_frame(), where, memo)
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), f"{where}: length {len(a)} came back as {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{where}[{i}]", memo)
    elif isinstance(a, dict):
        assert list(a) == list(b), f"{where}: keys {list(a)} came back as {list(b)}"
        for (k, x), (k2, y) in zip(a.items(), b.items(), strict=True):
            assert_same(k, k2, f"{where} key {k!r}", memo)
            assert_same(x, y, f"{where}[{k!r}]", memo)
    elif isinstance(a, np.generic):
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes(), f"{where}: {a!r} came back as {b!r}"
    elif isinstance(a, float):
        assert (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b)), (
            f"{where}: {a!r} came back as {b!r}"
        )
    elif hasattr(a, "__dict__") and not callable(a):
        assert_same(vars(a), vars(b), f"{where}.__dict__", memo)
    else:
        assert a == b, f"{where}: {a!r} came back as {b!r}"


def _same_array(a: np.ndarray, b: np.ndarray, where: str) -> None:
    assert a.dtype == b.dtype and a.shape == b.shape, f"{where}: {a.dtype}{a.shape} as {b.dtype}{b.shape}"
    if a.dtype.hasobject:
        for index in np.ndindex(a.shape):
            assert_same(a[index], b[index], f"{where}[{index}]")
    else:  # bytes: exact for -0.0, NaN, NaT and structured records alike
        assert np.ascontiguousarray(a).tobytes() == np.ascontiguousarray(b).tobytes(), f"{where}: contents"
    assert a.flags.writeable == b.flags.writeable, (
        f"{where}: writeable {a.flags.writeable} as {b.flags.writeable}"
    )
    if a.flags.f_contiguous and not a.flags.c_contiguous:
        assert b.flags.f_contiguous, f"{where}: a Fortran-ordered array came back in C order"


def _same_frame(a: pd.DataFrame, b: pd.DataFrame, where: str, memo: dict[int, Any]) -> None:
    pd.testing.assert_frame_equal(a, b, check_exact=True, check_flags=True, check_freq=True)
    assert a.dtypes.equals(b.dtypes), f"{where}: dtypes {dict(a.dtypes)} came back as {dict(b.dtypes)}"
    assert type(a.index) is type(b.index) and a.index.equals(b.index), f"{where}: index"
    assert a.attrs == b.attrs, f"{where}: attrs {a.attrs} came back as {b.attrs}"
    for i, name in enumerate(a.columns):
        if str(a.dtypes.iloc[i]) == "object":  # equal is not enough: {"k": 1} == {"k": 1.0}
            for row, (x, y) in enumerate(zip(a.iloc[:, i], b.iloc[:, i], strict=True)):
                assert_same(x, y, f"{where}[{name!r}][{row}]", memo)
    assert a.to_numpy().flags.writeable == b.to_numpy().flags.writeable, f"{where}: writeable"
    if len(b) and len(b.columns) and getattr(b.dtypes.iloc[0], "kind", "") in "biuf":
        b.iloc[0, 0] = b.iloc[0, 0]  # a frame read back can be changed in place, as the original
