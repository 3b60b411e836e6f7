"""What a step writes for later steps comes back exactly (issue 9, item 13): property tests of the
save/load pair of the inlined step code, over generated values of many kinds."""

from __future__ import annotations

import sys
import tempfile
import types
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from jupyter_mlops.step_runtime.run import _mlops_run_setup
from jupyter_mlops.step_runtime.values import _MLOPS_NOTEBOOK_MODULE, _mlops_load, _mlops_save

from .value_checks import assert_same

SETUP = """
import dataclasses


class Point:
    def __init__(self, x, y):
        self.x, self.y = x, y


@dataclasses.dataclass
class Box:
    items: list
    label: str = "box"


def scale(v, k=2):
    return v * k
"""

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(autouse=True)
def notebook_module(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The notebook's module with a setup cell run in it, as in a step (classes pickle against it)."""
    module = types.ModuleType(_MLOPS_NOTEBOOK_MODULE)
    monkeypatch.setitem(sys.modules, _MLOPS_NOTEBOOK_MODULE, module)
    _mlops_run_setup(module.__dict__, SETUP, None)
    return module.__dict__


def roundtrip(value: Any, setup_names: Any = ("Point", "Box", "scale")) -> tuple[Any, dict[str, Any]]:
    with tempfile.TemporaryDirectory() as tmp:
        meta = _mlops_save(tmp + "/v", value, "make", "v", set(setup_names))
        return _mlops_load(tmp + "/v", "use", "v", meta), meta


# -- plain Python and numpy scalars in containers ---------------------------------------------------

NUMPY_SCALARS = [np.float64, np.float32, np.float16, np.int64, np.int8, np.uint16, np.bool_, np.complex128]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(),
    st.binary(max_size=8),
    st.complex_numbers(allow_nan=False),
    *[hnp.from_dtype(np.dtype(t)).map(np.dtype(t).type) for t in NUMPY_SCALARS],
    hnp.from_dtype(np.dtype("datetime64[ns]")),
)


def _containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(children, max_size=4),
        st.tuples(children, children),
        st.dictionaries(st.text(max_size=3), children, max_size=4),
        st.dictionaries(st.integers(), children, max_size=3),
        st.lists(children, max_size=3).map(lambda xs: [xs, xs]),  # one list twice: shared, not copied
        st.builds(lambda x, y: _setup_class("Point")(x, y), children, children),
        st.builds(lambda xs: _setup_class("Box")(xs), st.lists(children, max_size=3)),
    )


def _setup_class(name: str) -> Any:
    return sys.modules[_MLOPS_NOTEBOOK_MODULE].__dict__[name]


values = st.recursive(scalars, _containers, max_leaves=12)


@FAST
@given(values)
def test_containers_of_python_and_numpy_values_come_back_exactly(value: Any) -> None:
    loaded, meta = roundtrip(value)
    assert_same(value, loaded)
    assert meta["format"] in ("json", "pickle")


def test_a_list_filled_with_numpy_floats_is_not_json_but_comes_back_as_it_was() -> None:
    errors: list[Any] = []
    errors += [np.float64(0.5), np.float64(0.25)]
    loaded, meta = roundtrip(errors)
    assert meta["format"] == "pickle" and type(loaded[0]) is np.float64
    loaded, meta = roundtrip([1, 2.5, "a", {"k": [True, None]}])
    assert meta["format"] == "json" and type(loaded[0]) is int


# -- numpy arrays ----------------------------------------------------------------------------------

dtypes = st.one_of(
    hnp.scalar_dtypes(),
    hnp.byte_string_dtypes(),
    hnp.unicode_string_dtypes(),
    hnp.datetime64_dtypes(),
    hnp.timedelta64_dtypes(),
    hnp.array_dtypes(allow_subarrays=True),
)


