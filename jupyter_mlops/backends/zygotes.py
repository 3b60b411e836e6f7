"""Preloaded steps: zygotes of the runner service, each with one set of the steps' imports loaded.

A step that imports numpy and pandas pays ~250 ms for it in every forked step. The service learns a
run's imports from the steps' own import statements (ir/step_imports.py: the setup cell's are in the
step too) and keeps, per import set, a zygote: a process forked from the service that imported them
once. Later runs with that import set get their runner forked from the zygote, so the runner's step
worker and every step start with the modules loaded. The first run with a new set runs as before
while its zygote loads (no run waits for one).

Forking from a zygote must give what a fresh interpreter gives: numpy's global random state is seeded
again from the OS in every fork (a fresh interpreter seeds it at import; Python's `random` reseeds
itself at fork), every step is forked from the unchanged zygote (what one step does to a module's
state is not seen by the next), and an import set whose import starts a Python thread is not
preloaded (a fork carries no threads but the forking one): its runs go on as without zygotes.

At most `MAX_ZYGOTES` are kept, and at most `memory_cap()` MB resident in all (the least recently used
goes first). A zygote exits when the service closes its end of their socket pair; its runners, in
sessions of their own, go on. Protocol on the pair, JSON lines: zygote -> service {"ready": modules}
or {"refused": why} once, then {"pid", "started"} per run request and {"ended": pid} when a runner
ends; service -> zygote: the run request.
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import select
import signal
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .service_io import drain
from .zygote_environment import digest

Runner = Callable[[dict[str, Any], list[int]], None]  # forks nothing: becomes the run's runner, exits

MAX_ZYGOTES = 4
CAP_ENV = "JUPYTER_MLOPS_ZYGOTE_MB"
DEFAULT_CAP_MB = 1024.0
OFF_ENV = "JUPYTER_MLOPS_ZYGOTES"  # "0": no preloading


def memory_cap() -> float:
    try:
        return float(os.environ.get(CAP_ENV, DEFAULT_CAP_MB))
    except ValueError:
        return DEFAULT_CAP_MB


def zygotes_wanted() -> bool:
    return os.environ.get(OFF_ENV, "1").strip() not in ("0", "false", "no", "off")


class Zygote:
    """The service's handle on one zygote."""

    def __init__(
        self, modules: tuple[str, ...], pid: int, conn: socket.socket, environment: str = ""
    ) -> None:
        self.modules = modules
        self.key = (modules, environment)  # what the service keeps it by (zygote_environment.py)
        self.pid = pid
        self.conn = conn
        self.ready = False
        self.refused: str | None = None
        self.last_used = time.monotonic()
        self.runners: set[int] = set()
        self.stamp: tuple[tuple[str, int], ...] = ()  # its modules' files as they were (service_freshness)
        self._pending = bytearray()

    def fileno(self) -> int:
        return self.conn.fileno()

    def read(self, block: bool) -> list[dict[str, Any]]:
        """Messages that arrived (waiting for at least one if `block`); [] and closed on EOF."""
        self.conn.settimeout(30.0 if block else 0.0)
        messages: list[dict[str, Any]] = []
        while True:
            try:
                chunk = self.conn.recv(1 << 16)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                chunk = b""
            if not chunk:
                self.refused = self.refused or "the zygote exited"
                break
            self._pending += chunk
            while (end := self._pending.find(b"\n")) >= 0:
                messages.append(json.loads(bytes(self._pending[:end])))
                del self._pending[: end + 1]
            if messages:
                break
        for message in messages:
            if "ready" in message:
                self.ready = True
            elif "refused" in message:
                self.refused = str(message["refused"])
            elif "ended" in message:
                self.runners.discard(int(message["ended"]))
        return messages

    def fork_runner(self, request: dict[str, Any]) -> dict[str, Any]:
        """Have the zygote fork the run's runner; its {"pid", "started"}."""
        self.last_used = time.monotonic()
        self.conn.settimeout(30.0)
        self.conn.sendall(json.dumps(request).encode() + b"\n")
        while self.refused is None:
            for message in self.read(block=True):
                if "pid" in message:
                    self.runners.add(int(message["pid"]))
                    return message
        raise OSError(f"zygote {self.pid} for {', '.join(self.modules)}: {self.refused}")

    def rss_mb(self) -> float:
        import psutil

        try:
            return float(psutil.Process(self.pid).memory_info().rss) / 2**20
        except psutil.Error:
            return 0.0

    def close(self) -> None:
        try:
            self.conn.close()  # EOF: the zygote exits (its runners go on)
        except OSError:
            pass


