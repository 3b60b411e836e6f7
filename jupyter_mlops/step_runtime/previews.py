# A small picture of each value a compiled step stores, made in the step: inlined like values.py.
#
# Standard library only, nothing of this package imported, no module-level code but imports and
# definitions, names starting with `_mlops_` (see values.py). The preview is made from the live
# value when the step stores it (no file is read back, nothing is unpickled later to show it: the
# kernel and the server only read this JSON), and kept in the artifact's metadata. Its cost is bounded
# whatever the value's size: a frame shows its shape, dtypes and first rows; an array its shape, dtype
# and min/max/mean and histogram over at most _MLOPS_SAMPLE elements (a strided sample of larger
# ones, no copy of the whole); anything else its repr, cut (JSON-like data laid out as pprint does).
# A preview never fails the step.
import itertools
import sys
from typing import Any, Dict, List

_MLOPS_SAMPLE = 1000000  # array elements looked at, at most
_MLOPS_ROWS = 5
_MLOPS_COLUMNS = 20
_MLOPS_CELL_CHARS = 40
_MLOPS_TEXT_CHARS = 1000
_MLOPS_BINS = 20
_MLOPS_ITEMS = 20  # items of a list, tuple, set or dict shown
_MLOPS_THUMB = 128  # pixels on a side of an image's thumbnail
_MLOPS_WIDTH = 79  # a dict, or a list or tuple of containers, longer than this: one item a line


def _mlops_cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _mlops_table_preview(frame: Any) -> Dict[str, Any]:
    columns = list(frame.columns[:_MLOPS_COLUMNS])
    head = frame.iloc[:_MLOPS_ROWS, :_MLOPS_COLUMNS]
    rows: List[List[str]] = []
    for i in range(len(head)):
        rows.append([_mlops_cut(str(v), _MLOPS_CELL_CHARS) for v in head.iloc[i].tolist()])
    return {
        "kind": "table",
        "shape": [int(n) for n in frame.shape],
        "columns": [_mlops_cut(str(c), _MLOPS_CELL_CHARS) for c in columns],
        "dtypes": [str(frame.dtypes.iloc[i]) for i in range(len(columns))],
        "index": [_mlops_cut(str(v), _MLOPS_CELL_CHARS) for v in head.index.tolist()],
        "rows": rows,
    }


