"""Ending every process a step or a run started, wherever it went: a new session, a double-forked
daemon, a child of a process that has exited. They are found by a tag in their environment, which
every descendant inherits: `STEP_TAG_ENV` names one attempt of one step, the runner's
`JUPYTER_MLOPS_RUNNER_RUN_ID` (runner_liveness) the whole run.

The scan is skipped where nothing can be left: the step worker and the runner are child subreapers
(`become_subreaper`), so what a step starts stays in their tree, and a step (or run) whose tree holds
no process besides the expected ones (`only_children`, worker.py's `_clean_end`) left nothing.

On Linux (the fast path: a scan is 4x cheaper than through psutil, and it runs after a step that left
a process) each
candidate in /proc is held by a pidfd before its environment is read and signalled through it: the
process read is then the process killed, even if it exits meanwhile and its pid is reused (on a busy
machine pid numbers wrap within minutes). Elsewhere (macOS) processes and their environments are read
through psutil, which checks before it signals that the pid still belongs to the process it read
(same start time).
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psutil


STEP_TAG_ENV = "JUPYTER_MLOPS_STEP_TAG"  # "<run id>/<step>/<attempt>", in every process of one attempt
ROUNDS = 5  # a daemon forking as it is killed leaves a child: look again until none is found


_PROC = Path("/proc")


def pidfd_available() -> bool:
    return hasattr(os, "pidfd_open") and hasattr(signal, "pidfd_send_signal") and _PROC.is_dir()


def kill_tagged(variable: str, value: str, *, pidfd: bool | None = None) -> int:
    """SIGKILL every process (but this one) whose environment has `variable=value`; how many.

    `pidfd`: use Linux pidfds (default: where the system has them); False takes the portable path."""
    if not value:
        return 0
    use_pidfd = pidfd_available() if pidfd is None else pidfd
    marker = f"{variable}={value}".encode() + b"\0"
    killed: set[int] = set()  # signalled already: one still dying reads as tagged in the next round
    for _ in range(ROUNDS):
        found = 0
        for pid in _proc_pids() if use_pidfd else _psutil_pids():
            if pid == os.getpid() or pid == 0 or pid in killed:
                continue
            if _kill_by_pidfd(pid, marker) if use_pidfd else _kill_by_psutil(pid, variable, value):
                killed.add(pid)
                found += 1
        if not found:
            break
    return len(killed)


def _proc_pids() -> list[int]:
    return [int(e.name) for e in os.scandir(_PROC) if e.name.isdigit()]


def _psutil_pids() -> list[int]:
    import psutil  # imported when used: %load_ext and the CLI do not pay for it

    return list(psutil.pids())


def _marked(process: psutil.Process, variable: str, value: str) -> bool:
    """Does the process carry the tag? A zombie (no environment to read) is already dead: only its
    parent can reap it; a process of another user cannot be read and is none of ours."""
    import psutil  # imported when used: %load_ext and the CLI do not pay for it

    try:
        return bool(process.environ().get(variable) == value)
    except (psutil.Error, OSError):
        return False


def _kill_by_psutil(pid: int, variable: str, value: str) -> bool:
    import psutil  # imported when used: %load_ext and the CLI do not pay for it

    try:
        process = psutil.Process(pid)
    except psutil.Error:
        return False
    if not _marked(process, variable, value):
        return False
    try:
        process.kill()  # psutil refuses if the pid now belongs to a process started later
    except psutil.Error:
        return False
    return True


def _environ_marked(pid: int, marker: bytes) -> bool:
    """A zombie's environment reads empty: it is already dead, only its parent can reap it."""
    data = (_PROC / str(pid) / "environ").read_bytes()
    return data.startswith(marker) or b"\0" + marker in data


def _kill_by_pidfd(pid: int, marker: bytes) -> bool:
    try:
        if not _environ_marked(pid, marker):  # most processes: one read, no pidfd
            return False
        fd = os.pidfd_open(pid)
    except OSError:
        return False
    try:
        # Read again once the pidfd is open: if the pid changed hands before this read, the pidfd's
        # process is the old one, has exited, and the signal below fails instead of reaching the new one.
        if not _environ_marked(pid, marker):
            return False
        signal.pidfd_send_signal(fd, signal.SIGKILL)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


PR_SET_CHILD_SUBREAPER = 36


def become_subreaper() -> bool:
    """Make this process adopt the orphans of its tree (Linux's PR_SET_CHILD_SUBREAPER): whatever it
    started, however deep, and still runs is then under it. False where the system cannot."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        return int(ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def only_children(expected: set[int]) -> bool:
    """Are this process's children (zombies included; of every thread) all in `expected`? For a
    subreaper whose `expected` children left nothing, True means nothing it started runs anywhere."""
    try:
        found: set[int] = set()
        for tid in os.listdir(f"/proc/{os.getpid()}/task"):
            found.update(
                int(c) for c in (_PROC / str(os.getpid()) / "task" / tid / "children").read_bytes().split()
            )
    except (OSError, ValueError):
        return False
    return found <= expected
