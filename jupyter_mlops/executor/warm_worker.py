"""A step worker forked from a warm process instead of started as a new interpreter.

The runner service (backends/runner_service.py) keeps kfp's executor and this package imported, and
a small zygote with kfp's executor alone (worker_zygote.py). The runner it forks for a run asks that
zygote for its step worker (`worker_from_zygote`): a worker forked from a small process forks and ends
each step at half the cost of one forked from the service's heap. Where there is no zygote (not ready
yet, gone), or the runner was forked from a zygote with the run's imports loaded (the steps want them),
the runner forks its step worker itself, at once, while it still has one thread (`fork_worker_here`).
Either way the worker runs `worker.main()` with everything already loaded: ready in a millisecond
instead of the hundreds a fresh interpreter takes, and it behaves as a started one (its steps die with
it; it stops them and exits when the runner goes away, on its stdin's EOF).
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import IO

from . import worker
from .processes import ForkWorker
from .worker_zygote import STATUS, address_for

_MAX_FD = 65536
ZYGOTE_REPLY_S = 2.0  # a zygote slower than this to fork the worker: the runner forks its own
STATUS_WAIT_S = 2.0  # the zygote writes a worker's status as soon as it has reaped it
UNKNOWN_EXIT = 1  # its status never came (the zygote died before it): it ended, how is not known


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


class ZygoteWorker:
    """A worker forked by the step workers' zygote (worker_zygote.py), as ForkWorker sees a
    `subprocess.Popen`: not this process's child, so watched and signalled through a pidfd (which
    refers to that process alone), its exit status read from the status pipe the zygote writes."""

    def __init__(self, pid: int, pidfd: int, status: int, stdin: IO[bytes], stdout: IO[bytes]) -> None:
        self.pid = pid
        self.stdin: IO[bytes] | None = stdin
        self.stdout: IO[bytes] | None = stdout
        self.returncode: int | None = None
        self._pidfd = pidfd
        self._status = status
        self._lock = threading.Lock()

    def _ended(self, timeout: float | None) -> bool:
        try:
            return bool(select.select([self._pidfd], [], [], timeout)[0])
        except InterruptedError:
            return False

    def _read_status(self) -> None:
        with self._lock:
            if self.returncode is not None:
                return
            data = b""
            try:
                if select.select([self._status], [], [], STATUS_WAIT_S)[0]:
                    data = os.read(self._status, STATUS.size)
            except OSError:
                pass
            self.returncode = (
                os.waitstatus_to_exitcode(STATUS.unpack(data)[0])
                if len(data) == STATUS.size
                else UNKNOWN_EXIT
            )

    def poll(self) -> int | None:
        if self.returncode is None and self._ended(0):
            self._read_status()
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            if not self._ended(timeout):
                raise subprocess.TimeoutExpired(["step worker"], timeout or 0.0)
            self._read_status()
        assert self.returncode is not None
        return self.returncode

    def kill(self) -> None:
        if self.poll() is None:
            try:
                signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)
            except OSError:
                pass


def worker_from_zygote(service_address: str, python: str, log: Path | None) -> ForkWorker | None:
    """This run's step worker, forked by the service's step worker zygote, in this process's
    environment and working directory; None if there is no zygote ready to (the caller forks one)."""
    if not hasattr(os, "pidfd_open"):
        return None
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    conn.settimeout(ZYGOTE_REPLY_S)
    try:
        conn.connect(address_for(service_address))
    except OSError:
        conn.close()
        return None
    to_worker_r, to_worker_w = os.pipe()
    from_worker_r, from_worker_w = os.pipe()
    status_r, status_w = os.pipe()
    err = _open_log(log)
    theirs = [to_worker_r, from_worker_w, err, status_w]
    got: list[int] = []
    try:
        message = json.dumps({"env": dict(os.environ), "cwd": os.getcwd()}).encode()
        socket.send_fds(conn, [message], theirs)
        data, got, _, _ = socket.recv_fds(conn, 4096, 1)
        pid = int(json.loads(data)["pid"])
        if len(got) != 1:
            raise ValueError("no pidfd in the zygote's answer")
    except (OSError, ValueError, KeyError, TypeError):
        for fd in (to_worker_w, from_worker_r, status_r, *got):
            os.close(fd)  # a worker forked all the same gets EOF and exits
        return None
    finally:
        conn.close()
        for fd in theirs:
            os.close(fd)
    handle = ForkWorker(python, log)
    handle.adopt(
        ZygoteWorker(pid, got[0], status_r, os.fdopen(to_worker_w, "wb"), os.fdopen(from_worker_r, "rb"))
    )
    return handle


def _open_log(log: Path | None) -> int:
    if log is not None:
        try:
            log.parent.mkdir(parents=True, exist_ok=True)
            return os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError:
            pass
    return os.open(os.devnull, os.O_WRONLY)


def ready_worker(service_address: str, python: str, log: Path | None) -> ForkWorker:
    """The zygote's worker for this run, or one forked from this process (call it while this process
    has one thread)."""
    return worker_from_zygote(service_address, python, log) or fork_worker_here(python, log)