def _mlops_sample(array: Any) -> Any:
    """A strided view of at most about _MLOPS_SAMPLE elements of `array` (no copy of the whole)."""
    size = int(array.size)
    if size <= _MLOPS_SAMPLE or array.ndim == 0:
        return array, False
    step = 1
    while size > _MLOPS_SAMPLE:
        step += 1
        size = 1
        for n in array.shape:
            size *= -(-int(n) // step)
    return array[tuple(slice(None, None, step) for _ in array.shape)], True


def _mlops_array_preview(array: Any) -> Dict[str, Any]:
    numpy = sys.modules["numpy"]
    preview: Dict[str, Any] = {
        "kind": "array",
        "shape": [int(n) for n in array.shape],
        "dtype": str(array.dtype),
    }
    if array.dtype.kind not in "biuf" or array.size == 0:
        preview["text"] = _mlops_cut(repr(array), _MLOPS_TEXT_CHARS)
        return preview
    sample, sampled = _mlops_sample(array)
    values = numpy.asarray(sample, dtype="float64").ravel()
    finite = values[numpy.isfinite(values)]
    preview["sampled"] = sampled
    if finite.size:
        lo, hi = float(finite.min()), float(finite.max())
        preview.update(min=lo, max=hi, mean=float(finite.mean()))
        counts, edges = numpy.histogram(finite, bins=_MLOPS_BINS, range=(lo, hi) if hi > lo else None)
        preview["histogram"] = {
            "counts": [int(c) for c in counts],
            "edges": [float(edges[0]), float(edges[-1])],
        }
    if finite.size < values.size:
        preview["non_finite"] = int(values.size - finite.size)
    return preview


def _mlops_short_repr(value: Any, depth: int) -> str:
    """repr(value), but lists, tuples, sets and dicts show at most _MLOPS_ITEMS items each (in their
    own order) and strings 200 characters: a list of a million items is not written out whole."""
    t = type(value)
    if t is str:
        return repr(value) if len(value) <= 200 else repr(value[:200]) + "\u2026"
    if t not in (list, tuple, set, frozenset, dict):
        return repr(value)
    if depth >= 4:
        return "{\u2026}" if t is dict else "[\u2026]"
    if t is dict:
        items = [
            "%s: %s" % (_mlops_short_repr(k, depth + 1), _mlops_short_repr(v, depth + 1))
            for k, v in itertools.islice(value.items(), _MLOPS_ITEMS)
        ]
    else:
        items = [_mlops_short_repr(v, depth + 1) for v in itertools.islice(value, _MLOPS_ITEMS)]
    if len(value) > _MLOPS_ITEMS:
        items.append("\u2026 %d more" % (len(value) - _MLOPS_ITEMS))
    if t is tuple:
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    if t in (set, frozenset) and not items:
        return t.__name__ + "()"
    body = ", ".join(items)
    if t is list:
        return "[" + body + "]"
    if t is dict or t is set:
        return "{" + body + "}"
    return "frozenset({" + body + "})"


def _mlops_pretty(value: Any, depth: int, indent: int) -> str:
    """_mlops_short_repr, laid out as pprint does when it is too long for a line: a dict's items, or a
    list's or tuple's items when they are containers (JSON-like data), one a line, indented."""
    flat = _mlops_short_repr(value, depth)
    t = type(value)
    if indent + len(flat) <= _MLOPS_WIDTH or t not in (list, tuple, dict) or depth >= 4 or not value:
        return flat
    if t is dict:
        parts = []
        for k, v in itertools.islice(value.items(), _MLOPS_ITEMS):
            key = _mlops_short_repr(k, depth + 1) + ": "
            parts.append(key + _mlops_pretty(v, depth + 1, indent + 1 + len(key)))
    else:
        shown = list(itertools.islice(value, _MLOPS_ITEMS))
        if not any(type(v) in (list, tuple, dict) for v in shown):
            return flat  # a list of numbers or strings stays on its line
        parts = [_mlops_pretty(v, depth + 1, indent + 1) for v in shown]
    if len(value) > _MLOPS_ITEMS:
        parts.append("\u2026 %d more" % (len(value) - _MLOPS_ITEMS))
    brackets = "{}" if t is dict else "[]" if t is list else "()"
    last = "," if t is tuple and len(value) == 1 else ""
    return brackets[0] + (",\n" + " " * (indent + 1)).join(parts) + last + brackets[1]


def _mlops_thumbnail(image: Any) -> Dict[str, Any]:
    """A PIL image as a PNG at most _MLOPS_THUMB pixels on a side, base64 (a copy is shrunk)."""
    import base64
    import io

    small = image.copy()
    small.thumbnail((_MLOPS_THUMB, _MLOPS_THUMB))
    if small.mode not in ("RGB", "RGBA", "L", "LA", "P"):
        small = small.convert("RGB")
    buffer = io.BytesIO()
    small.save(buffer, format="PNG")
    return {
        "kind": "image",
        "size": [int(n) for n in image.size],
        "mode": str(image.mode),
        "png": base64.b64encode(buffer.getvalue()).decode("ascii"),
    }


def _mlops_looks_like_image(array: Any) -> bool:
    """uint8, height x width (grey) or height x width x 3 or 4 (RGB, RGBA)."""
    if array.dtype.kind != "u" or array.dtype.itemsize != 1 or array.ndim not in (2, 3):
        return False
    return array.ndim == 2 or array.shape[2] in (3, 4)


def _mlops_thumbnail_of_array(array: Any) -> Dict[str, Any]:
    """A thumbnail of a uint8 array shaped like an image, when PIL is at hand (else nothing)."""
    try:
        from PIL import Image
    except ImportError:
        return {}
    step = max(1, -(-max(int(array.shape[0]), int(array.shape[1])) // (_MLOPS_THUMB * 4)))
    small = array[::step, ::step]  # a strided view first: no conversion of a huge image
    shown = _mlops_thumbnail(Image.fromarray(small.copy()))
    return {"png": shown["png"]}


def _mlops_preview(value: Any) -> Dict[str, Any]:
    """The preview of one value (never raises: an error becomes a preview saying so)."""
    try:
        t = type(value)
        module = t.__module__.split(".")[0]
        if module == "pandas" and t.__name__ == "DataFrame":
            return _mlops_table_preview(value)
        if module == "pandas" and t.__name__ == "Series":
            return _mlops_table_preview(value.to_frame())
        if module == "numpy" and t.__name__ == "ndarray":
            preview = _mlops_array_preview(value)
            if _mlops_looks_like_image(value):  # a thumbnail too
                preview.update(_mlops_thumbnail_of_array(value))
            return preview
        if module == "PIL" and hasattr(value, "thumbnail") and hasattr(value, "size"):
            return _mlops_thumbnail(value)
        if isinstance(value, str):
            return {"kind": "text", "text": _mlops_cut(value, _MLOPS_TEXT_CHARS), "length": len(value)}
        return {"kind": "text", "text": _mlops_cut(_mlops_pretty(value, 0, 0), _MLOPS_TEXT_CHARS)}
    except Exception as exc:
        return {"kind": "none", "error": _mlops_cut("%s: %s" % (type(exc).__name__, exc), 200)}
