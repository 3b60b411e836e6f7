# How a compiled step writes a value for later steps and reads it back: pasted into the steps that do.
#
# Like run.py, the functions of this file are pasted into the module of each generated kfp
# component that uses them, so it is standard library only, imports nothing of this package and has no
# module-level code but imports, definitions and constants (literals, or the name of a function here).
# Its names start with `_mlops_` (constants `_MLOPS_`).
#
# A value is written in a format only when that format gives back exactly what the step had (same type,
# dtype, contents, writability): JSON for plain JSON values, .npy for numpy arrays npy holds exactly,
# parquet for data frames whose columns parquet holds exactly, else pickle. The choice is made from the
# value itself with cheap structural checks (never by reading a large file back).
#
# The compiler pastes into a step only the functions that step uses (runtime_source.py): each def at
# the top of the step's module, its imports moved into it, the `_MLOPS_*` constants written in where
# they are read, and the code under a switch the step does not use (`if _MLOPS_PANDAS ...`) left out.
import json
import os
import pickle
import types
from typing import Any, Dict, Optional

_MLOPS_NOTEBOOK_MODULE = "__mlops_notebook__"
_MLOPS_PIECE_BYTES = 1048576  # 1 MiB: a large array is written in pieces of this size (_mlops_write_npy)
_MLOPS_MAP_BYTES = 67108864  # 64 MiB: an array file this large is mapped copy-on-write when loaded
# Switch: a step keeps the parquet code (data frames) only if its pipeline may make a pandas frame.
_MLOPS_PANDAS = True


def _mlops_unbound() -> None:
    """Stands for an output the producing step left unbound on the path it took (a function: a unique
    object that a step's module can define at its top level, as the compiler pastes it)."""


_MLOPS_UNBOUND = _mlops_unbound


def _mlops_is_json(value: Any, seen: Optional[Dict[int, bool]] = None, depth: int = 0) -> bool:
    """True if json.dump/json.load give back exactly `value` (types, key order, no shared containers)."""
    if value is None or type(value) in (bool, int, float, str):
        return True
    if depth > 100 or type(value) not in (list, dict):
        return False
    seen = {} if seen is None else seen
    if id(value) in seen:  # a container met twice would come back as two copies
        return False
    seen[id(value)] = True
    if type(value) is list:
        return all(_mlops_is_json(v, seen, depth + 1) for v in value)
    return all(type(k) is str and _mlops_is_json(v, seen, depth + 1) for k, v in value.items())


def _mlops_type_name(value: Any) -> str:
    t = type(value)
    mod = t.__module__
    if mod in ("builtins", "__main__", _MLOPS_NOTEBOOK_MODULE):
        return t.__qualname__
    return mod + "." + t.__qualname__


def _mlops_npy_exact(value: Any) -> bool:
    """A plain numpy array that .npy holds without pickle: same dtype, shape and contents."""
    t = type(value)
    if t.__module__ != "numpy" or t.__name__ != "ndarray":  # subclasses (matrix, masked) keep pickle
        return False
    return not value.dtype.hasobject


_MLOPS_PARQUET_KINDS = "biu"  # bool, ints, unsigned ints (floats and datetimes checked on their own)


def _mlops_parquet_exact(value: Any) -> bool:
    """A DataFrame that parquet gives back exactly (the checks look at labels and dtypes, not rows)."""
    t = type(value)
    if not t.__module__.startswith("pandas") or t.__name__ != "DataFrame":
        return False
    import pandas

    columns = value.columns
    if type(columns) is not pandas.Index or not all(type(c) is str for c in columns) or not columns.is_unique:
        return False
    if value.attrs or not value.flags.allows_duplicate_labels:
        return False
    index = value.index
    if type(index) is not pandas.RangeIndex or not (index.name is None or type(index.name) is str):
        return False
    if str(columns.dtype) not in ("object", "str") or columns.name is not None:
        return False
    for dtype in value.dtypes:
        if not _mlops_parquet_dtype(dtype, pandas):
            return False
        if isinstance(dtype, pandas.CategoricalDtype) and not len(value):
            return False  # with no rows parquet loses the categories
    return True


def _mlops_parquet_dtype(dtype: Any, pandas: Any) -> bool:
    if isinstance(dtype, pandas.CategoricalDtype):
        cats = dtype.categories
        return str(cats.dtype) == "str"  # parquet gives back integer categories as plain integers
    if isinstance(dtype, pandas.DatetimeTZDtype):
        return dtype.unit in ("ms", "us", "ns")  # parquet has no seconds: they come back as ms
    name = str(dtype)
    if name in ("Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64", "boolean"):
        return True
    if name in ("Float32", "Float64", "str", "string"):
        return True
    kind = getattr(dtype, "kind", "")
    if type(dtype).__module__.split(".")[0] == "numpy" and dtype.byteorder in "=|":
        if kind == "M":
            return name in ("datetime64[ms]", "datetime64[us]", "datetime64[ns]")
        return kind in _MLOPS_PARQUET_KINDS or name in ("float32", "float64")
    return False


