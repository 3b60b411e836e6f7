"""The runner service's step workers' zygote (executor/worker_zygote.py, one per service, a fresh
interpreter listening on `<socket>.wsock`), told apart from its other children (the zygotes that preload
a run's imports, backends/zygotes.py; its runners and spare runner)."""

from __future__ import annotations

import psutil


def is_workers_zygote(process: psutil.Process) -> bool:
    try:
        return any(arg.endswith(".wsock") for arg in process.cmdline())
    except psutil.Error:
        return False


def workers_zygote(service: int) -> psutil.Process | None:
    found = [c for c in psutil.Process(service).children() if is_workers_zygote(c)]
    return found[0] if found else None
