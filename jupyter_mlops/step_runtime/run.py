# The code that runs a notebook cell as a compiled step: compiled steps import `_mlops_run_step` from
# here, or, built with `--inline-runtime`, carry the functions of this package they use in their own
# source (compiler/runtime_source.py pastes them at the module's top level: no argument of the component
# function, a user's variable called `time`, `json`, `open`, ..., can shadow what this code uses, and
# each function imports what it needs itself). That is why these files must stay self-contained:
# standard library only, no imports of jupyter_mlops but of this package (the `from .values import`
# lines below are dropped when pasting), no module-level code but imports, definitions and constants,
# syntax that a stock python:3.x image runs. The switches below are True here (imported, the module
# has every part); pasting writes in a step's own values and leaves out the code a False one guards.
import ast
import json
import linecache
import os
import sys
import time
import types
from typing import Any, Dict, List, Optional, Sequence, Tuple

from .figures import _mlops_figures, _mlops_figures_finish
from .groups import _mlops_load_groups, _mlops_save_groups
from .previews import _mlops_preview
from .tensorboard import _mlops_events_file, _mlops_scalar_record, _mlops_write_embedding
from .values import (
    _MLOPS_NOTEBOOK_MODULE,
    _MLOPS_UNBOUND,
    _mlops_is_json,
    _mlops_link_files,
    _mlops_load,
    _mlops_same_value,
    _mlops_save,
    _mlops_save_result,
    _mlops_type_name,
)

# Switches: which parts of _mlops_run_step a step uses (see runtime_source.step_switches).
_MLOPS_LOAD = True  # it reads values from artifacts
_MLOPS_LOAD_GROUPS = True  # some of them were stored in a group (groups.py)
_MLOPS_SAVE = True  # it writes values to artifacts
_MLOPS_SAVE_GROUPS = True  # some of them in groups
_MLOPS_RESULT = True  # the cell's last line is its `result`
_MLOPS_PARAMS_OUT = True  # it returns parameter outputs (ints, strings, ...)
_MLOPS_LIKE = True  # it takes list or dict parameters (typed like the params cell's literal)
_MLOPS_SHIM = True  # its code may call log_metric / logdir
_MLOPS_FIGURES = True  # it may draw or display(): what it shows is kept (figures.py)
_MLOPS_TEXT_PROGRESS = True  # its code uses tqdm.notebook: text bars in the log instead of widgets


def _mlops_text_progress() -> None:
    """tqdm.notebook's bars are widgets: with no notebook to draw them, a step's log got the bar's text
    once, as it started, and nothing after. Its names give tqdm's text bars instead (what tqdm.auto picks
    outside a notebook), which the log shows as a terminal would, to the last update."""
    import importlib

    try:
        notebook = importlib.import_module("tqdm.notebook")
        std = importlib.import_module("tqdm.std")
    except Exception:  # no tqdm here: the step's import fails as it would
        return
    for name in ("tqdm", "tqdm_notebook", "trange", "tnrange"):
        setattr(notebook, name, getattr(std, "trange" if name.endswith("range") else "tqdm"))


def _mlops_fresh_logging() -> Any:
    """The root logger as a fresh interpreter (and a notebook's kernel) has it: kfp's executor set it up
    before the step (its format, INFO, stdout), so a setup cell's `logging.basicConfig(...)` did nothing
    and the step's own INFO lines carried kfp's prefix, which the log views hide as kfp's bookkeeping.
    Only kfp's handler is taken off; what to give back afterwards is returned."""
    import logging

    root = logging.getLogger()
    kfp = [h for h in root.handlers if "[KFP Executor" in str(getattr(h.formatter, "_fmt", ""))]
    kept = (kfp, root.level)
    for handler in kfp:
        root.removeHandler(handler)
    if kfp:
        root.setLevel(logging.WARNING)
    return kept