def _mlops_notebook_refs(value: Any) -> Dict[str, str]:
    """Functions and classes of the notebook's own module that pickling `value` refers to, by name."""
    found: Dict[str, str] = {}

    class _Finder(pickle.Pickler):
        def reducer_override(self, obj: Any) -> Any:
            if isinstance(obj, (types.FunctionType, type)) and obj.__module__ in (
                "__main__",
                _MLOPS_NOTEBOOK_MODULE,
            ):
                found[obj.__qualname__] = "class" if isinstance(obj, type) else "function"
            return NotImplemented

    class _Sink:
        def write(self, data: bytes) -> int:
            return len(data)

    try:
        _Finder(_Sink(), protocol=4).dump(value)
    except Exception:
        pass
    return found


def _mlops_shown(qualname: str) -> str:
    return "a lambda" if qualname.endswith("<lambda>") else "the nested function %r" % qualname


def _mlops_pickle(value: Any, step: str, var: str, setup_names: Any) -> bytes:
    error: Optional[Exception] = None
    try:
        data = pickle.dumps(value, protocol=4)
    except Exception as exc:
        data, error = b"", exc
    if error is not None or b"__main__" in data or _MLOPS_NOTEBOOK_MODULE.encode() in data:
        # The value refers to code of the notebook: fine if a setup cell defines it (every step runs
        # the setup cells), not if this step does (later steps do not run this step's code).
        refs = _mlops_notebook_refs(value)
        local = {n: k for n, k in refs.items() if n.split(".")[0] not in setup_names}
        nested = sorted(n for n in refs if "<" in n)  # a lambda, or a def inside a function
        if nested:
            raise TypeError(
                "step %r: variable %r refers to %s, which cannot be stored for later steps. Make it a "
                "top-level def in a %%%%pipeline setup cell." % (step, var, _mlops_shown(nested[0]))
            )
        if local:
            name, what = sorted(local.items())[0]
            if what == "class" and name == _mlops_type_name(value):
                how = "is an instance of class %r" % name
            else:
                how = "refers to the %s %r" % (what, name)
            raise TypeError(
                "step %r: variable %r %s, defined in this step, so later steps cannot load it. Move that "
                "definition into a %%%%pipeline setup cell (every step runs those)." % (step, var, how)
            )
    if error is not None:
        raise TypeError(
            "step %r: variable %r of type %s cannot be passed to later steps (pickle failed: %s). "
            "Convert it (e.g. to a list or a numpy array), or recompute it in the step that needs it."
            % (step, var, _mlops_type_name(value), error)
        )
    return data


def _mlops_write_npy(f: Any, value: Any) -> None:
    """numpy.save, but a large C-ordered array's bytes are written a piece at a time (as cp does): one
    write of a whole large buffer makes the kernel take large page-cache blocks, which on a VM that
    hands free memory back to its host costs several times the copy (1 GiB: ~4 s against ~1 s)."""
    import numpy

    plain = value.dtype.fields is None and value.dtype.subdtype is None  # (a short, latin-1 header)
    if value.nbytes < _MLOPS_PIECE_BYTES * 8 or not value.flags.c_contiguous or not plain:
        numpy.save(f, value, allow_pickle=False)
        return
    numpy.lib.format.write_array_header_1_0(f, numpy.lib.format.header_data_from_array_1_0(value))
    data = value.reshape(-1).view(numpy.uint8)
    for start in range(0, data.size, _MLOPS_PIECE_BYTES):
        f.write(data[start : start + _MLOPS_PIECE_BYTES])


def _mlops_save(path: str, value: Any, step: str, var: str, setup_names: Any) -> Dict[str, Any]:
    """Write `value` into the artifact directory `path` in a format that gives it back exactly."""
    os.makedirs(path, exist_ok=True)
    meta: Dict[str, Any] = {"type": _mlops_type_name(value), "variable": var}
    if isinstance(value, types.ModuleType):
        raise TypeError(
            "step %r: %r is a module; later steps cannot receive it as data. Import it in a "
            "%%%%pipeline setup cell instead." % (step, var)
        )
    # A function or class (`metric = accuracy_score`, `f = helper`) is stored by reference, as pickle
    # does: loadable where its module, the setup code or the reader's carried code defines it (checked).
    if _mlops_npy_exact(value):
        with open(os.path.join(path, "value.npy"), "wb") as f:
            _mlops_write_npy(f, value)
        meta.update(format="npy", shape=list(value.shape), dtype=str(value.dtype))
        if not value.flags.writeable:
            meta["writeable"] = False
        return meta
    if _MLOPS_PANDAS and _mlops_parquet_exact(value):
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            pass
        else:
            file = os.path.join(path, "value.parquet")
            try:
                value.to_parquet(file)
            except Exception:  # a frame the checks let through but pyarrow refuses: pickle it
                if os.path.exists(file):
                    os.remove(file)
            else:
                meta.update(format="parquet", shape=list(value.shape))
                return meta
    if _mlops_is_json(value):
        with open(os.path.join(path, "value.json"), "w", encoding="utf-8") as f:
            json.dump(value, f)
        meta["format"] = "json"
        return meta
    data = _mlops_pickle(value, step, var, setup_names)
    with open(os.path.join(path, "value.pkl"), "wb") as f:
        f.write(data)
    meta["format"] = "pickle"
    return meta


