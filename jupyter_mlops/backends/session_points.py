"""Metric points logged in plain notebook cells, written in batches.

A training loop in a cell that calls `mlops.log_metric` per batch would otherwise pay a store
transaction per point (~0.08 ms: 4 s for 50,000 points). Points wait here at most `delay` seconds (or
until `limit` of them are waiting) and go to the store in one transaction, from a background thread;
every local backend of this process on the same home writes what is waiting before it answers a read
(`flush_for`), so this process always reads what it logged. A write that fails keeps its points for
the next try and is raised by the next `add` (in the user's cell, with the store's own message), so
nothing is lost quietly; what still waits when the process exits is written then.
"""

from __future__ import annotations

import atexit
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from ..models import MetricPoint
from ..store import RunStore
from ..this_process import pid

DELAY_S = 0.05  # how stale another process's view of a session's metrics may be
LIMIT = 5000  # points written at once by the logging thread itself, past this many waiting


class SessionPoints:
    def __init__(
        self, write: Callable[[list[MetricPoint]], None], delay: float = DELAY_S, limit: int = LIMIT
    ) -> None:
        self._write = write
        self._delay = delay
        self._limit = limit
        self._points: list[MetricPoint] = []
        self._lock = threading.Lock()  # guards _points, _failure, _pid
        self._writing = threading.Lock()  # one write at a time, in order
        self._wake = threading.Event()
        self._pid = pid()
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None

    def add(self, point: MetricPoint) -> None:
        with self._lock:
            self._forget_if_forked()
            self._points.append(point)  # kept, even when an earlier write's failure is raised below
            failure, self._failure = self._failure, None
            full = len(self._points) >= self._limit
            if not full and failure is None:
                self._start_thread()
                self._wake.set()
        if failure is not None:
            raise failure
        if full:
            self.flush()

    def flush(self) -> None:
        """Write every point waiting (one transaction); a failure keeps them and is raised here."""
        with self._writing:
            with self._lock:
                self._forget_if_forked()
                points, self._points = self._points, []
            if not points:
                return
            try:
                self._write(points)
            except BaseException:
                with self._lock:
                    self._points[:0] = points
                raise

    def _forget_if_forked(self) -> None:
        # A process forked from this one (a step forked from a kernel) logs to a session of its own;
        # the points waiting here are its parent's to write.
        if self._pid != pid():
            self._pid = pid()
            self._points = []
            self._thread = None
            self._failure = None
            self._wake = threading.Event()
            self._writing = threading.Lock()

    def _start_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._loop, name="mlops-session-metrics", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        wake = self._wake
        while True:
            wake.wait()
            wake.clear()
            if self._pid != pid():
                return
            time.sleep(self._delay)  # let a loop's points gather
            try:
                self.flush()
            except Exception as exc:  # told to the next add, in the user's cell
                with self._lock:
                    self._failure = exc


_homes: dict[tuple[str, int], SessionPoints] = {}
_stores: dict[tuple[str, int], RunStore] = {}
_homes_lock = threading.Lock()


def for_home(home: Path) -> SessionPoints:
    """This process's waiting points for `home`, written through a store connection of their own (they
    outlive any one backend object; a forked child gets its own)."""
    key = (str(home), pid())
    with _homes_lock:
        points = _homes.get(key)
        if points is None:
            store = _stores[key] = RunStore(home)
            points = _homes[key] = SessionPoints(store.record_metrics)
            atexit.register(_write_at_exit, points)
        return points


def flush_for(home: Path) -> None:
    """Write what this process logged against `home` and is still waiting (before a read)."""
    points = _homes.get((str(home), pid()))
    if points is not None:
        points.flush()


def _write_at_exit(points: SessionPoints) -> None:
    try:
        points.flush()
    except Exception as exc:  # at exit there is no cell left to raise into
        print(f"jupyter-mlops: notebook-session metrics were not saved: {exc}", file=sys.stderr)


def close_all() -> None:
    """Write what waits and close the stores (with the shared backends: at exit, between test homes)."""
    with _homes_lock:
        mine = [key for key in _homes if key[1] == pid()]
        taken = [(_homes.pop(key), _stores.pop(key)) for key in mine]
    for points, store in taken:
        _write_at_exit(points)
        store.close()