def _mlops_kfp_logging(kept: Any) -> None:
    """kfp's logging back for what its executor logs after the step (the step's handlers stay open:
    logging flushes them at exit)."""
    import logging

    kfp, level = kept
    if not kfp:
        return
    root = logging.getLogger()
    for handler in root.handlers[:]:
        root.removeHandler(handler)
    for handler in kfp:
        root.addHandler(handler)
    root.setLevel(level)


def _mlops_param(value: Any, kind: str, step: str, var: str) -> Any:
    """Check and convert a parameter output to its declared KFP type."""
    large: Optional[int] = None
    try:
        if kind == "float" and not isinstance(value, (bool, str)):
            return float(value)
        if kind == "int" and not isinstance(value, (bool, str)) and int(value) == value:
            if abs(int(value)) <= 2**53:
                return int(value)
            large = int(value)
        if kind == "bool" and type(value).__name__ in ("bool", "bool_"):
            return bool(value)
        if kind == "str" and isinstance(value, str):
            return value
        if kind in ("list", "dict") and _mlops_is_json(value) and type(value).__name__ == kind:
            return value
    except (TypeError, ValueError, OverflowError):
        pass
    if large is not None:
        raise TypeError(
            "step %r: %r holds %d, too large an int for a KFP parameter, which carries numbers as "
            "doubles (exact up to 2**53). Pass it as text (str(...)) or inside a list." % (step, var, large)
        )
    raise TypeError(
        "step %r: %r should be a %s (from its code or annotation) but holds a %s. Fix the value or its "
        "annotation." % (step, var, kind, _mlops_type_name(value))
    )


def _mlops_like(value: Any, default: Any) -> Any:
    """A list or dict parameter typed as the params cell's literal types it.

    KFP carries every number inside a list or dict parameter as a double, so `[64, 32]` arrives as
    `[64.0, 32.0]`: a whole number comes back an int where the default holds an int there, a number a
    float where it holds a float (for a list: its items if they are all of one type, else the item at
    the same position)."""
    if type(value) is float and type(default) is int:
        return int(value) if value.is_integer() else value
    if type(value) is int and type(default) is float:
        return float(value)
    if type(value) is list and type(default) is list and default:
        if len({type(d) for d in default}) == 1:
            return [_mlops_like(v, default[0]) for v in value]
        if len(value) == len(default):
            return [_mlops_like(value[i], default[i]) for i in range(len(value))]
    if type(value) is dict and type(default) is dict:
        return {k: _mlops_like(v, default[k]) if k in default else v for k, v in value.items()}
    return value


def _mlops_metric_line(name: str, value: float, step: Optional[int], at: float) -> str:
    """A point's line in the metrics file: `json.dumps({"name": .., "value": .., "step": .., "time": ..})`
    and a newline, written out directly for the usual types (a name's JSON kept per name)."""
    names = getattr(_mlops_metric_line, "names", None)  # type: Optional[Dict[str, str]]
    if names is None:
        names = _mlops_metric_line.names = {}  # type: ignore[attr-defined]
    if type(name) is not str or type(value) is not float or type(at) is not float:
        return json.dumps({"name": name, "value": value, "step": step, "time": at}) + "\n"
    if step is None:
        step_text = "null"
    elif type(step) is int:
        step_text = str(step)
    else:  # bool, a numpy integer: what json.dumps makes of it (or refuses)
        return json.dumps({"name": name, "value": value, "step": step, "time": at}) + "\n"
    quoted = names.get(name)
    if quoted is None:
        quoted = names[name] = json.dumps(name)
    if value != value or value in (float("inf"), float("-inf")):
        value_text = json.dumps(value)  # NaN, Infinity, -Infinity as json writes them
    else:
        value_text = repr(value)
    return '{"name": %s, "value": %s, "step": %s, "time": %r}\n' % (quoted, value_text, step_text, at)


