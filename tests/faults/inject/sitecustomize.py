"""Fault injection for tests/faults/test_fault_injection.py: imported at the start of every Python
process whose PYTHONPATH holds this folder (the runner, its step worker, the steps), it makes ONE write
fail once, across all of them, with an OSError (ENOSPC or EIO) or the sqlite error a full or failing
disk gives.

JUPYTER_MLOPS_FAULT=<seam>:<ENOSPC|EIO> chooses the write; JUPYTER_MLOPS_FAULT_DIR holds the flag file
whose exclusive creation makes "once" hold across processes. Seams are patched when their module is
first imported (a post-import hook), so a process that never imports it pays nothing.
"""

from __future__ import annotations

import errno
import importlib.abc
import importlib.util
import os
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

SEAM, _, CODE = os.environ.get("JUPYTER_MLOPS_FAULT", "").partition(":")
FLAGS = Path(os.environ.get("JUPYTER_MLOPS_FAULT_DIR", "/nonexistent"))


def first_time() -> bool:
    try:
        os.close(os.open(FLAGS / SEAM, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except OSError:
        return False
    with open(FLAGS / "fired.log", "a") as f:
        f.write(f"{SEAM} {os.getpid()}\n")
    return True


def os_error() -> OSError:
    number = errno.ENOSPC if CODE == "ENOSPC" else errno.EIO
    return OSError(number, os.strerror(number))


def sqlite_error() -> sqlite3.OperationalError:
    return sqlite3.OperationalError("database or disk is full" if CODE == "ENOSPC" else "disk I/O error")


def failing_once(original: Callable[..., Any], error: Callable[[], BaseException]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if first_time():
            raise error()
        return original(*args, **kwargs)

    return wrapper


def patch_store(module: Any) -> None:
    method = {"mark-running": "mark_running", "heartbeat": "heartbeat", "record-step": "record_step",
              "record-metric": "record_metrics", "record-artifact": "record_artifact",
              "finish-run": "finish_run"}.get(SEAM)  # fmt: skip
    if method and _is_runner():
        cls = module.RunStore
        setattr(cls, method, failing_once(getattr(cls, method), sqlite_error))


def _is_runner() -> bool:
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    # a per-run runner process, or the runner service whose forked runners inherit its patched modules
    runners = ("jupyter_mlops.backends.local_runner", "jupyter_mlops.backends.runner_service")
    named = spec is not None and spec.name in runners
    return named or sys.argv[0].endswith(("local_runner.py", "runner_service.py"))


def patch_logs(module: Any) -> None:
    if SEAM == "step-log" and _is_runner():  # where the runner makes a step's log file
        module.step_log_path = failing_once(module.step_log_path, os_error)


def patch_steps(module: Any) -> None:
    if SEAM == "step-module":  # the component module a step runs (executor/run_files.py)
        original = Path.write_text

        def write_text(self: Path, *args: Any, **kwargs: Any) -> int:
            if self.name.startswith("component-") and self.suffix == ".py" and first_time():
                raise os_error()
            return original(self, *args, **kwargs)

        Path.write_text = write_text  # type: ignore[method-assign]


def patch_runner_writes(module: Any) -> None:
    if SEAM == "runner-log":
        module.print = failing_once(print, os_error)


def patch_kfp_executor(module: Any) -> None:
    cls = module.Executor
    if SEAM == "step-output":
        cls.write_executor_output = failing_once(cls.write_executor_output, os_error)


PATCHES: dict[str, Callable[[Any], None]] = {
    "jupyter_mlops.store.run_store": patch_store,
    "jupyter_mlops.store.logs": patch_logs,
    "jupyter_mlops.backends.runner_writes": patch_runner_writes,
    "jupyter_mlops.executor.steps": patch_steps,
    "kfp.dsl.executor": patch_kfp_executor,
}


class PostImportHook(importlib.abc.MetaPathFinder):
    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name not in PATCHES:
            return None
        sys.meta_path.remove(self)
        try:
            spec = importlib.util.find_spec(name)
        finally:
            sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        original = loader.exec_module

        def exec_module(module: Any) -> None:
            original(module)
            PATCHES[name](module)

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


if SEAM:
    sys.meta_path.insert(0, PostImportHook())