@st.composite
def arrays(draw: st.DrawFn) -> np.ndarray:
    dtype = draw(dtypes)
    if draw(st.booleans()):
        dtype = dtype.newbyteorder()
    array = draw(hnp.arrays(dtype, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)))
    layout = draw(st.sampled_from(["C", "F", "strided", "transposed"]))
    if layout == "F":
        array = np.asfortranarray(array)
    elif layout == "strided" and array.ndim:
        array = array[::2]
    elif layout == "transposed":
        array = array.T
    if draw(st.booleans()):
        array.flags.writeable = False
    return array


@FAST
@given(arrays())
def test_arrays_of_every_dtype_and_layout_come_back_exactly(array: np.ndarray) -> None:
    loaded, meta = roundtrip(array)
    assert_same(array, loaded)
    assert meta["format"] == "npy"


@FAST
@given(arrays())
def test_large_arrays_written_in_pieces_and_mapped_when_loaded_come_back_exactly(array: np.ndarray) -> None:
    from jupyter_mlops.step_runtime import values

    with pytest.MonkeyPatch.context() as patch:  # every array counts as large here
        patch.setattr(values, "_MLOPS_PIECE_BYTES", 3)
        patch.setattr(values, "_MLOPS_MAP_BYTES", 0)
        loaded, meta = roundtrip(array)
    assert_same(array, loaded)
    assert meta["format"] == "npy"