def _mlops_shim(metrics: Any, logdir: Any) -> types.ModuleType:
    """A stand-in `jupyter_mlops` module inside the step: log_metric, logdir and log_embedding with no
    package needed.

    Points go to the executor's metrics file through one open file, flushed at most every 0.1 s (the
    run's views see them that soon) and when the step ends (`_mlops_flush`): a point costs a few
    microseconds, not a file opened and closed each time. They also go to a TensorBoard events file in
    the step's logdir, kept open and flushed the same way: the logdir of `logdir()` when the step calls
    it (an output artifact, on any backend), else the local backend's (JUPYTER_MLOPS_LOGDIR as the step
    started)."""
    shim = types.ModuleType("jupyter_mlops")
    sink = os.environ.get("JUPYTER_MLOPS_METRICS_FILE")
    out: List[Any] = []  # the metrics file, opened at the first point, and when it was last flushed
    board: List[Any] = []  # the TensorBoard events file: [file, its logdir, when it was last flushed]
    counters = {}  # type: Dict[str, int]

    step_logdir = os.environ.get("JUPYTER_MLOPS_LOGDIR")  # set by the executor when the step starts

    def tensorboard_dir() -> Optional[str]:
        return str(logdir.path) if logdir is not None else step_logdir

    def log_metric(name: str, value: float, step: Optional[int] = None) -> None:
        value = float(value)
        now = time.time()
        if metrics is not None:
            metrics.log_metric(name, value)
        if sink:
            if not out:
                out[:] = [open(sink, "a", encoding="utf-8"), now]  # noqa: SIM115 (open until the step ends)
            out[0].write(_mlops_metric_line(name, value, step, now))
            if now - out[1] >= 0.1:
                out[0].flush()
                out[1] = now
        where = tensorboard_dir()
        if where:
            index = counters.get(name, 0) if step is None else int(step)
            counters[name] = index + 1
            if not board or board[1] != where:  # one open events file, not one open and scan a point
                if board:
                    board[0].close()
                board[:] = [open(_mlops_events_file(where), "ab"), where, now]  # noqa: SIM115
            board[0].write(_mlops_scalar_record(now, index, name, value))
            if now - board[2] >= 0.1:
                board[0].flush()
                board[2] = now

    def flush() -> None:
        if out:
            out[0].flush()
        if board:
            board[0].flush()

    def log_dir() -> str:
        if logdir is None:
            raise RuntimeError("logdir() is only available in steps whose code calls it by name")
        os.makedirs(logdir.path, exist_ok=True)
        return str(logdir.path)

    def log_embedding(
        vectors: Any,
        metadata: Any = None,
        *,
        tag: str = "embedding",
        logdir: Any = None,
        step: int = 0,
        images: Any = None,
    ) -> str:
        where = str(logdir) if logdir is not None else tensorboard_dir()
        if not where:
            raise RuntimeError("log_embedding: this step has no TensorBoard logdir; pass logdir=...")
        _mlops_write_embedding(where, vectors, metadata, tag=tag, step=step, images=images)
        return where

    shim.log_metric = log_metric  # type: ignore[attr-defined]
    shim.logdir = log_dir  # type: ignore[attr-defined]
    shim.log_embedding = log_embedding  # type: ignore[attr-defined]
    shim._mlops_flush = flush  # type: ignore[attr-defined]
    return shim


def _mlops_user_lines(runs: Optional[Sequence[Sequence[int]]], count: int) -> List[int]:
    """The user's line for each of `count` source lines, from [source line, user line] pairs where the
    numbering restarts (between pairs, lines follow one another). No pairs: lines are unchanged."""
    out = list(range(1, count + 1))
    points = sorted((int(a), int(b)) for a, b in (runs or []))
    for i, (line, user) in enumerate(points):
        stop = points[i + 1][0] if i + 1 < len(points) else count + 1
        for n in range(line, min(stop, count + 1)):
            out[n - 1] = user + (n - line)
    return out


