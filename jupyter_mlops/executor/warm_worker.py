"""A step worker forked from a warm process instead of started as a new interpreter.

The runner service (backends/runner_service.py) keeps kfp's executor and this package imported; the
runner it forks for a run forks its step worker at once, while it still has one thread, and that
worker runs `worker.main()` with everything already loaded: ready in a millisecond instead of the
hundreds a fresh interpreter takes. The worker is this runner's child exactly as a started one would
be (its steps die with it; it stops them and exits when the runner goes away, on its stdin's EOF).
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import IO

from . import worker
from .processes import ForkWorker

_MAX_FD = 65536


class ForkedWorker:
    """A worker process forked by this process, as ForkWorker sees a `subprocess.Popen`."""

    def __init__(self, pid: int, stdin: IO[bytes], stdout: IO[bytes]) -> None:
        self.pid = pid
        self.stdin: IO[bytes] | None = stdin
        self.stdout: IO[bytes] | None = stdout
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                self.returncode = -1  # reaped elsewhere (cannot happen: only ForkWorker waits)
                return self.returncode
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        pause = 0.001
        while self.poll() is None:
            if deadline is not None and time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(["step worker"], timeout or 0.0)
            time.sleep(pause)
            pause = min(pause * 2, 0.05)
        assert self.returncode is not None
        return self.returncode

    def kill(self) -> None:
        if self.poll() is None:
            try:
                os.kill(self.pid, 9)  # our unreaped child: the pid is still its own
            except OSError:
                pass


def fork_worker_here(python: str, log: Path | None) -> ForkWorker:
    """Fork the step worker from this process now (call it while this process has one thread), and
    a ForkWorker that uses it. `log` takes the worker's own stderr."""
    to_worker_r, to_worker_w = os.pipe()
    from_worker_r, from_worker_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker
        code = 1
        try:
            os.dup2(to_worker_r, 0)
            os.dup2(from_worker_w, 1)
            if log is not None:
                try:
                    log.parent.mkdir(parents=True, exist_ok=True)
                    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
                    os.dup2(fd, 2)
                except OSError:
                    pass
            os.closerange(3, _MAX_FD)  # nothing of the runner's: its store, its pipes to others
            os.environ["_KFP_RUNTIME"] = "true"
            worker.main()
            code = 0
        finally:
            os._exit(code)
    os.close(to_worker_r)
    os.close(from_worker_w)
    handle = ForkWorker(python, log)
    handle.adopt(ForkedWorker(pid, os.fdopen(to_worker_w, "wb"), os.fdopen(from_worker_r, "rb")))
    return handle