def test_a_mapped_array_is_the_steps_own_to_change() -> None:
    """A large array is mapped copy-on-write when a step loads it: a plain writable ndarray at once,
    whose changes stay in the step (the stored value, which other steps and runs read, is unchanged)."""
    from jupyter_mlops.step_runtime.values import _MLOPS_MAP_BYTES

    array = np.arange(_MLOPS_MAP_BYTES // 8 + 1, dtype=np.float64)
    with tempfile.TemporaryDirectory() as tmp:
        meta = _mlops_save(tmp + "/v", array, "make", "v", set())
        first = _mlops_load(tmp + "/v", "use", "v", meta)
        assert type(first) is np.ndarray and first.flags.writeable and isinstance(first.base, np.memmap)
        first += 1
        again = _mlops_load(tmp + "/v", "use", "v", meta)
        assert again[0] == 0.0 and again[-1] == array[-1] and first[0] == 1.0
        np.testing.assert_array_equal(np.load(tmp + "/v/value.npy"), array)


@FAST
@given(st.lists(values, min_size=0, max_size=5))
def test_object_arrays_come_back_exactly(items: list[Any]) -> None:
    array = np.empty(len(items), dtype=object)
    array[:] = items if items else []
    loaded, meta = roundtrip(array)
    assert_same(array, loaded)
    assert meta["format"] == "pickle"


# -- pandas frames ---------------------------------------------------------------------------------

TIMEZONES = ["UTC", "Europe/Paris", "America/New_York"]


ALL_KINDS = [
    "int", "float", "bool", "str", "object", "dicts", "category", "category_int", "datetime", "datetime_s",
    "datetime_tz", "Int64", "boolean", "string", "Float64", "timedelta", "uint8", "numbers", "nullable",
]  # fmt: skip
PARQUET_KINDS = [
    "int", "float", "bool", "str", "category", "datetime", "datetime_tz", "Int64", "boolean", "string",
    "Float64", "uint8", "numbers", "nullable",
]  # fmt: skip
NUMBERS = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float32", "float64"]
NULLABLE = ["Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64", "Float32", "Float64"]


@st.composite
def columns(draw: st.DrawFn, n: int, kinds: list[str], units: list[str]) -> Any:
    kind = draw(st.sampled_from(kinds))
    ints = st.integers(-(2**31), 2**31)
    if kind == "int":
        return draw(st.lists(ints, min_size=n, max_size=n))
    if kind in ("numbers", "nullable"):
        dtype = draw(st.sampled_from(NUMBERS if kind == "numbers" else NULLABLE))
        items = draw(
            st.lists(hnp.from_dtype(np.dtype(dtype.lower()), allow_nan=False), min_size=n, max_size=n)
        )
        if kind == "numbers":
            return np.array(items, dtype=dtype)
        return pd.array([None if draw(st.integers(0, 3)) == 0 else v for v in items], dtype=dtype)
    if kind == "uint8":
        return np.array(draw(st.lists(st.integers(0, 255), min_size=n, max_size=n)), dtype=np.uint8)
    if kind == "float":
        return np.array(draw(st.lists(st.floats(), min_size=n, max_size=n)), dtype=float)
    if kind == "bool":
        return np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
    if kind == "str":
        return pd.array(draw(st.lists(st.text(max_size=4), min_size=n, max_size=n)), dtype="str")
    if kind == "object":
        items = draw(
            st.lists(st.one_of(st.integers(), st.text(max_size=3), st.none()), min_size=n, max_size=n)
        )
        return pd.array(items, dtype=object)
    if kind == "dicts":
        leaf = st.one_of(st.integers(), st.floats(allow_nan=False), st.none(), st.text(max_size=2))
        items = draw(st.lists(st.dictionaries(st.text(max_size=2), leaf, max_size=3), min_size=n, max_size=n))
        return pd.array(items, dtype=object)
    if kind == "category":
        items = draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=n, max_size=n))
        categories = pd.Index(["a", "b", "c", "unused"], dtype="str")
        return pd.Categorical(items, categories=categories, ordered=draw(st.booleans()))
    if kind == "category_int":
        return pd.Categorical(
            draw(st.lists(st.sampled_from([3, 1, 2]), min_size=n, max_size=n)), ordered=True
        )
    moments = st.lists(st.integers(0, 2**32).map(lambda s: s * 1_000_000), min_size=n, max_size=n)
    if kind == "datetime":
        return pd.to_datetime(draw(moments), unit="us").as_unit(draw(st.sampled_from(units)))
    if kind == "datetime_s":
        return np.array(draw(moments), dtype="datetime64[us]").astype("datetime64[s]")
    if kind == "datetime_tz":
        unit = draw(st.sampled_from(units))
        moment = pd.to_datetime(draw(moments), unit="us").as_unit(unit)
        return moment.tz_localize("UTC").tz_convert(draw(st.sampled_from(TIMEZONES)))
    if kind == "timedelta":
        return pd.to_timedelta(draw(st.lists(ints, min_size=n, max_size=n)), unit="s")
    if kind == "Int64":
        return pd.array(draw(st.lists(st.one_of(st.none(), ints), min_size=n, max_size=n)), dtype="Int64")
    if kind == "boolean":
        return pd.array(
            draw(st.lists(st.one_of(st.none(), st.booleans()), min_size=n, max_size=n)), dtype="boolean"
        )
    if kind == "Float64":
        return pd.array(
            draw(st.lists(st.one_of(st.none(), st.floats(allow_nan=False)), min_size=n, max_size=n)),
            dtype="Float64",
        )
    return pd.array(
        draw(st.lists(st.one_of(st.none(), st.text(max_size=3)), min_size=n, max_size=n)), dtype="string"
    )


@st.composite
def frames(draw: st.DrawFn, kinds: list[str] = ALL_KINDS, plain: bool = False) -> pd.DataFrame:
    """Frames of `kinds` of columns; `plain`: string labels, a range index, no attrs (parquet holds those)."""
    n = draw(st.integers(int(plain), 6))  # (no rows: parquet loses categories, so those are pickled)
    units = ["ms", "us", "ns"] if plain else ["s", "ms", "us", "ns"]
    # (no columns at all: the labels are a RangeIndex, which parquet does not keep)
    names = draw(st.lists(st.text(min_size=1, max_size=3), min_size=int(plain), max_size=5, unique=True))
    frame = pd.DataFrame({name: draw(columns(n, kinds, units)) for name in names}, index=pd.RangeIndex(n))
    indexes = ["range", "stepped", "named"] + ([] if plain else ["labels", "ints"])
    index = draw(st.sampled_from(indexes))
    if index == "stepped":
        frame.index = pd.RangeIndex(10, 10 + 3 * n, 3)
    elif index == "named":
        frame.index.name = "row"
    elif index == "labels":
        frame.index = pd.Index([f"r{i}" for i in range(n)])
    elif index == "ints":
        frame.index = pd.Index(
            draw(st.lists(st.integers(-(2**62), 2**62), min_size=n, max_size=n)), dtype="int64"
        )
    if plain:
        return frame
    if draw(st.booleans()) and len(frame.columns):
        frame.columns = pd.Index(list(range(len(frame.columns))))  # labels that are not strings
    if draw(st.integers(0, 5)) == 0:
        frame.attrs["source"] = "generated"
    return frame


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames())
def test_frames_with_every_kind_of_column_come_back_exactly(frame: pd.DataFrame) -> None:
    loaded, meta = roundtrip(frame)
    assert_same(frame, loaded)
    assert meta["format"] in ("parquet", "pickle")


