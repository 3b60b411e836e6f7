"""Is a detached runner still alive? Asked by every reader, so a killed runner never leaves its run
RUNNING forever.

On the runner's own host the pid is decisive: on Linux, /proc tells a live runner from a zombie or from
an unrelated process that reused the pid (its command line must name the run). Elsewhere, or when the
pid says nothing, a heartbeat older than `stale_after` seconds means the runner is gone.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path
from typing import Any

from ..executor.leftovers import kill_tagged

_PROC = Path("/proc")


def this_host() -> str:
    return socket.gethostname()


def runner_process_alive(pid: int, run_id: str) -> bool | None:
    """True/False when the answer is known, None when only the heartbeat can tell."""
    if _PROC.is_dir():
        try:
            stat = (_PROC / str(pid) / "stat").read_text()
            cmdline = (_PROC / str(pid) / "cmdline").read_bytes()
        except OSError:
            return False
        state = stat.rsplit(")", 1)[-1].split()[0]
        if state in ("Z", "X"):  # exited; its parent has not reaped it yet
            return False
        if not cmdline:
            # Being exec'd: Popen has returned (the exec pipe closed) but the kernel has not set up the
            # new command line yet. Most reads right after a start land here; it is not a death.
            return None
        return run_id.encode() in cmdline  # else the pid now belongs to another process
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return None
    return None  # exists, but may be a reused pid: let the heartbeat decide


def _clock(t: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t))


def death_reason(record: dict[str, Any], *, stale_after: float, now: float | None = None) -> str | None:
    """Why the run's runner must be considered dead, or None if it may still be working.

    `record` is `RunStore.runner_record(...)`: state, pid, host, heartbeat, created_at.
    """
    now = time.time() if now is None else now
    pid, last = record.get("pid"), record.get("heartbeat") or record["created_at"]
    if pid and record.get("host") == this_host():
        alive = runner_process_alive(int(pid), str(record["id"]))
        if alive is True:
            return None
        if alive is False:
            return (
                f"runner process {pid} died (killed or crashed) at about {_clock(last)} (its last heartbeat)"
            )
    if now - last > stale_after:
        who = f"runner process {pid}" if pid else "the runner process (never started)"
        return (
            f"{who} sent no heartbeat since {_clock(last)}: it died (killed or crashed) or its host is down"
        )
    return None


RUN_MARKER_ENV = "JUPYTER_MLOPS_RUNNER_RUN_ID"  # set in the runner's environment; inherited by its steps


def kill_leftovers(run_id: str) -> int:
    """SIGKILL the processes a dead runner left behind: its pre-warmed worker and step processes,
    which run in sessions of their own and so outlive it (found by RUN_MARKER_ENV, see
    executor/leftovers.py). Returns how many were killed."""
    return kill_tagged(RUN_MARKER_ENV, run_id)
