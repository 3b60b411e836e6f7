"""Cores for the steps that use them: a step that waits (sleeps, reads the network or a disk, waits for
a process it started) gives its core's slot to the next ready step, so waiting steps overlap while
CPU-bound ones stay at `max_workers` (the core count by default).

Each running step's process is looked at every few tens of milliseconds (`Activity`, from /proc on
Linux): it *waits* while neither it nor any of its direct children is runnable (state R) and it used
less than a quarter of a core since the last look. CPU time counts every thread of the step, so a step
whose main thread joins busy threads is busy. Where /proc cannot be read (macOS, Windows), every step
holds its slot, as before. A step that waited and starts computing again takes its slot back at the
next look; until then the run may have more CPU-bound steps than cores, never more running steps
than `limit` (`WAITING_FACTOR` times the cores by default).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

WAITING_FACTOR = 4  # running steps, waiting or not, at most this many times the CPU slots
BUSY_SHARE = 0.25  # a step using more than this share of a core since the last look is busy
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


class CoreSlots:
    """How many running steps hold a core: all of them but those seen waiting."""

    def __init__(self, cores: int, limit: int, on_free: Callable[[], None] = lambda: None) -> None:
        self.cores = max(1, cores)
        self.limit = max(self.cores, limit)
        self.on_free = on_free  # called when a step gives its slot up (the scheduler may start another)
        self._waiting: set[object] = set()
        self._lock = threading.Lock()

    def waiting(self) -> int:
        with self._lock:
            return len(self._waiting)

    def free(self, running: int) -> bool:
        """May one more step start while `running` steps run?"""
        return running < self.limit and running - self.waiting() < self.cores

    def mark(self, step: object, waiting: bool) -> None:
        with self._lock:
            changed = (step in self._waiting) != waiting
            if waiting:
                self._waiting.add(step)
            else:
                self._waiting.discard(step)
        if changed and waiting:
            self.on_free()


class Activity:
    """Looks at one step process: `waiting()` after each look says whether it waits (see above)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        # (monotonic time, CPU seconds) at the last look; a process just started has used none
        self._last = (time.monotonic(), 0.0)
        # os.path: Path.exists raises ESRCH for a process that has just ended (its /proc entry going)
        self.readable = os.path.exists(f"/proc/{pid}/stat")

    def waiting(self) -> bool:
        if not self.readable or self.pid <= 0:
            return False
        sample = _stat(self.pid)
        if sample is None:
            return False  # ended (or not ours to read): it will be reaped in a moment
        state, cpu = sample
        now = time.monotonic()
        last, self._last = self._last, (now, cpu)
        if state == "R" or any(child == "R" for child in _children_states(self.pid)):
            return False
        elapsed = now - last[0]
        return elapsed > 0 and (cpu - last[1]) < BUSY_SHARE * elapsed


def _stat(pid: int) -> tuple[str, float] | None:
    """(state letter, CPU seconds of its threads and reaped children) of a process."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rfind(")") + 2 :].split()  # after "pid (command name)", which may hold spaces
    try:
        ticks = sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
    except (ValueError, IndexError):
        return None
    return fields[0], ticks / _CLOCK_TICKS


def _children_states(pid: int) -> list[str]:
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    states = []
    for child in children:
        sample = _stat(int(child))
        if sample is not None:
            states.append(sample[0])
    return states