@FAST
@given(frames(PARQUET_KINDS, plain=True))
def test_frames_that_parquet_holds_are_parquet_and_come_back_exactly(frame: pd.DataFrame) -> None:
    loaded, meta = roundtrip(frame)
    assert_same(frame, loaded)
    assert meta["format"] == "parquet"


def test_plain_frames_are_parquet_and_can_be_changed_in_place() -> None:
    frame = pd.DataFrame({"a": [1, 2], "b": [0.5, 1.5], "when": pd.date_range("2024", periods=2, tz="UTC")})
    loaded, meta = roundtrip(frame)
    assert meta["format"] == "parquet"
    assert_same(frame, loaded)
    loaded.loc[0, "a"] = 7
    loaded["c"] = loaded["a"] * 2
    assert loaded["c"].tolist() == [14, 4]


def test_a_column_of_dicts_keeps_its_dicts() -> None:
    frame = pd.DataFrame({"meta": [{"k": 1}, {"k": 2, "j": "x"}, {}]})
    loaded, _ = roundtrip(frame)
    assert loaded["meta"].tolist() == [{"k": 1}, {"k": 2, "j": "x"}, {}]
    assert type(loaded["meta"][0]["k"]) is int


# -- values that refer to code of the notebook ----------------------------------------------------


def test_values_refer_to_classes_and_functions_of_setup_cells(notebook_module: dict[str, Any]) -> None:
    value = {
        "points": [notebook_module["Point"](1, 2)],
        "fn": notebook_module["scale"],
        "cls": notebook_module["Box"],
    }
    loaded, meta = roundtrip(value)
    assert meta["format"] == "pickle" and loaded["fn"](3) == 6 and loaded["cls"] is notebook_module["Box"]
    assert_same(value, loaded)


def test_a_value_that_refers_to_a_function_of_this_step_names_it(notebook_module: dict[str, Any]) -> None:
    exec("def local_rule(x):\n    return x\n\nclass Local:\n    pass\n", notebook_module)
    with pytest.raises(
        TypeError, match=r"'v' refers to the function 'local_rule', defined in this step.*setup"
    ):
        roundtrip({"rule": notebook_module["local_rule"], "n": 1})
    with pytest.raises(TypeError, match=r"'v' is an instance of class 'Local', defined in this step"):
        roundtrip(notebook_module["Local"]())
    with pytest.raises(TypeError, match=r"'v' refers to the class 'Local', defined in this step"):
        roundtrip([[notebook_module["Local"]()]])
    with pytest.raises(TypeError, match=r"'v' refers to a lambda.*top-level def in a %%pipeline setup"):
        roundtrip({"key": eval("lambda r: r", notebook_module)})


def test_an_int_parameter_too_large_for_kfp_is_refused_naming_it() -> None:
    from jupyter_mlops.step_runtime.run import _mlops_param

    assert _mlops_param(np.int64(2**53), "int", "make", "seed") == 2**53
    with pytest.raises(TypeError, match=r"step 'make': 'seed' holds 9007199254740993, too large an int"):
        _mlops_param(2**53 + 1, "int", "make", "seed")
