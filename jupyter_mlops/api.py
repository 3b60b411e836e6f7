"""The Python API: `mlops.run(...)`, `mlops.get_run(...)`, `mlops.runs(...)` and `mlops.log_metric(...)`.

Metrics logged in a plain notebook cell (not inside a step) go through the default backend
(`Backend.log_session_metric`): the local one keeps them in a pseudo-run of kind "session" per kernel,
in the experiment "Notebook sessions".
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from .backends.base import Backend
from .backends.registry import default_backend, shared_backend
from .errors import CompileInterrupted, Interrupted, SubmitInterrupted, UsageError
from .held_interrupt import held_interrupt
from .models import RunState
from .run_handle import Run

METRICS_FILE_ENV = "JUPYTER_MLOPS_METRICS_FILE"  # set by the executor for each step attempt


def run(
    pipeline: Any,
    arguments: dict[str, Any] | None = None,
    *,
    backend: str | Backend | None = None,
    experiment: str | None = None,
    name: str | None = None,
    cache: bool = True,
    working_dir: str | os.PathLike[str] | None = None,
    files: list[str] | None = None,
) -> Run:
    """Submit `pipeline` (a @kfp.dsl.pipeline function, a compiled YAML path, a notebook Pipeline, or a
    notebook's path, `.ipynb`) and return its `Run` at once; `.wait()` on it to block until it finishes.

    On the local backend the steps work in `working_dir`, where relative paths in their code point:
    by default this process's current directory, which in a kernel is the notebook's folder (for a
    notebook's path: that notebook's folder).
    `files`: paths relative to it that the steps read, shipped with the run to where steps run in pods
    (ir/shipped_files.py). `backend`: a name, a Backend, or None for this process's default."""
    from .ir.documents import load_pipeline

    if isinstance(pipeline, (str, os.PathLike)) and str(pipeline).endswith(".ipynb"):
        # A notebook, as `jupyter-mlops run NOTEBOOK.ipynb` takes it: its pipeline, its steps working in
        # its folder (where its kernel works) unless told otherwise.
        from .notebook.reader import pipeline_from_notebook

        notebook = Path(pipeline)
        if working_dir is None:
            working_dir = notebook.absolute().parent
        pipeline = pipeline_from_notebook(notebook)
    try:
        documents = load_pipeline(pipeline)
    except KeyboardInterrupt as exc:  # one line that says nothing was submitted, not our compiler's frames
        if isinstance(exc, Interrupted):
            raise
        raise CompileInterrupted(_described(pipeline)) from None
    if files:
        from .ir.shipped_files import collect, ship_files

        base = Path(os.getcwd() if working_dir is None else working_dir)
        documents = ship_files(documents, collect(files, base))
    if backend is None:
        target = default_backend()
    elif isinstance(backend, str):
        target = shared_backend(backend)
    else:
        target = backend
    cwd = Path(os.getcwd() if working_dir is None else working_dir).absolute()
    if target.name != "local":
        _warn_of_local_modules(documents, cwd, files or [])
    with held_interrupt() as held:  # recorded and handed to a runner, or not submitted at all
        info = target.submit(
            documents, arguments, experiment=experiment, name=name, cache=cache, working_dir=cwd
        )
    if held.interrupted:
        raise SubmitInterrupted(info.id)
    return Run(target, info.id, info)


def _described(pipeline: Any) -> str:
    """How an interrupted compile names what it compiled."""
    if isinstance(pipeline, (str, os.PathLike)):
        return str(pipeline) if "\n" not in str(pipeline) else "the pipeline's YAML"
    name = getattr(pipeline, "name", None)
    if isinstance(name, str) and name:
        return f"pipeline {name!r}"
    function = getattr(pipeline, "__name__", None) or getattr(
        getattr(pipeline, "pipeline_func", None), "__name__", None
    )
    return f"pipeline {function!r}" if function else "the pipeline"


class LocalModuleWarning(UserWarning):
    """A step imports a module of the notebook's folder that the run does not ship to the cluster."""


def _warn_of_local_modules(documents: list[dict[str, Any]], base: Path, files: list[str]) -> None:
    from .ir.shipped_files import local_modules

    shipped = {Path(f).as_posix().rstrip("/") for f in files}
    missing = [m for m in local_modules(documents, base) if m not in shipped]
    if missing:
        import warnings

        listed = ",".join(missing)
        warnings.warn(
            f"the steps import {', '.join(missing)} from the notebook's folder ({base}), which the "
            f"cluster's pods do not have: ship them with --files {listed} (files=[...] in mlops.run), "
            "or install them in the steps' image",
            LocalModuleWarning,
            stacklevel=3,
        )


def _target(backend: str | Backend | None) -> Backend:
    if backend is None:
        return default_backend()
    return shared_backend(backend) if isinstance(backend, str) else backend


def get_run(run: str, *, backend: str | Backend | None = None) -> Run:
    """The run that `run` names: its id, its name (as the views show it), or a unique id prefix."""
    target = _target(backend)
    info = target.get(run)
    return Run(target, info.id, info)


def runs(
    *,
    experiment: str | None = None,
    state: str | RunState | None = None,
    limit: int = 20,
    backend: str | Backend | None = None,
) -> list[Run]:
    """Runs newest first: of one experiment and/or in one state (`"FAILED"`), at most `limit`."""
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise UsageError(f"runs(limit={limit!r}): give how many runs to list, 1 or more")
    try:
        wanted = RunState(state.upper() if isinstance(state, str) else state) if state is not None else None
    except ValueError:
        states = ", ".join(s.value for s in RunState)
        raise UsageError(f"runs(state={state!r}): no such run state; use one of {states}") from None
    target = _target(backend)
    page = target.list_runs(experiment=experiment, state=wanted, limit=limit)
    return [
        Run(target, info.id, info if info.state.terminal and info.steps else None, listed=info)
        for info in page.runs
    ]


def _metric_value(name: str, value: Any, step: Any) -> tuple[float, int | None]:
    if not isinstance(name, str) or not name.strip():
        raise UsageError(f"log_metric needs a metric name (a non-empty string), got {name!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise UsageError(f"log_metric({name!r}, ...): the value must be a number, got {value!r}") from None
    if step is not None and (isinstance(step, bool) or not isinstance(step, int)):
        raise UsageError(f"log_metric({name!r}, ...): step must be an int or None, got {step!r}")
    return number, step


_last_session: str | None = None


def notebook_session_run_id() -> str | None:
    """The id of this process's notebook-session pseudo-run, once `log_metric` ran in a plain cell."""
    return _last_session


def log_metric(name: str, value: float, step: int | None = None) -> None:
    """Record a metric: inside a step, for that step (via the executor's metrics file); in a plain
    notebook cell, for the notebook session (a pseudo-run in the run store). Either way the point
    also goes to an event file in `mlops.logdir()`, for TensorBoard."""
    number, index = _metric_value(name, value, step)
    metrics_file = os.environ.get(METRICS_FILE_ENV)
    now = time.time()
    from .tensorboards.files import write_scalar

    if metrics_file:
        line = json.dumps({"name": name, "value": number, "step": index, "time": now})
        with open(metrics_file, "a", encoding="utf-8") as f:  # one short append per line: no interleaving
            f.write(line + "\n")
        step_logdir = os.environ.get("JUPYTER_MLOPS_LOGDIR")  # the executor's, for TensorBoard
        if step_logdir:
            write_scalar(step_logdir, name, number, index)
        return
    global _last_session
    _last_session = default_backend().log_session_metric(name, number, index, now)
    from .tensorboards.files import current_logdir

    write_scalar(current_logdir(make=False), name, number, index)  # the history, for TensorBoard's scalars
