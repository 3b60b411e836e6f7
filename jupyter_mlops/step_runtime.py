# The code that the compiler inlines into every compiled step.
#
# This file's source is pasted, indented, into the body of each generated kfp component function, so it
# must stay self-contained: standard library only, no imports of jupyter_mlops, no module-level code but
# imports and definitions, and syntax that a stock python:3.x image runs. The compiler checks that the
# generated component still imports nothing of this package; tests import this module directly too.
import ast
import json
import os
import pickle
import sys
import time
import types
from typing import Any, Dict, List, Optional, Tuple

_MLOPS_NOTEBOOK_MODULE = "__mlops_notebook__"


def _mlops_is_json(value: Any, depth: int = 0) -> bool:
    if depth > 100:
        return False
    if value is None or isinstance(value, (bool, int, float, str)):
        return type(value) in (type(None), bool, int, float, str)
    if type(value) is list:
        return all(_mlops_is_json(v, depth + 1) for v in value)
    if type(value) is dict:
        return all(type(k) is str and _mlops_is_json(v, depth + 1) for k, v in value.items())
    return False


def _mlops_type_name(value: Any) -> str:
    t = type(value)
    mod = t.__module__
    if mod in ("builtins", _MLOPS_NOTEBOOK_MODULE):
        return t.__qualname__
    return mod + "." + t.__qualname__


def _mlops_save(path: str, value: Any, step: str, var: str, setup_names: Any) -> Dict[str, Any]:
    """Write `value` into the artifact directory `path`, by type; return the artifact's metadata."""
    os.makedirs(path, exist_ok=True)
    t = type(value)
    meta: Dict[str, Any] = {"type": _mlops_type_name(value), "variable": var}
    if t.__module__ == _MLOPS_NOTEBOOK_MODULE and t.__qualname__.split(".")[0] not in setup_names:
        raise TypeError(
            "step %r: %r is an instance of class %r, which is defined in this step, so later steps "
            "cannot load it. Move the class into the %%%%pipeline setup cell." % (step, var, t.__qualname__)
        )
    if isinstance(value, (types.FunctionType, types.ModuleType, type)):
        raise TypeError(
            "step %r: %r is a %s; later steps cannot receive it as data. Define it in the "
            "%%%%pipeline setup cell instead." % (step, var, t.__name__)
        )
    if t.__module__ == "numpy" and t.__name__ == "ndarray" and value.dtype.kind != "O":
        import numpy

        with open(os.path.join(path, "value.npy"), "wb") as f:
            numpy.save(f, value, allow_pickle=False)
        meta.update(format="npy", shape=list(value.shape), dtype=str(value.dtype))
        return meta
    if t.__module__.startswith("pandas") and t.__name__ == "DataFrame":
        try:
            import pyarrow  # noqa: F401

            value.to_parquet(os.path.join(path, "value.parquet"))
            meta.update(format="parquet", shape=list(value.shape))
            return meta
        except Exception:  # no pyarrow, or a frame parquet cannot hold (e.g. mixed column names)
            for leftover in ("value.parquet",):
                if os.path.exists(os.path.join(path, leftover)):
                    os.remove(os.path.join(path, leftover))
    if _mlops_is_json(value):
        with open(os.path.join(path, "value.json"), "w", encoding="utf-8") as f:
            json.dump(value, f)
        meta["format"] = "json"
        return meta
    try:
        data = pickle.dumps(value, protocol=4)
    except Exception as exc:
        raise TypeError(
            "step %r: variable %r of type %s cannot be passed to later steps (pickle failed: %s). "
            "Convert it (e.g. to a list or a numpy array), or recompute it in the step that needs it."
            % (step, var, _mlops_type_name(value), exc)
        ) from None
    with open(os.path.join(path, "value.pkl"), "wb") as f:
        f.write(data)
    meta["format"] = "pickle"
    return meta


_MLOPS_UNBOUND = object()  # an output the producing step left unbound on the path it took


def _mlops_load(path: str, step: str, var: str) -> Any:
    """Read a value written by _mlops_save (the artifact directory `path`)."""
    if os.path.exists(os.path.join(path, "value.unbound")):
        return _MLOPS_UNBOUND
    for name in ("value.npy", "value.parquet", "value.json", "value.pkl"):
        file = os.path.join(path, name)
        if not os.path.exists(file):
            continue
        try:
            if name == "value.npy":
                import numpy

                return numpy.load(file, allow_pickle=False)
            if name == "value.parquet":
                import pandas

                return pandas.read_parquet(file)
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
    raise FileNotFoundError("step %r: input %r has no value file in %s" % (step, var, path))


