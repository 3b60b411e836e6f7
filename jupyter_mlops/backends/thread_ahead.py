"""A thread started before it has its work: a spare runner (forked_runner.py) starts its run's heartbeat
thread while it waits for a run, so that starting it (a new thread must be scheduled before `start()`
returns: ~0.1 ms on an idle machine, milliseconds on a busy one) is not on the run's path."""

from __future__ import annotations

import threading
from collections.abc import Callable


class ThreadAhead:
    """A daemon thread that waits for its one piece of work (`give`), runs it and ends."""

    def __init__(self, name: str) -> None:
        self._go = threading.Event()
        self._work: Callable[[], object] | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        self._go.wait()
        if self._work is not None:
            self._work()

    def give(self, work: Callable[[], object]) -> None:
        self._work = work
        self._go.set()

    def join(self) -> None:
        self._go.set()  # (given nothing: it ends)
        self._thread.join()