def start(
    modules: Sequence[str],
    close: Sequence[int],
    runner: Callable[[dict[str, Any], list[int]], None],
    environment: Mapping[str, str] | None = None,
) -> Zygote:
    """Fork a zygote that imports `modules` in `environment` (zygote_environment.py; None: the
    service's own); it reports ready (or refused) on its own time."""
    ours, theirs = socket.socketpair()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            ours.close()
            for fd in close:
                try:
                    os.close(fd)
                except OSError:
                    pass
            if environment is not None:
                os.environ.clear()
                os.environ.update(environment)
            _serve(tuple(modules), theirs, runner)
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)
    theirs.close()
    return Zygote(tuple(modules), pid, ours, digest(environment) if environment is not None else "")


def _reseed_numpy() -> None:
    numpy_random = sys.modules.get("numpy.random")
    if numpy_random is not None:
        numpy_random.seed()  # from the OS, as a fresh interpreter seeds it at import


def _serve(
    modules: tuple[str, ...], conn: socket.socket, runner: Callable[[dict[str, Any], list[int]], None]
) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    wake_r, wake_w = os.pipe()
    for fd in (wake_r, wake_w):
        os.set_blocking(fd, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)

    def send(message: dict[str, Any]) -> None:
        conn.sendall(json.dumps(message).encode() + b"\n")

    loaded = []
    for name in modules:
        try:
            importlib.import_module(name)
            loaded.append(name)
        except Exception:
            continue
    if threading.active_count() > 1:
        send({"refused": f"importing {', '.join(loaded)} starts a thread, which a fork would not carry"})
        return
    if "numpy.random" in sys.modules:
        os.register_at_fork(after_in_child=_reseed_numpy)
    gc.collect()
    gc.freeze()
    send({"ready": loaded})
    runners: dict[int, dict[str, Any]] = {}  # pid -> its run (id, home, folder)
    pending = bytearray()
    while True:
        try:
            readable, _, _ = select.select([conn.fileno(), wake_r], [], [], 5.0)
        except InterruptedError:
            readable = []
        if wake_r in readable:
            drain(wake_r)
        while runners:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if not pid:
                break
            note_runner_end(runners.pop(pid, None), pid, status)
            send({"ended": pid})
        if conn.fileno() not in readable:
            continue
        chunk = conn.recv(1 << 16)
        if not chunk:
            return  # the service is gone or let us go
        pending += chunk
        while (end := pending.find(b"\n")) >= 0:
            request = json.loads(bytes(pending[:end]))
            del pending[: end + 1]
            from .runner_liveness import process_start_time

            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                runner(request, [conn.fileno(), wake_r, wake_w])
            runners[pid] = {k: request.get(k) for k in ("run_id", "home", "run_dir")}
            send({"pid": pid, "started": process_start_time(pid)})


def note_runner_end(request: dict[str, Any] | None, pid: int, status: int) -> None:
    """A runner ended (reaped by the service or a zygote). If not cleanly (killed by a signal, it could
    say nothing), note how in its run's runner.log, and wake whoever waits for the run (run_notify): a
    reader then finds the runner gone and records the run FAILED, without waiting for its next look."""
    code = os.waitstatus_to_exitcode(status)
    if not request or code == 0:
        return
    how = f"killed by signal {-code}" if code < 0 else f"exited with code {code}"
    try:
        with open(os.path.join(str(request["run_dir"]), "runner.log"), "a") as f:
            f.write(f"runner process {pid} {how} at {time.ctime()}\n")
    except OSError:
        pass
    from pathlib import Path

    from ..store.run_notify import publish

    run_id = str(request.get("run_id", ""))
    if run_id and request.get("home"):
        publish(Path(request["home"]), [run_id], [run_id])
