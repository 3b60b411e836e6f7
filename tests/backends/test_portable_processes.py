"""Process handling that works without /proc (macOS): a runner's liveness by pid and start time, and
the clean-up of processes carrying a run's tag, both through psutil; on Linux the pidfd path and the
portable path find and kill the same processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil
import pytest
from waiting import wait_until

from jupyter_mlops.backends.runner_liveness import (
    death_reason,
    process_start_time,
    runner_process_alive,
    this_host,
)
from jupyter_mlops.executor import leftovers
from jupyter_mlops.executor.leftovers import kill_tagged
from jupyter_mlops.store import new_run_id

SLEEPER = [sys.executable, "-c", "import time; time.sleep(600)"]


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD)
    except psutil.NoSuchProcess:
        return True


def test_a_runner_is_known_by_its_pid_and_start_time_whatever_its_command_line() -> None:
    # A runner forked by the runner service has the service's command line, not the run id: its
    # recorded start time is what tells it from a process that took its pid later.
    proc = subprocess.Popen(SLEEPER)
    try:
        started = process_start_time(proc.pid)
        assert started is not None
        run_id = new_run_id()
        assert runner_process_alive(proc.pid, run_id, started) is True
        assert runner_process_alive(proc.pid, run_id, started - 5.0) is False  # a reused pid
        now = time.time()
        record = {"id": run_id, "state": "RUNNING", "pid": proc.pid, "host": this_host(),
                  "heartbeat": now - 600, "created_at": now - 700, "started": started}  # fmt: skip
        assert death_reason(record, stale_after=10) is None  # old heartbeat, but alive
        proc.kill()
        wait_until(lambda: gone(proc.pid), 30, "the kill")  # a zombie not yet reaped
        assert runner_process_alive(proc.pid, run_id, started) is False
        proc.wait()
        assert runner_process_alive(proc.pid, run_id, started) is False
        reason = death_reason(record, stale_after=10)
        assert reason is not None and f"runner process {proc.pid} died (killed or crashed)" in reason
    finally:
        proc.kill()
        proc.wait()


def test_without_a_start_time_the_command_line_must_name_the_run() -> None:
    run_id = new_run_id()
    proc = subprocess.Popen([*SLEEPER, run_id])
    try:
        wait_until(lambda: run_id in " ".join(psutil.Process(proc.pid).cmdline()), 60, "the exec")
        assert runner_process_alive(proc.pid, run_id) is True
        assert runner_process_alive(proc.pid, new_run_id()) is False
    finally:
        proc.kill()
        proc.wait()


def tagged_processes(tag: str) -> list[int]:
    """Start a tagged process in a new session and a tagged double-forked daemon; their pids."""
    env = {**os.environ, "TEST_TAG": tag}
    session = subprocess.Popen(SLEEPER, start_new_session=True, env=env, stdout=subprocess.DEVNULL)
    daemon_code = (
        "import os, subprocess, sys\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        f"    p = subprocess.Popen({SLEEPER!r}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
        "    print(p.pid, flush=True)\n"
        "    os._exit(0)\n"
        "os.wait()\n"
    )
    out = subprocess.run([sys.executable, "-c", daemon_code], env=env, capture_output=True, text=True,
                         check=True, timeout=60).stdout  # fmt: skip
    session_pid = session.pid
    # the session leader is our child: reap it in the background so it does not stay a zombie
    import threading

    threading.Thread(target=session.wait, daemon=True).start()
    return [session_pid, int(out.split()[0])]


@pytest.mark.parametrize(
    "pidfd",
    [
        pytest.param(False, id="portable"),
        pytest.param(
            True,
            id="pidfd",
            marks=pytest.mark.skipif(not leftovers.pidfd_available(), reason="no pidfd on this system"),
        ),
    ],
)
def test_every_process_carrying_the_tag_is_killed_and_no_other(pidfd: bool) -> None:
    tag = new_run_id()
    pids = tagged_processes(tag)
    bystander = subprocess.Popen(SLEEPER, env={**os.environ, "TEST_TAG": tag + "-other"})
    try:
        wait_until(lambda: all(tag == psutil.Process(p).environ().get("TEST_TAG") for p in pids), 60, "tags")
        assert kill_tagged("TEST_TAG", tag, pidfd=pidfd) == 2
        wait_until(lambda: all(map(gone, pids)), 30, f"processes {pids} to end")
        assert not gone(bystander.pid)
        assert kill_tagged("TEST_TAG", tag, pidfd=pidfd) == 0
    finally:
        bystander.kill()
        bystander.wait()
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