def _mlops_compile_cell(
    source: str, filename: str, header: str, runs: Optional[Sequence[Sequence[int]]]
) -> ast.Module:
    """Parse `source` with the user's line numbers (the magic line `header` is line 1), and register
    the cell's text under `filename` so that tracebacks show the user's lines."""
    tree = ast.parse(source, filename)
    python_lines = source.splitlines()
    user = _mlops_user_lines(runs, len(python_lines))
    for node in ast.walk(tree):
        for attr in ("lineno", "end_lineno"):
            value = getattr(node, attr, None)
            if isinstance(value, int) and 1 <= value <= len(user):
                setattr(node, attr, user[value - 1])
    _mlops_show_cell(filename, header, python_lines, user)
    return tree


def _mlops_show_cell(filename: str, header: str, python_lines: List[str], user: List[int]) -> None:
    """Register the cell's text under `filename`, each line at the user's number, so that tracebacks
    show the user's lines."""
    shown = [header] + [""] * max([*user, 1])
    for n, text in enumerate(python_lines):
        if not shown[user[n] - 1]:
            shown[user[n] - 1] = text
    text_lines = [line + "\n" for line in shown]
    linecache.cache[filename] = (sum(len(t) for t in text_lines), None, text_lines, filename)


def _mlops_cell_code(source: str, filename: str, header: str, runs: Optional[Sequence[Sequence[int]]]) -> Any:
    """What `_mlops_exec` runs of cell code whose tree is not needed otherwise: the same code as the
    tree of `_mlops_compile_cell` compiles to. When every line moves by the same count to the user's
    (the lines of a cell follow one another from its first), its text after that many blank lines
    compiles to it without building and renumbering a tree (~0.2 ms of each step); otherwise, or if it
    does not compile (its error is then the tree's), the tree."""
    python_lines = source.splitlines()
    user = _mlops_user_lines(runs, len(python_lines))
    shift = user[0] - 1 if user else 0
    if shift >= 0 and all(line == n + shift for n, line in enumerate(user, 1)):
        try:
            code = compile(
                "\n" * shift + source, filename, "exec", flags=getattr(ast, "PyCF_ALLOW_TOP_LEVEL_AWAIT", 0)
            )
        except (SyntaxError, ValueError):
            pass
        else:
            _mlops_show_cell(filename, header, python_lines, user)
            return code
    return _mlops_compile_cell(source, filename, header, runs)


def _mlops_exec(tree: Any, filename: str, mode: str, ns: Dict[str, Any], loops: List[Any]) -> Any:
    """Run cell code (`mode` "exec", or "eval" for its last line's value), a tree or code compiled
    already (`_mlops_cell_code`). A cell may `await` at its top level, as IPython's autoawait runs it
    in the kernel: that code runs in the step's event loop (one for all its cells and lines, made on
    first use, in `loops`)."""
    if isinstance(tree, types.CodeType):
        code = tree
    else:
        code = compile(tree, filename, mode, flags=getattr(ast, "PyCF_ALLOW_TOP_LEVEL_AWAIT", 0))
    if not code.co_flags & 0x80:  # inspect.CO_COROUTINE: it awaits nothing at its top level
        return eval(code, ns) if mode == "eval" else exec(code, ns)
    import asyncio

    if not loops:
        loops.append(asyncio.new_event_loop())
        asyncio.set_event_loop(loops[0])
    return loops[0].run_until_complete(eval(code, ns))


def _mlops_exited(exc: SystemExit, step: str, filename: str) -> None:
    """A cell that called sys.exit(): with 0 (or no code) it stopped there and its step goes on to keep
    what the cell bound so far, as the kernel keeps it; any other code fails the step, saying where."""
    if exc.code is None or exc.code == 0:
        return
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    where = " (cell %s, line %d)" % (step, line) if line else ""
    raise RuntimeError(
        "step %r: the cell called sys.exit(%r)%s: a step fails when its cell exits with a code other "
        "than 0" % (step, exc.code, where)
    ) from None


def _mlops_run_setup(
    ns: Dict[str, Any], setup: Any, setup_lines: Any, loops: Optional[List[Any]] = None
) -> None:
    """Run the setup code: one string (the setup cell), or a list of [label, source, line pairs];
    `loops`: the step's event loop for top-level await, if it has one already (see _mlops_exec)."""
    loops = [] if loops is None else loops
    chunks = [["%%pipeline setup", setup, setup_lines]] if isinstance(setup, str) else setup
    for label, source, runs in chunks:
        if source.strip():
            filename = "<%s>" % label.lstrip("%")
            _mlops_exec(_mlops_cell_code(source, filename, label, runs), filename, "exec", ns, loops)