def _mlops_save_result(path: str, value: Any, step: str, setup_names: Any) -> Dict[str, Any]:
    """The cell's last-line value: nothing for None, its repr when it cannot be stored as a value."""
    if value is None:
        os.makedirs(path, exist_ok=True)
        return {"format": "none", "variable": "result", "type": "NoneType", "repr": "None"}
    try:
        text = repr(value)
    except Exception as exc:
        text = "<%s object: repr failed: %s>" % (_mlops_type_name(value), exc)
    try:
        meta = _mlops_save(path, value, step, "result", setup_names)
    except Exception:
        with open(os.path.join(path, "value.txt"), "w", encoding="utf-8") as f:
            f.write(text)
        meta = {"format": "repr", "variable": "result", "type": _mlops_type_name(value)}
    meta["repr"] = text[:500]
    return meta


def _mlops_link_files(source: str, target: str) -> bool:
    """`target` made a folder of hard links to the files of the output folder `source` (a value stored
    once serves as the cell's last value too); False, leaving `target` empty, where links cannot be
    made (then the value is stored again)."""
    try:
        os.makedirs(target, exist_ok=True)
        for name in os.listdir(source):
            os.link(os.path.join(source, name), os.path.join(target, name))
        return True
    except OSError:
        for name in os.listdir(target) if os.path.isdir(target) else []:
            try:
                os.remove(os.path.join(target, name))
            except OSError:
                pass
        return False


def _mlops_same_value(meta: Dict[str, Any], value: Any) -> Dict[str, Any]:
    """The metadata of the cell's last value when it is the value of an output stored as `meta`."""
    out = {k: v for k, v in meta.items() if k not in ("preview", "variable")}
    try:
        text = repr(value)
    except Exception as exc:
        text = "<%s object: repr failed: %s>" % (_mlops_type_name(value), exc)
    out.update(variable="result", repr=text[:500])
    return out


def _mlops_load(path: str, step: str, var: str, meta: Optional[Dict[str, Any]] = None) -> Any:
    """Read a value written by _mlops_save (the artifact directory `path`)."""
    if os.path.exists(os.path.join(path, "value.unbound")):
        return _MLOPS_UNBOUND
    names = ("value.npy", "value.parquet") if _MLOPS_PANDAS else ("value.npy",)
    for name in (*names, "value.json", "value.pkl"):
        file = os.path.join(path, name)
        if not os.path.exists(file):
            continue
        try:
            if name == "value.npy":
                import numpy

                if os.path.getsize(file) >= _MLOPS_MAP_BYTES:
                    # Mapped copy-on-write, not read: the step gets its array at once, reads come
                    # from the page cache as it touches them, its writes stay its own.
                    array = numpy.load(file, mmap_mode="c", allow_pickle=False).view(numpy.ndarray)
                else:
                    array = numpy.load(file, allow_pickle=False)
                if meta and meta.get("writeable") is False:
                    array.flags.writeable = False
                return array
            if _MLOPS_PANDAS and name == "value.parquet":
                import pandas

                frame = pandas.read_parquet(file)
                if pandas.__version__.split(".")[0] in ("1", "2"):
                    # Without copy-on-write, columns pyarrow hands over without copying are read-only
                    # (the step's own frame was not): give the step a frame it can change in place.
                    arrays = [frame[c].values for c in frame.columns]
                    if any(getattr(a, "flags", None) is not None and not a.flags.writeable for a in arrays):
                        frame = frame.copy()
                return frame
            if name == "value.json":
                with open(file, encoding="utf-8") as f:
                    return json.load(f)
            with open(file, "rb") as f:
                return pickle.load(f)
        except ImportError as exc:
            raise ImportError(
                "step %r: input %r needs the package %r to load; add it with --packages."
                % (step, var, exc.name)
            ) from None
        except AttributeError as exc:
            if "__main__" not in str(exc) and _MLOPS_NOTEBOOK_MODULE not in str(exc):
                raise
            raise TypeError(
                "step %r: input %r refers to code that no setup cell defines (%s). Move that function "
                "or class into a %%%%pipeline setup cell." % (step, var, exc)
            ) from None
    raise FileNotFoundError("step %r: input %r has no value file in %s" % (step, var, path))
