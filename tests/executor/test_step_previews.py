"""Issue 11: the preview a step stores with each value, for the run views (made from the live value,
bounded in time and memory whatever the value's size)."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pandas as pd

from jupyter_mlops.step_runtime.previews import _mlops_preview


def test_a_frame_shows_its_shape_dtypes_and_first_rows() -> None:
    frame = pd.DataFrame({"a": range(100), "b": [f"row {i}" for i in range(100)], "c": [0.5] * 100})
    preview = _mlops_preview(frame)
    assert preview["kind"] == "table" and preview["shape"] == [100, 3]
    assert preview["columns"] == ["a", "b", "c"] and preview["dtypes"][0] == "int64"
    assert preview["rows"][:2] == [["0", "row 0", "0.5"], ["1", "row 1", "0.5"]] and len(preview["rows"]) == 5
    wide = _mlops_preview(pd.DataFrame(np.zeros((3, 50))))
    assert wide["shape"] == [3, 50] and len(wide["columns"]) == 20 and len(wide["rows"][0]) == 20
    series = _mlops_preview(pd.Series([1, 2, 3], name="n"))
    assert series["kind"] == "table" and series["columns"] == ["n"] and series["shape"] == [3, 1]


def test_an_array_shows_shape_dtype_stats_and_a_histogram() -> None:
    preview = _mlops_preview(np.array([[1.0, 2.0], [3.0, np.nan]], dtype="float32"))
    assert preview["kind"] == "array" and preview["shape"] == [2, 2] and preview["dtype"] == "float32"
    assert (preview["min"], preview["max"], preview["mean"]) == (1.0, 3.0, 2.0)
    assert sum(preview["histogram"]["counts"]) == 3 and preview["non_finite"] == 1
    assert preview["sampled"] is False
    words = _mlops_preview(np.array(["a", "b"]))
    assert words["dtype"] == "<U1" and "array(['a', 'b']" in words["text"]


def test_a_1_gb_array_is_previewed_from_a_bounded_sample() -> None:
    big = np.broadcast_to(np.arange(1000, dtype="float64"), (125_000, 1000))  # 1 GB, one row of memory
    assert big.nbytes == 1_000_000_000
    tracemalloc.start()
    try:
        preview = _mlops_preview(big)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 * 1024 * 1024, peak  # far below the array's size: no copy of the whole
    assert preview["shape"] == [125_000, 1000] and preview["sampled"] is True
    assert preview["min"] == 0.0 and 990.0 <= preview["max"] <= 999.0
    assert sum(preview["histogram"]["counts"]) <= 1_000_000


def test_text_and_other_values_are_cut() -> None:
    assert (
        _mlops_preview("x" * 5000)["text"].endswith("\u2026") and _mlops_preview("x" * 5000)["length"] == 5000
    )
    huge = list(range(10_000_000))
    tracemalloc.start()
    try:
        preview = _mlops_preview(huge)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert preview["kind"] == "text" and preview["text"].startswith("[0, 1, 2") and len(preview["text"]) < 300
    assert peak < 1024 * 1024, peak  # not the repr of ten million numbers

    assert _mlops_preview({"b": [1, (2,)], "a": {3}})["text"] == "{'b': [1, (2,)], 'a': {3}}"  # as repr
    assert _mlops_preview(set())["text"] == "set()"
    assert _mlops_preview(list(range(25)))["text"].endswith("19, \u2026 5 more]")

    class Broken:
        def __repr__(self) -> str:
            raise RuntimeError("no repr")

    assert _mlops_preview(Broken())["kind"] in ("text", "none")  # a preview never fails the step


def test_images_get_a_bounded_thumbnail() -> None:
    import base64
    import io

    from PIL import Image

    photo = Image.new("RGB", (1200, 600), (200, 30, 30))
    preview = _mlops_preview(photo)
    assert preview["kind"] == "image" and preview["size"] == [1200, 600] and preview["mode"] == "RGB"
    thumb = Image.open(io.BytesIO(base64.b64decode(preview["png"])))
    assert max(thumb.size) <= 128 and thumb.getpixel((5, 5)) == (200, 30, 30)
    assert photo.size == (1200, 600)  # the step's own image is untouched

    pixels = np.zeros((4000, 3000, 3), dtype="uint8")
    pixels[:, :, 1] = 255
    tracemalloc.start()
    try:
        array = _mlops_preview(pixels)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert array["kind"] == "array" and array["shape"] == [4000, 3000, 3]
    small = Image.open(io.BytesIO(base64.b64decode(array["png"])))
    assert max(small.size) <= 128 and small.getpixel((1, 1)) == (0, 255, 0)
    assert peak < 48 * 1024 * 1024, peak  # not a copy of the 36 MB image
    assert "png" not in _mlops_preview(np.zeros((10, 10), dtype="float64"))  # floats: no picture


def test_json_like_values_are_pretty_printed_when_long() -> None:
    config = {
        "model": {"layers": [64, 32, 16], "activation": "relu", "dropout": 0.25},
        "optimizer": {"name": "adam", "lr": 0.001, "betas": [0.9, 0.999]},
        "epochs": 30,
    }
    text = _mlops_preview(config)["text"]
    assert text == (
        "{'model': {'layers': [64, 32, 16], 'activation': 'relu', 'dropout': 0.25},\n"
        " 'optimizer': {'name': 'adam', 'lr': 0.001, 'betas': [0.9, 0.999]},\n"
        " 'epochs': 30}"
    ), text
    rows = [{"id": i, "label": f"n{i}", "score": i / 10} for i in range(30)]
    lines = _mlops_preview(rows)["text"].splitlines()
    assert lines[0] == "[{'id': 0, 'label': 'n0', 'score': 0.0},"
    assert lines[1] == " {'id': 1, 'label': 'n1', 'score': 0.1},"
    assert lines[-1] == " \u2026 10 more]" and len(lines) == 21  # 20 items shown, then how many more
    long_rows = _mlops_preview([{"label": "x" * 60, "i": i} for i in range(30)])["text"]
    assert len(long_rows) == 1000 and long_rows.endswith("\u2026")  # cut, however it is laid out
    assert _mlops_preview({"a": 1})["text"] == "{'a': 1}"  # short: one line, as repr
