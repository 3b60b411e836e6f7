"""The Python API: `mlops.run(...)` and `mlops.log_metric(...)`.

Metrics logged in a plain notebook cell (not inside a step) go to a pseudo-run of kind "session":
one per Python process (kernel) and home, in the experiment "Notebook sessions", named after the
notebook (`JPY_SESSION_NAME`, which Jupyter sets for kernels) and its start time. It is recorded as
SUCCEEDED (a record, not something running), so it lists, compares and charts like any run.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any

from .backends.base import Backend
from .errors import UsageError
from .home import mlops_home
from .models import MetricPoint, RunState
from .run_handle import Run

METRICS_FILE_ENV = "JUPYTER_MLOPS_METRICS_FILE"  # set by the executor for each step attempt
SESSION_EXPERIMENT = "Notebook sessions"


def run(
    pipeline: Any,
    arguments: dict[str, Any] | None = None,
    *,
    backend: str | Backend = "local",
    experiment: str | None = None,
    name: str | None = None,
    cache: bool = True,
    working_dir: str | os.PathLike[str] | None = None,
) -> Run:
    """Submit `pipeline` (a @kfp.dsl.pipeline function, a compiled YAML path, or a notebook Pipeline)
    and return its `Run` at once; `.wait()` on it to block until it finishes.

    On the local backend the steps work in `working_dir`, where relative paths in their code point:
    by default this process's current directory, which in a kernel is the notebook's folder."""
    from .backends.registry import get_backend
    from .ir.documents import load_pipeline

    documents = load_pipeline(pipeline)
    target = get_backend(backend) if isinstance(backend, str) else backend
    cwd = Path(os.getcwd() if working_dir is None else working_dir).absolute()
    info = target.submit(documents, arguments, experiment=experiment, name=name, cache=cache, working_dir=cwd)
    return Run(target, info.id, info)


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


class _NotebookSession:
    """The session pseudo-run of this process for one home, and an open store to write to."""

    def __init__(self, home: Path) -> None:
        from .store import RunStore, new_run_id

        self.store = RunStore(home)
        self.run_id = new_run_id()
        notebook = Path(os.environ.get("JPY_SESSION_NAME") or "python").stem or "python"
        self.store.create_run(
            run_id=self.run_id,
            name=f"session-{notebook}-{time.strftime('%Y%m%d-%H%M%S')}",
            experiment=SESSION_EXPERIMENT,
            pipeline_name="",
            parameters={},
            kind="session",
            state=RunState.SUCCEEDED,
        )


# One session per (home, pid): a forked child (a step forked from a kernel) starts its own.
_sessions: dict[tuple[str, int], _NotebookSession] = {}
_sessions_lock = threading.Lock()


def notebook_session_run_id(home: Path | None = None) -> str:
    """The id of the pseudo-run holding this process's notebook-session metrics (created on first use)."""
    return _session(home).run_id


def _session(home: Path | None) -> _NotebookSession:
    key = (str(home or mlops_home()), os.getpid())
    with _sessions_lock:
        if key not in _sessions:
            _sessions[key] = _NotebookSession(Path(key[0]))
        return _sessions[key]


def log_metric(name: str, value: float, step: int | None = None) -> None:
    """Record a metric: inside a step, for that step (via the executor's metrics file); in a plain
    notebook cell, for the notebook session (a pseudo-run in the run store)."""
    number, index = _metric_value(name, value, step)
    metrics_file = os.environ.get(METRICS_FILE_ENV)
    now = time.time()
    if metrics_file:
        line = json.dumps({"name": name, "value": number, "step": index, "time": now})
        with open(metrics_file, "a", encoding="utf-8") as f:  # one short append per line: no interleaving
            f.write(line + "\n")
        return
    session = _session(None)
    session.store.record_metric(MetricPoint(session.run_id, None, name, number, index=index, time=now))
