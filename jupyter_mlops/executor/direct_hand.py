"""A step's request written straight to the spare step process its worker forked ahead (Linux).

The worker (worker.py) forks each step's process ahead, as a spare that waits for its request on a pipe
of its own, and announces it: ``{"spare": pid, "fd": N, "inode": I}`` (N: the pipe's read end in the
spare, I: the pipe's inode). Relaying the request through the worker put the worker's wake-up, read
and write on every step's path, and the worker is often busy just then (forking the next spare), so the
step waited for it. Here the engine opens the spare's own end, `/proc/<pid>/fd/<N>` (a pipe opened
there is the same pipe, writable), checks that it is still that pipe (the inode), and writes the
request there; then it tells the worker ``{"id", "handed": pid}`` (worker.py: the spare is the step's).

The pid cannot be another process's: the spare is the worker's child, and a child the worker reaped
(after which its pid could be reused) fails the inode check (the pipe goes with it). A request longer
than PIPE_BUF, or any failure, goes through the worker as before: a write of at most PIPE_BUF bytes to
a pipe is whole or not at all, so the request never reaches the spare in part.
"""

from __future__ import annotations

import os
import select
import stat
from dataclasses import dataclass


@dataclass(frozen=True)
class Spare:
    pid: int
    fd: int  # its request pipe's read end, in the spare
    inode: int  # that pipe's inode


def hand_directly(spare: Spare, line: bytes) -> bool:
    """Write `line` (one request, newline-ended) to `spare`'s pipe; False if it was not written at all."""
    if len(line) > getattr(select, "PIPE_BUF", 512):
        return False
    try:
        fd = os.open(f"/proc/{spare.pid}/fd/{spare.fd}", os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return False  # gone, or /proc not readable here (hidepid): through the worker
    try:
        info = os.fstat(fd)
        if not stat.S_ISFIFO(info.st_mode) or info.st_ino != spare.inode:
            return False
        return os.write(fd, line) == len(line)
    except OSError:
        return False
    finally:
        os.close(fd)
