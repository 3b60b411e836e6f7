"""How a step's process is judged waiting or busy (executor/core_slots.py), on real processes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from waiting import wait_until

from jupyter_mlops.executor.core_slots import Activity, CoreSlots, _stat


def _spinning(pid: int) -> bool:
    """Past its start: it has used a third of a second of CPU in its loop."""
    sample = _stat(pid)
    return sample is not None and sample[1] > 0.3


linux_only = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")


@linux_only
def test_a_sleeping_process_waits_and_a_spinning_one_does_not() -> None:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        wait_until(lambda: _spinning(spinner.pid), 60, "the spinning process to spin")
        asleep, busy = Activity(sleeper.pid), Activity(spinner.pid)
        wait_until(asleep.waiting, 60, "the sleeping process to be seen waiting", interval=0.05)
        looks = [busy.waiting() for _ in range(5)]  # a spinning process is runnable: never waiting
        assert looks == [False] * 5
    finally:
        sleeper.kill()
        spinner.kill()
        sleeper.wait()
        spinner.wait()


@linux_only
def test_a_process_waiting_for_a_busy_child_is_busy() -> None:
    code = "import subprocess, sys; subprocess.run([sys.executable, '-c', 'while True: pass'])"
    parent = subprocess.Popen([sys.executable, "-c", code])
    try:
        children = Path(f"/proc/{parent.pid}/task/{parent.pid}/children")
        wait_until(lambda: children.read_text().strip(), 60, "the child to start")
        wait_until(lambda: _spinning(int(children.read_text().split()[0])), 60, "the child to spin")
        activity = Activity(parent.pid)
        assert [activity.waiting() for _ in range(5)] == [False] * 5
    finally:
        for child in children.read_text().split():
            subprocess.run(["kill", "-9", child], check=False)
        parent.kill()
        parent.wait()


def test_a_process_that_is_gone_is_neither_read_nor_waiting() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    activity = Activity(proc.pid)  # reaped: its /proc entry is gone (or going: ESRCH must not escape)
    assert activity.waiting() is False


def test_slots_count_waiting_steps_out_and_wake_the_scheduler_once_per_change() -> None:
    woken: list[int] = []
    slots = CoreSlots(cores=1, limit=3, on_free=lambda: woken.append(1))
    a, b = object(), object()
    assert slots.free(running=0) and not slots.free(running=1)
    slots.mark(a, True)
    slots.mark(a, True)
    assert woken == [1] and slots.free(running=1)
    slots.mark(b, True)
    assert not slots.free(running=3)  # the limit holds, waiting or not
    slots.mark(a, False)
    assert slots.waiting() == 1 and woken == [1, 1]