def _mlops_param(value: Any, kind: str, step: str, var: str) -> Any:
    """Check and convert a parameter output to its declared KFP type."""
    try:
        if kind == "float" and not isinstance(value, (bool, str)):
            return float(value)
        if kind == "int" and not isinstance(value, (bool, str)) and int(value) == value:
            return int(value)
        if kind == "bool" and type(value).__name__ in ("bool", "bool_"):
            return bool(value)
        if kind == "str" and isinstance(value, str):
            return value
        if kind in ("list", "dict") and _mlops_is_json(value) and type(value).__name__ == kind:
            return value
    except (TypeError, ValueError, OverflowError):
        pass
    raise TypeError(
        "step %r: %r should be a %s (from its code or annotation) but holds a %s. Fix the value or its "
        "annotation." % (step, var, kind, _mlops_type_name(value))
    )


def _mlops_shim(metrics: Any, logdir: Any) -> types.ModuleType:
    """A stand-in `jupyter_mlops` module inside the step: log_metric and logdir with no package needed."""
    shim = types.ModuleType("jupyter_mlops")

    def log_metric(name: str, value: float, step: Optional[int] = None) -> None:
        value = float(value)
        if metrics is not None:
            metrics.log_metric(name, value)
        sink = os.environ.get("JUPYTER_MLOPS_METRICS_FILE")
        if sink:
            line = {"name": name, "value": value, "step": step, "time": time.time()}
            with open(sink, "a", encoding="utf-8") as f:
                f.write(json.dumps(line) + "\n")

    def log_dir() -> str:
        if logdir is None:
            raise RuntimeError("logdir() is only available in steps whose code calls it by name")
        os.makedirs(logdir.path, exist_ok=True)
        return str(logdir.path)

    shim.log_metric = log_metric  # type: ignore[attr-defined]
    shim.logdir = log_dir  # type: ignore[attr-defined]
    return shim


def _mlops_run_step(
    step: str,
    setup: str,
    cell: str,
    args: Dict[str, Any],
    inputs: Dict[str, Tuple[str, str]],
    outputs: Dict[str, Tuple[str, str]],
    result: bool,
) -> Optional[Tuple[Any, ...]]:
    """Run one notebook step: load inputs, run setup and the cell, save outputs.

    `inputs` and `outputs` map the component's argument names to (variable name, kind), where kind is
    "artifact" or a parameter type (int, float, str, bool, list, dict).
    """
    module = types.ModuleType(_MLOPS_NOTEBOOK_MODULE)
    sys.modules[_MLOPS_NOTEBOOK_MODULE] = module  # pickled classes from the setup cell resolve here
    ns = module.__dict__
    shim = _mlops_shim(args.get("mlops_metrics"), args.get("mlops_logdir"))
    sys.modules["jupyter_mlops"] = shim
    ns.update(log_metric=shim.log_metric, logdir=shim.logdir, mlops=shim)
    exec(compile(setup, "<pipeline setup>", "exec"), ns)
    setup_names = set(ns)
    for arg, (var, kind) in sorted(inputs.items()):
        value = args[arg]
        value = _mlops_load(value.path, step, var) if kind == "artifact" else value
        if value is not _MLOPS_UNBOUND:  # as in the notebook: the name is simply not defined
            ns[var] = value
    tree = ast.parse(cell, "<step %s>" % step)
    last: Optional[ast.expr] = None
    if result and tree.body and isinstance(tree.body[-1], ast.Expr):
        last = tree.body[-1].value
        tree.body.pop()
    exec(compile(tree, "<step %s>" % step, "exec"), ns)
    if last is not None:
        ns["__mlops_result__"] = eval(compile(ast.Expression(last), "<step %s>" % step, "eval"), ns)
    values: List[Any] = []
    for arg, (var, kind) in outputs.items():
        key = "__mlops_result__" if arg == "result" and result else var
        if key not in ns and kind == "artifact":
            # Bound on some paths only (or deleted): later steps see it undefined, as in the notebook.
            os.makedirs(args[arg].path, exist_ok=True)
            open(os.path.join(args[arg].path, "value.unbound"), "w").close()
            args[arg].metadata.update(format="unbound", variable=var)
            continue
        if key not in ns:
            raise NameError(
                "step %r did not define %r, which later steps read. Assign it on every path through "
                "the cell, or list the outputs with --outputs." % (step, var)
            )
        value = ns[key]
        if kind == "artifact":
            artifact = args[arg]
            meta = _mlops_save(artifact.path, value, step, var, setup_names)
            if arg == "result":
                meta["repr"] = repr(value)[:500]
            artifact.metadata.update(meta)
        else:
            values.append(_mlops_param(value, kind, step, var))
    return tuple(values) if values else None
