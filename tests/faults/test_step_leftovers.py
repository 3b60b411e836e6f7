"""Processes a step starts in a new session, or as a double-forked daemon, end with the step, whether it
succeeded or was cancelled (issue 12, item 6): found by the tag every process a step starts inherits."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import psutil
import pytest
from backends.contract import explain, finished
from waiting import wait_until

from jupyter_mlops.backends.local import LocalBackend
from jupyter_mlops.models import RunState, StepState


@pytest.fixture(scope="module")
def spec() -> str:
    from backends.pipelines import compiled

    from . import escapees

    return compiled(escapees.escapees)


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() not in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD)
    except psutil.NoSuchProcess:
        return False


def assert_all_gone(pids: list[int]) -> None:
    try:
        wait_until(lambda: not any(map(alive, pids)), 30, f"processes {pids} to end")
    finally:
        for pid in filter(alive, pids):  # never leave them behind, even when the test fails
            os.kill(pid, 9)


def test_daemons_a_succeeded_step_started_end_with_it(home: Path, spec: str) -> None:
    backend = LocalBackend(home)
    run = finished(backend, backend.submit(spec, {"then_sleep": 0.0}).id)
    assert run.state is RunState.SUCCEEDED, explain(run)
    pids = [int(p) for p in str(run.step("start-daemons").outputs["Output"]).split()]
    assert len(pids) == 2
    assert_all_gone(pids)


def test_daemons_a_cancelled_step_started_end_with_it(home: Path, spec: str) -> None:
    backend = LocalBackend(home)
    run_id = backend.submit(spec, {"then_sleep": 300.0}).id

    def daemons() -> list[int] | None:
        text = backend.logs(run_id, "start-daemons").text
        found = re.search(r"daemons: (\d+) (\d+)", text)
        return [int(found[1]), int(found[2])] if found else None

    pids: list[int] = wait_until(daemons, 120, "the step to start its daemons")
    time.sleep(0.2)
    backend.cancel(run_id)
    run = finished(backend, run_id)
    assert run.state is RunState.CANCELED and run.step("start-daemons").state is StepState.CANCELED
    assert_all_gone(pids)
