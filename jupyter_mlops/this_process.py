"""This process's id, without a system call each time it is asked.

`os.getpid()` is a system call (glibc stopped caching it), and on a VM with nested paging a system call
costs ~5 µs: code on hot paths that must notice it now runs in a forked child (a metric logged per
training batch) asks here instead. The id is read again in every child right after a fork.
"""

from __future__ import annotations

import os

_pid = os.getpid()


def _forked() -> None:
    global _pid
    _pid = os.getpid()


os.register_at_fork(after_in_child=_forked)


def pid() -> int:
    return _pid
