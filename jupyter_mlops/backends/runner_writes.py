"""The runner's writes to the store, made to last through a busy store, a full disk or an I/O error.

A write that fails is tried again, with a growing pause, for `patience` seconds: a store locked by a
long reader, a disk someone is clearing, a flaky device. If it still fails, the error is raised; the
step or run it was for then ends FAILED with it (the caller decides). A SIGTERM to the runner shortens
the wait to a few seconds, so a runner asked to stop never hangs on a disk that stays full.

`say` writes a line to the runner's log (its stdout), and stays silent if even that cannot be written:
on a full disk the runner's own messages must never be what stops it.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import TypeVar

from ..errors import StoreError

T = TypeVar("T")

PATIENCE_ENV = "JUPYTER_MLOPS_WRITE_PATIENCE_S"
DEFAULT_PATIENCE_S = 120.0  # how long a write is retried before the step or run fails with its error
AFTER_SIGTERM_S = 5.0
FIRST_PAUSE_S = 0.05
MAX_PAUSE_S = 2.0

RETRIED: tuple[type[BaseException], ...] = (StoreError, sqlite3.Error, OSError)


def patience() -> float:
    try:
        return max(0.0, float(os.environ.get(PATIENCE_ENV, DEFAULT_PATIENCE_S)))
    except ValueError:
        return DEFAULT_PATIENCE_S


def say(text: str) -> None:
    try:
        print(text, flush=True)
    except (OSError, ValueError):
        pass


def say_traceback() -> None:
    try:
        traceback.print_exc()
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def persist(
    write: Callable[[], T],
    what: str,
    *,
    stopping: threading.Event | None = None,
    wait: float | None = None,
) -> T:
    """`write()`, tried again on a store or OS error for up to `wait` (default `patience()`) seconds."""
    limit = patience() if wait is None else wait
    start = time.monotonic()
    pause = FIRST_PAUSE_S
    failures = 0
    while True:
        try:
            return write()
        except RetryGivenUp:
            raise
        except RETRIED as exc:
            failures += 1
            waited = time.monotonic() - start
            allowed = limit
            if stopping is not None and stopping.is_set():
                allowed = min(limit, AFTER_SIGTERM_S)
            if waited >= allowed:
                raise RetryGivenUp(
                    f"cannot {what}: {_cause(exc)} (tried {failures} times over {waited:.0f} s)"
                ) from exc
            if failures == 1:
                say(f"[jupyter-mlops] cannot {what}: {_cause(exc)}; trying again for up to {allowed:g} s")
            time.sleep(min(pause, max(0.0, allowed - waited)))
            pause = min(pause * 2, MAX_PAUSE_S)


class RetryGivenUp(StoreError):
    """A write that kept failing for the whole patience; the message says what and why."""


def _cause(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}" + (f": {exc.filename}" if exc.filename else "")
    return str(exc) or type(exc).__name__
