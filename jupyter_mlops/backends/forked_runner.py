"""Runners forked from the warm runner service (runner_service.py), and the spare it keeps forked ahead.

A forked runner leaves the service behind (a session of its own, the service's signal handlers and
descriptors dropped: `leave_service`), then takes its run as a per-run runner process would: the
submitting kernel's environment, the run's folder as its working directory, its output to the run's
runner.log, its step worker forked from it with everything loaded (`take_run`).

The spare: a runner the service forks before any run asks for it, which leaves the service and waits
on a pipe of its own for its run request. Handing it a run is a write to that pipe, so starting a run
costs neither a fork of the service (its page tables: milliseconds on this VM, see BENCHMARKS.md) nor
the new process's first page faults on the run's critical path. The service forks the next spare once
it has answered. A spare is not a run: it holds no run, counts for no runs, and does not keep the
service from its idle exit. It exits when its pipe reads end-of-file with no request, which happens
when the service closes it (its idle exit) or dies (SIGKILL included: the kernel closes the pipe), so
no spare outlives its service. It takes nothing from the time it was forked but the loaded code, whose
freshness the service checks before handing out a run (service_freshness.py): its environment, folder,
options and store are the request's.
"""

from __future__ import annotations

import os
import select
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .runner_liveness import process_start_time

if TYPE_CHECKING:
    from ..executor.processes import ForkWorker
    from ..store import RunStore
    from .thread_ahead import ThreadAhead

_MAX_FD = 65536
HAND_WAIT_S = 5.0  # how long the service waits for a spare to take a request (a large IR fills the pipe)


def leave_service(close: list[int]) -> None:
    """In a process forked from the service: a session of its own (as a per-run runner: the service's
    end is not its end), default signal handling, none of the service's descriptors."""
    os.setsid()
    signal.set_wakeup_fd(-1)
    for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, signal.SIG_DFL)
    for fd in close:
        try:
            os.close(fd)
        except OSError:
            pass


def take_run(
    request: dict[str, Any],
    address: str,
    worker: ForkWorker | None = None,
    store: RunStore | None = None,
    preloaded: bool = False,
    heartbeat: ThreadAhead | None = None,
) -> int:
    """Become the runner of `request`'s run and run it to its end; the process's exit code. `worker`:
    a step worker this process forked ahead (a spare's), settled here for the run; `store`: the run
    store it opened ahead, used if it is the run's; `preloaded`: this process is a zygote's, with the
    run's imports, which its step worker must have too (else it is the step workers' zygote's)."""
    os.environ.clear()
    os.environ.update(request["env"])  # the submitting kernel's, as a per-run runner inherits it
    run_dir = Path(request["run_dir"])
    os.chdir(run_dir)
    log = os.open(run_dir / "runner.log", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    if worker is None:
        os.closerange(3, _MAX_FD)
    else:  # (a spare closed the service's descriptors when it was forked; the worker's pipes stay)
        os.close(log)
        os.close(null)
    from ..executor.processes import fork_supported
    from ..executor.warm_worker import fork_worker_here, ready_worker
    from .local_runner import Handed, run

    worker_log = run_dir / "tmp" / "worker.log"
    if worker is not None:
        worker.settle(dict(request["env"], _KFP_RUNTIME="true"), run_dir, worker_log)
    elif fork_supported():
        if preloaded:
            worker = fork_worker_here(sys.executable, worker_log)
        else:
            worker = ready_worker(address, sys.executable, worker_log)
    artifact_root = Path(request["artifact_root"]) if request.get("artifact_root") else None
    handed = Handed(
        documents=request.get("documents"), worker=worker, service=address, store=store, heartbeat=heartbeat
    )
    return run(request["run_id"], Path(request["home"]), artifact_root, request.get("max_workers"), handed)


def exit_when_done(work: Any) -> None:
    """Run `work()` (returning an exit code) and end this forked process with its code, whatever happens."""
    code = 1
    try:
        code = work()
    except BaseException:
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


class Spare:
    """The service's handle on its spare runner: its pid and start time (the answer to a run request
    it takes), and the write end of its request pipe."""

    def __init__(self, pid: int, write: int) -> None:
        self.pid = pid
        self.write = write
        self.started = process_start_time(pid)

    def hand(self, line: bytes) -> bool:
        """Give it its run request (one JSON line) and let it go; False if it could not take it (it
        died, or did not read within HAND_WAIT_S: it is then killed)."""
        deadline = time.monotonic() + HAND_WAIT_S
        data = memoryview(line if line.endswith(b"\n") else line + b"\n")
        try:
            while data:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"spare runner {self.pid} took no request within {HAND_WAIT_S:g} s")
                try:
                    _, writable, _ = select.select([], [self.write], [], left)
                except InterruptedError:
                    continue
                if writable:
                    data = data[os.write(self.write, data) :]
            return True
        except OSError as exc:
            print(f"spare runner {self.pid} could not take a run: {exc}", flush=True)
            self.kill()
            return False
        finally:
            self.close()

    def close(self) -> None:
        """End of its pipe: with a request written, it runs it; without, it exits."""
        if self.write >= 0:
            os.close(self.write)
            self.write = -1

    def kill(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)  # our unreaped child: the pid is still its own
        except OSError:
            pass


def fork_spare(close: list[int], address: str, home: Path) -> Spare:
    """Fork a spare runner from the service (`close`: the service's own descriptors)."""
    read, write = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        os.close(write)
        exit_when_done(lambda: _spare(read, close, address, home))
    os.close(read)
    os.set_blocking(write, False)
    return Spare(pid, write)


def _spare(read: int, close: list[int], address: str, home: Path) -> int:
    """In the spare: leave the service, wait for the run request, take the run."""
    leave_service(close)
    os.closerange(3, read)
    os.closerange(read + 1, _MAX_FD)
    import json

    from ..executor.processes import fork_supported
    from ..executor.warm_worker import ready_worker

    # its step worker, forked now by the step workers' zygote (else by this process, which has one
    # thread), settled when the run comes
    worker = ready_worker(address, sys.executable, None) if fork_supported() else None
    store = _open_store(home)
    from .thread_ahead import ThreadAhead

    heartbeat = ThreadAhead("heartbeat")  # after the fork above: a fork copies only the forking thread
    data = bytearray()
    while chunk := os.read(read, 1 << 16):
        data += chunk
    os.close(read)
    if not data.strip():
        return 0  # the service let it go (its idle exit) or died
    return take_run(json.loads(bytes(data)), address, worker, store, heartbeat=heartbeat)


def _open_store(home: Path) -> RunStore | None:
    """The home's store, opened and its schema read (a run's first statement otherwise reads it), or
    None if it cannot be (the run then opens it as a runner does, and says why if it still cannot)."""
    from ..errors import RunNotFound
    from ..store import RunStore

    if not (home / "store.db").is_file():
        return None  # never create one: the run's submitter made it
    try:
        store = RunStore(home, probe=False)
    except Exception:
        return None
    try:
        store.run_state("")  # a run id no run has: what is wanted is the schema, read once
    except RunNotFound:
        pass
    except Exception:
        store.close()
        return None
    return store
