"""Ending every process a step or a run started, wherever it went: a new session, a double-forked
daemon, a child of a process that has exited. They are found by a tag in their environment, which
every descendant inherits (Linux /proc; elsewhere nothing is found): `STEP_TAG_ENV` names one attempt
of one step, the runner's `JUPYTER_MLOPS_RUNNER_RUN_ID` (runner_liveness) the whole run.

Each candidate is held by a pidfd before its environment is read and signalled through it: the
process read is then the process killed, even if it exits meanwhile and its pid is reused (on a
busy machine pid numbers wrap within minutes).
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

STEP_TAG_ENV = "JUPYTER_MLOPS_STEP_TAG"  # "<run id>/<step>/<attempt>", in every process of one attempt
_PROC = Path("/proc")
ROUNDS = 5  # a daemon forking as it is killed leaves a child: look again until none is found


def kill_tagged(variable: str, value: str) -> int:
    """SIGKILL every process (but this one) whose environment has `variable=value`; how many."""
    if not _PROC.is_dir() or not value:
        return 0
    marker = f"{variable}={value}".encode() + b"\0"
    killed = 0
    for _ in range(ROUNDS):
        found = 0
        for entry in _PROC.iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            if _kill_if_marked(int(entry.name), entry / "environ", marker):
                found += 1
        killed += found
        if not found:
            break
    return killed


def _kill_if_marked(pid: int, environ_path: Path, marker: bytes) -> bool:
    pidfd_open = getattr(os, "pidfd_open", None)
    send = getattr(signal, "pidfd_send_signal", None)
    if pidfd_open is None or send is None:  # no pidfd (kernel < 5.3): read, then kill by pid
        try:
            if _marked(environ_path, marker):
                os.kill(pid, signal.SIGKILL)
                return True
        except OSError:
            pass
        return False
    try:
        fd = pidfd_open(pid)
    except OSError:
        return False
    try:
        # Read after the pidfd is open: if the pid changed hands before the read, the pidfd's process is
        # the old one, has exited, and the signal below fails instead of reaching the new one.
        if not _marked(environ_path, marker):
            return False
        send(fd, signal.SIGKILL)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def _marked(environ_path: Path, marker: bytes) -> bool:
    """A zombie (its environment reads empty) is already dead: only its parent can reap it."""
    data = environ_path.read_bytes()
    return data.startswith(marker) or b"\0" + marker in data