def _mlops_run_step(
    step: str,
    setup: Any,
    cell: str,
    args: Dict[str, Any],
    inputs: Dict[str, Tuple[str, str]],
    outputs: Dict[str, Tuple[str, str]],
    result: bool,
    cell_lines: Optional[Sequence[Sequence[int]]] = None,
    setup_lines: Optional[Sequence[Sequence[int]]] = None,
    metrics_arg: str = "mlops_metrics",
    logdir_arg: str = "mlops_logdir",
    defaults: Optional[Dict[str, Any]] = None,
    groups: Optional[Sequence[Sequence[str]]] = None,
    figures_arg: Optional[str] = None,
    carried: Optional[Sequence[Sequence[Any]]] = None,
    shared: Optional[Sequence[str]] = None,
    text_progress: bool = False,
) -> Optional[Tuple[Any, ...]]:
    """Run one notebook step: load inputs, run setup and the cell, save outputs.

    `inputs` and `outputs` map the component's argument names to (variable name, kind), where kind is
    "artifact" or a parameter type (int, float, str, bool, list, dict). `cell_lines` and `setup_lines`
    give the user's line numbers (see _mlops_user_lines): tracebacks point at the lines of the cell.
    `defaults` holds the params cell's literal for each list or dict parameter (see _mlops_like).
    `groups`: output arguments whose values may share objects, each group stored as one (groups.py).
    `figures_arg`: the output keeping what the cell shows (figures, display()), see figures.py.
    `carried`: [defining step, source, line pairs] of the earlier steps' functions and classes this
    step uses, run after setup under that step's cell name; `shared`: this step's classes that later
    steps carry, so values holding their objects may be stored (analysis/carried_code.py).
    `text_progress`: the step's code uses tqdm.notebook, whose bars become text (_mlops_text_progress).
    """
    # The cell runs as in its kernel, in `__main__`: `if __name__ == "__main__":` runs, and the setup
    # cell's classes are `__main__.X`, which later steps (each runs setup first) and the kernel resolve.
    module = types.ModuleType("__main__")
    sys.modules["__main__"] = module
    sys.modules[_MLOPS_NOTEBOOK_MODULE] = module  # values stored by earlier versions name it so
    ns = module.__dict__
    logging_kept = _mlops_fresh_logging()
    if _MLOPS_SHIM:
        shim = _mlops_shim(args.get(metrics_arg), args.get(logdir_arg))
        sys.modules["jupyter_mlops"] = shim
        ns.update(
            log_metric=shim.log_metric, logdir=shim.logdir, log_embedding=shim.log_embedding, mlops=shim
        )
    figures = _mlops_figures(args, figures_arg, ns) if _MLOPS_FIGURES else None
    try:
        # Parameters first: setup code may compute from them at its top level (`LIMIT = scale * 2`), as
        # it does in the kernel below the params cell. Artifacts load after setup (its classes).
        params = {}  # type: Dict[str, Any]
        for arg, (var, kind) in sorted(inputs.items()):
            if kind != "artifact":
                value = args[arg]
                if _MLOPS_LIKE and defaults and arg in defaults:
                    value = _mlops_like(value, defaults[arg])
                params[arg] = value
                ns[var] = params[arg]
        loops = []  # type: List[Any]
        if _MLOPS_TEXT_PROGRESS and text_progress:  # before setup's `from tqdm.notebook import tqdm`
            _mlops_text_progress()
        _mlops_run_setup(ns, setup, setup_lines, loops)
        for origin, source, runs in carried or ():
            where = "<cell %s>" % origin
            _mlops_exec(
                _mlops_compile_cell(source, where, "%%%%component %s" % origin, runs),
                where,
                "exec",
                ns,
                loops,
            )
        setup_names = set(ns) | set(shared or ())
        grouped = _mlops_load_groups(args, inputs, step) if _MLOPS_LOAD_GROUPS else {}
        for arg, (var, kind) in sorted(inputs.items()):
            if arg in grouped:
                value = grouped[arg]
            elif _MLOPS_LOAD and kind == "artifact":
                value = _mlops_load(args[arg].path, step, var, getattr(args[arg], "metadata", None))
            else:
                value = params[arg]  # again: setup code may have rebound the name
            if value is not _MLOPS_UNBOUND:  # as in the notebook: the name is simply not defined
                ns[var] = value
        filename = "<cell %s>" % step
        header = "%%%%component %s" % step
        last: Optional[ast.expr] = None
        if result:  # its last line, an expression, is kept apart as the step's result: the tree is needed
            code: Any = _mlops_compile_cell(cell, filename, header, cell_lines)
            if code.body and isinstance(code.body[-1], ast.Expr):
                last = code.body[-1].value
                code.body.pop()
        else:
            code = _mlops_cell_code(cell, filename, header, cell_lines)
        try:
            _mlops_exec(code, filename, "exec", ns, loops)
            if last is not None:
                ns["__mlops_result__"] = _mlops_exec(ast.Expression(last), filename, "eval", ns, loops)
        except SystemExit as exc:  # sys.exit(), exit(): the cell stops there, as in the kernel
            _mlops_exited(exc, step, filename)
        for loop in loops:
            loop.close()
        if figures is not None and figures_arg is not None:
            args[figures_arg].metadata.update(_mlops_figures_finish(figures))
        values: List[Any] = []
        stored = (
            _mlops_save_groups(args, outputs, groups, ns, step, setup_names) if _MLOPS_SAVE_GROUPS else []
        )
        for arg in stored:
            if outputs[arg][0] in ns:
                args[arg].metadata["preview"] = _mlops_preview(ns[outputs[arg][0]])
        saved: Dict[int, str] = {}  # id of a value stored alone -> its output
        for arg, (var, kind) in sorted(outputs.items(), key=lambda item: item[0] == "result" and result):
            if arg in stored:
                continue
            is_result = arg == "result" and result
            key = "__mlops_result__" if is_result else var
            if key not in ns and kind == "artifact" and not is_result:
                # Bound on some paths only (or deleted): later steps see it undefined, as in the notebook.
                os.makedirs(args[arg].path, exist_ok=True)
                open(os.path.join(args[arg].path, "value.unbound"), "w").close()
                args[arg].metadata.update(format="unbound", variable=var)
                continue
            if is_result:
                ns.setdefault(key, None)
            if key not in ns:
                raise NameError(
                    "step %r did not define %r, which later steps read. Assign it on every path through "
                    "the cell, or list the outputs with --outputs." % (step, var)
                )
            value = ns[key]
            if _MLOPS_RESULT and is_result:
                same = saved.get(id(value)) if value is not None else None
                if same is not None and _mlops_link_files(args[same].path, args[arg].path):
                    # `model.fit(x, y)` on the last line is the model: its files again, not a second pickle
                    args[arg].metadata.update(_mlops_same_value(args[same].metadata, value))
                else:
                    args[arg].metadata.update(_mlops_save_result(args[arg].path, value, step, setup_names))
                if value is not None:
                    args[arg].metadata["preview"] = _mlops_preview(value)
            elif _MLOPS_SAVE and kind == "artifact":
                args[arg].metadata.update(_mlops_save(args[arg].path, value, step, var, setup_names))
                args[arg].metadata["preview"] = _mlops_preview(value)
                saved[id(value)] = arg
            elif _MLOPS_PARAMS_OUT:
                values.append(_mlops_param(value, kind, step, var))
        return tuple(values) if values else None
    finally:
        _mlops_kfp_logging(logging_kept)
        if _MLOPS_SHIM:
            shim._mlops_flush()  # the last points, also when the cell failed
