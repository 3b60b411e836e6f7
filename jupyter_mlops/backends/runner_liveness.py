"""Is a detached runner still alive? Asked by every reader, so a killed runner never leaves its run
RUNNING forever.

On the runner's own host the pid is decisive, read through psutil (Linux and macOS alike): a zombie is
dead, and a pid now held by an unrelated process is told apart by the process's start time (recorded
with the pid, `started`) or else by its command line, which must name the run. Elsewhere, or when the
pid says nothing, a heartbeat older than `stale_after` seconds means the runner is gone.
"""

from __future__ import annotations

import socket
import time
from typing import Any

from ..executor.leftovers import kill_tagged

START_TIME_SLACK_S = 0.5  # two readings of one process's start time agree to the clock tick (10 ms)


def this_host() -> str:
    return socket.gethostname()


def process_start_time(pid: int) -> float | None:
    """When process `pid` started (seconds since the epoch), None if it is gone or cannot be read."""
    import psutil  # imported when used: %load_ext and the CLI do not pay for it

    try:
        return float(psutil.Process(pid).create_time())
    except (psutil.Error, OSError):
        return None


def runner_process_alive(pid: int, run_id: str, started: float | None = None) -> bool | None:
    """True/False when the answer is known, None when only the heartbeat can tell.

    `started`: the runner's start time as recorded with its pid; a process on that pid that started at
    another time is not the runner. Without it, the command line must name the run (a per-run runner
    process has the run id among its arguments)."""
    import psutil  # imported when used: %load_ext and the CLI do not pay for it

    try:
        process = psutil.Process(pid)
        if process.status() in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD):
            return False  # exited; its parent has not reaped it yet
        if started is not None:
            return bool(abs(process.create_time() - started) <= START_TIME_SLACK_S)
        cmdline = process.cmdline()
    except psutil.NoSuchProcess:  # ZombieProcess included
        return False
    except (psutil.AccessDenied, OSError):
        return None  # another user's process: not our runner, but let the heartbeat decide
    if not cmdline:
        # Being exec'd: Popen has returned (the exec pipe closed) but the kernel has not set up the
        # new command line yet. Most reads right after a start land here; it is not a death.
        return None
    return any(run_id in part for part in cmdline)  # else the pid now belongs to another process


def _clock(t: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t))


def death_reason(record: dict[str, Any], *, stale_after: float, now: float | None = None) -> str | None:
    """Why the run's runner must be considered dead, or None if it may still be working.

    `record` is `RunStore.runner_record(...)`: state, pid, host, heartbeat, created_at, and the runner's
    start time (`started`) and service (`service`) when known.
    """
    now = time.time() if now is None else now
    pid, last = record.get("pid"), record.get("heartbeat") or record["created_at"]
    where = f"; it ran the run for the runner service {record['service']}" if record.get("service") else ""
    if pid and record.get("host") == this_host():
        alive = runner_process_alive(int(pid), str(record["id"]), record.get("started"))
        if alive is True:
            return None
        if alive is False:
            when = f"at about {_clock(last)} (its last heartbeat)"
            return f"runner process {pid} died (killed or crashed) {when}{where}"
    if now - last > stale_after:
        who = f"runner process {pid}" if pid else "the runner process (never started)"
        return (
            f"{who} sent no heartbeat since {_clock(last)}: it died (killed or crashed) or its host is "
            f"down{where}"
        )
    return None


RUN_MARKER_ENV = "JUPYTER_MLOPS_RUNNER_RUN_ID"  # set in the runner's environment; inherited by its steps


def kill_leftovers(run_id: str) -> int:
    """SIGKILL the processes a dead runner left behind: its pre-warmed worker and step processes,
    which run in sessions of their own and so outlive it (found by RUN_MARKER_ENV, see
    executor/leftovers.py). Returns how many were killed."""
    return kill_tagged(RUN_MARKER_ENV, run_id)
