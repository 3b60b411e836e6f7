"""The end of a run handed to the runner service (backends/local_runner.py): when every step its worker ran
told that it left no process, nothing of the run runs anywhere, and the runner records the final state
before it waits for the worker's goodbye and teardown (ForkWorker.left_nothing). A step that left a
process keeps the old order: worker closed, leftovers looked for, then the final state."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import psutil
import pytest

from jupyter_mlops.executor import leftovers
from jupyter_mlops.executor.processes import ForkWorker, fork_supported

pytestmark = pytest.mark.skipif(
    not fork_supported() or not leftovers.pidfd_available(), reason="forked steps and /proc (Linux)"
)

DAEMON = (
    "    import subprocess, sys\n"
    "    sleeper = [sys.executable, '-c', 'import time; time.sleep(600)']\n"
    "    daemon = subprocess.Popen(sleeper, start_new_session=True)\n"
    "    open('daemon.pid', 'w').write(str(daemon.pid))\n"
)


def run_step(worker: ForkWorker, tmp_path: Path, body: str, name: str) -> None:
    module = tmp_path / f"{name}.py"
    module.write_text(f"from kfp import dsl\n\n\ndef step() -> None:\n{body}")
    executor_input = json.dumps({"inputs": {}, "outputs": {"outputFile": str(tmp_path / f"{name}.json")}})
    step = worker.spawn(module, "step", executor_input, tmp_path / f"{name}.log", {}, tmp_path)
    assert step.wait(120) == 0, (tmp_path / f"{name}.log").read_text()


@pytest.mark.parametrize(
    ("bodies", "quiet"),
    [(["    print('hi')\n"] * 2, True), (["    print('hi')\n", DAEMON], False)],
    ids=["steps-left-nothing", "a-step-left-a-daemon"],
)
def test_a_worker_whose_steps_all_left_nothing_is_named_quiet_before_its_goodbye(
    tmp_path: Path, bodies: list[str], quiet: bool
) -> None:
    worker = ForkWorker(sys.executable, tmp_path / "worker.log")
    try:
        for i, body in enumerate(bodies):
            run_step(worker, tmp_path, body, f"step{i}")
        pid = worker.left_nothing()
        if quiet:
            assert pid is not None and psutil.Process(pid).ppid() == os.getpid()  # the live worker
        else:
            assert pid is None  # the daemon runs: the run is swept before its final state
    finally:
        worker.close()
        if (tmp_path / "daemon.pid").exists():
            os.kill(int((tmp_path / "daemon.pid").read_text()), 9)
    assert worker.left_nothing() is None  # closed: no worker to name
