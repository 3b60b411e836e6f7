"""A runner is judged dead only when it is (issue 12, item 18). Right after `Popen` returns, the child
has closed its exec pipe but the kernel has not yet set up its new command line: /proc/PID/cmdline reads
empty for a moment (measured here: most of the time when read at once). A reader that looked then
declared a starting runner dead, killed it, and its run FAILED with an empty runner.log. An empty
command line now says nothing (the heartbeat decides); a command line without the run's id still means
the pid belongs to another process."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from jupyter_mlops.backends.runner_liveness import death_reason, this_host
from jupyter_mlops.store import new_run_id

pytestmark = pytest.mark.skipif(not Path("/proc").is_dir(), reason="uses /proc")


def fresh_record(run_id: str, pid: int) -> dict[str, object]:
    now = time.time()
    return {"id": run_id, "state": "PENDING", "pid": pid, "host": this_host(), "heartbeat": None,
            "created_at": now}  # fmt: skip


def test_a_runner_being_started_is_never_judged_dead() -> None:
    verdicts = []
    for _ in range(300):
        run_id = new_run_id()
        proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", run_id])
        try:
            verdicts.append(death_reason(fresh_record(run_id, proc.pid), stale_after=10))
        finally:
            proc.kill()
            proc.wait()
    assert verdicts == [None] * 300


def test_a_runner_that_exited_is_judged_dead_at_once() -> None:
    run_id = new_run_id()
    proc = subprocess.Popen([sys.executable, "-c", "pass", run_id])
    proc.wait()
    reason = death_reason(fresh_record(run_id, proc.pid), stale_after=10)
    assert reason is not None and "died" in reason
