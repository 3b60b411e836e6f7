"""The warm runner service: `python -m jupyter_mlops.backends.runner_service --home H --socket S`.

One long-lived process per jupyter-mlops home (service_address.py), started on demand by the first
run (service_client.py), with kfp's executor and this package's engine imported once. For each run
handed to it over its Unix socket it forks a runner: a process of its own session that runs the run
exactly as a per-run runner process would (local_runner.run: its pid and start time recorded, its
heartbeat, its cancel and SIGTERM handling), with the kernel's environment, and whose step worker is
forked from it at once with everything loaded (executor/warm_worker.py).

Runs do not depend on the service once forked: killing the service (or its crash) ends no run; the
runs finish and are reaped by init, and the next run starts a new service. The service itself stays
single-threaded (it only forks), holds no store connection, and exits after `--idle` seconds with no
runner alive and no request. A lock file next to the socket lets only one service serve a socket.

Protocol: one JSON line per connection, one JSON line back. {"op": "run", "run_id", "home",
"artifact_root", "max_workers", "run_dir", "env", "documents"} -> {"pid", "started"}; {"op": "ping"} ->
{"pid", "runs", "idle", "zygotes", "spare"}; an error -> {"error"}.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ..executor import worker_zygote
from ..executor.processes import describe_exit
from . import zygotes
from .forked_runner import Spare, exit_when_done, fork_spare, leave_service, take_run
from .service_freshness import Freshness, modules_stamp
from .service_io import drain, read_line, send_reply
from .zygote_environment import digest as environment_digest
from .zygote_environment import import_environment
from .zygotes import MAX_ZYGOTES, Zygote, memory_cap, note_runner_end, zygotes_wanted

READ_TIMEOUT_S = 30.0  # a client that connects must send its request within this
ZYGOTE_WAIT_S = 20.0  # a run of several steps importing a new set waits this long at most for its zygote
# The step workers' zygote is started again when it dies, at most this many times in this many seconds
# (a zygote that keeps dying is given up: runners then fork their workers themselves).
WORKERS_RESTARTS = (3, 600.0)


def warm_up() -> None:
    """Import what every runner and step worker needs, once, before the first fork."""
    os.environ["_KFP_RUNTIME"] = "true"  # kfp's light runtime import, as a fresh step worker has it
    import gc
    import importlib
    import pkgutil

    import kfp  # noqa: F401
    import psutil  # noqa: F401
    from kfp import dsl  # noqa: F401
    from kfp.dsl import executor_main  # noqa: F401

    from .. import executor, ir, step_runtime, store
    from ..executor import prelude, worker
    from . import local_runner  # noqa: F401

    # what a run imports on its way, so that no runner does; and the step runtime, which every
    # notebook step imports first (~2.5 ms of each forked step otherwise)
    for package in (executor, ir, store, step_runtime):
        for module in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"{package.__name__}.{module.name}")
    # a step's requirements are checked against what is installed: packaging, importlib.metadata
    # and its directory caches, loaded here once
    prelude.requirements_satisfied(("kfp",))
    import ctypes  # the step worker arms each step's death with its parent through prctl (worker.py)

    ctypes.CDLL(None, use_errno=True)

    exec("import kfp\nfrom kfp import dsl\nfrom kfp.dsl import *\nfrom typing import *\n", {})
    worker.warm_kfp_executor()  # what kfp's executor compiles on first use (a step worker forked here)
    gc.collect()
    gc.freeze()  # forked runners and workers then share these pages instead of copying them


class Service:
    def __init__(self, home: Path, address: Path, idle: float) -> None:
        self.home = home
        self.address = address
        self.idle = idle
        self.runners: dict[int, dict[str, Any]] = {}  # pid -> its run (id, home, folder), until reaped
        self.last_request = time.monotonic()
        self.stopping = False
        self.keep: list[int] = []  # our own descriptors, closed in every forked runner
        self.socket_file: tuple[int, int] | None = None
        # per import set and environment (zygotes.py, zygote_environment.py)
        self.zygotes: dict[tuple[tuple[str, ...], str], Zygote] = {}
        self.refused: set[tuple[str, ...]] = set()  # import sets a zygote cannot hold
        self.importable: dict[str, bool] = {}
        self.freshness = Freshness()
        self.spare: Spare | None = None  # a runner forked ahead, waiting for a run (forked_runner.py)
        self.line = b""  # the request being handled, as it came (what a spare is handed)
        self.workers: subprocess.Popen[bytes] | None = None  # the step workers' zygote
        # runs waiting for a new zygote (its imports loading): answered when it is ready, while the
        # service goes on serving others
        self.waiting: list[Waiting] = []
        self.workers_started: list[float] = []  # when it was started again (WORKERS_RESTARTS)

    def serve(self, lock_fd: int, workers: subprocess.Popen[bytes] | None = None) -> None:
        """Serve until idle or stopped (`workers`: the step workers' zygote, which goes with it)."""
        wake_r, wake_w = os.pipe()
        for fd in (wake_r, wake_w):
            os.set_blocking(fd, False)
        signal.set_wakeup_fd(wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        listener = self._listen()
        self.keep = [lock_fd, wake_r, wake_w, listener.fileno()]
        self._keep_workers(workers)
        print(f"runner service {os.getpid()} serves {self.address} (idle exit after {self.idle:g} s)",
              flush=True)  # fmt: skip
        try:
            while not self.stopping:
                try:
                    zygotes = [z.fileno() for z in self.zygotes.values()]
                    readable, _, _ = select.select(
                        [listener.fileno(), wake_r, *zygotes], [], [], self._select_timeout()
                    )
                except InterruptedError:
                    readable = []
                if wake_r in readable:
                    drain(wake_r)
                self._reap()
                self._hear_zygotes(readable)
                self._answer_waiting()
                if listener.fileno() in readable:
                    self._accept(listener)
                if self.spare is None and not self.stopping:
                    self.spare = fork_spare(self._ours(), str(self.address), self.home)  # for the next run
                busy = self.runners or self.waiting or any(z.runners for z in self.zygotes.values())
                if not busy and time.monotonic() - self.last_request > self.idle:
                    break
        finally:
            for waiting in self.waiting:  # (stopped while they waited: told, not left hanging)
                waiting.answer({"error": "the runner service stopped"})
            self._close(listener)
            for zygote in self.zygotes.values():
                zygote.close()
            self._let_spare_go()
            if self.workers is not None and self.workers.stdin is not None:
                self.workers.stdin.close()  # it exits once the workers it forked have ended
        print(f"runner service {os.getpid()} exits ({len(self.runners)} runs going on)", flush=True)

    def _stop(self, signum: int, frame: object) -> None:
        self.stopping = True

    def _listen(self) -> socket.socket:
        try:
            self.address.unlink()  # a dead service's socket: we hold the lock, so no one serves it
        except FileNotFoundError:
            pass
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)  # the socket file is 0600 from its creation: only the user connects
        try:
            listener.bind(str(self.address))
        finally:
            os.umask(old)
        os.chmod(self.address, 0o600)
        bound = os.stat(self.address)
        self.socket_file = (bound.st_dev, bound.st_ino)  # removed at exit only if it is still this one
        listener.listen(64)
        listener.setblocking(False)
        return listener

    def _close(self, listener: socket.socket) -> None:
        """Stop being found (the socket file goes first), then answer whoever already connected."""
        try:
            now = os.stat(self.address)
            if (now.st_dev, now.st_ino) == self.socket_file:
                self.address.unlink()
        except OSError:
            pass
        while True:
            try:
                readable, _, _ = select.select([listener], [], [], 0)
            except InterruptedError:
                continue
            if not readable:
                break
            self._accept(listener)
        listener.close()

    def _accept(self, listener: socket.socket) -> None:
        try:
            conn, _ = listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        self.last_request = time.monotonic()
        with conn:
            try:
                conn.setblocking(True)
                conn.settimeout(READ_TIMEOUT_S)
                self.line = read_line(conn)
                request = json.loads(self.line)
                reply = self._handle(request, conn)
            except Exception as exc:
                reply = {"error": f"{type(exc).__name__}: {exc}"}
            if isinstance(reply, Waiting):  # answered once its zygote is ready (_answer_waiting)
                reply.conn = conn.dup()
                self.waiting.append(reply)
            else:
                send_reply(conn, reply)
        self.last_request = time.monotonic()

    def _select_timeout(self) -> float:
        if not self.waiting:
            return 1.0
        return max(0.0, min(1.0, min(w.deadline for w in self.waiting) - time.monotonic()))

    def _answer_waiting(self) -> None:
        """Runs whose zygote is now ready (or cannot be, or took too long) are started and answered."""
        for waiting in list(self.waiting):
            zygote = waiting.zygote
            done = zygote.ready or zygote.refused is not None or zygote.key not in self.zygotes
            if not done and time.monotonic() < waiting.deadline:
                continue
            self.waiting.remove(waiting)
            kept = zygote.ready and zygote.refused is None and zygote.key in self.zygotes
            if kept and sum(z.rss_mb() for z in self.zygotes.values()) > memory_cap():
                self._make_room()  # over the cap with it: the least recently used go, maybe it
            ready = zygote if kept and zygote.key in self.zygotes else None
            self.line = waiting.line
            try:
                reply = self._start(waiting.request, waiting.fileno(), ready)
            except Exception as exc:
                reply = {"error": f"{type(exc).__name__}: {exc}"}
            waiting.answer(reply)
            self.last_request = time.monotonic()

    def _handle(self, request: dict[str, Any], conn: socket.socket) -> dict[str, Any] | Waiting:
        """The reply to a request, or the run's `Waiting` when it waits for its new zygote."""
        if request.get("op") == "ping":
            idle = max(0.0, self.idle - (time.monotonic() - self.last_request))
            runs = len(self.runners) + len(self.waiting) + sum(len(z.runners) for z in self.zygotes.values())
            preloaded = [list(z.modules) for z in self.zygotes.values()]
            waiting = self.spare.pid if self.spare is not None else None  # not a run (forked_runner.py)
            return {"pid": os.getpid(), "runs": runs, "idle": idle, "zygotes": preloaded, "spare": waiting}
        if request.get("op") != "run":
            return {"error": f"unknown request {request.get('op')!r}"}
        changed = self.freshness.changed()
        if changed is not None:  # a new service will load the new code; this one stops
            print(f"runner service {os.getpid()} stops: {changed} changed since it was loaded", flush=True)
            self.stopping = True
            return {"error": f"{changed} changed since the service loaded it", "stale": True}
        zygote = self._zygote_for(request, conn.fileno())
        if isinstance(zygote, Waiting):
            return zygote
        return self._start(request, conn.fileno(), zygote)

    def _start(self, request: dict[str, Any], conn: int, zygote: Zygote | None) -> dict[str, Any]:
        """Start the run: from its zygote, else in the spare runner, else in a runner forked now."""
        if zygote is not None:
            try:
                return zygote.fork_runner(request)
            except (OSError, ValueError) as exc:
                print(f"zygote {zygote.pid} ({', '.join(zygote.modules)}) failed: {exc}", flush=True)
                self._drop(zygote)
        from .runner_liveness import process_start_time

        spare, self.spare = self.spare, None
        if spare is not None and spare.hand(self.line):  # a write, no fork: it waited for a run
            self.runners[spare.pid] = {k: request.get(k) for k in ("run_id", "home", "run_dir")}
            return {"pid": spare.pid, "started": spare.started}
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            _runner(request, [*self._ours(), conn], str(self.address))
        self.runners[pid] = {k: request.get(k) for k in ("run_id", "home", "run_dir")}
        return {"pid": pid, "started": process_start_time(pid)}

    def _ours(self) -> list[int]:
        """The service's descriptors, none of which a process it forks may keep."""
        spare = [self.spare.write] if self.spare is not None and self.spare.write >= 0 else []
        waiting = [w.fileno() for w in self.waiting if w.conn is not None]
        return [*self.keep, *spare, *waiting, *(z.fileno() for z in self.zygotes.values())]

    def _let_spare_go(self) -> None:
        """At the service's end: its spare reads end-of-file and exits; reaped here, so that it is
        gone with the service (killed if it does not go within a second)."""
        spare, self.spare = self.spare, None
        if spare is None:
            return
        spare.close()
        deadline = time.monotonic() + 1.0
        while True:
            try:
                pid, _ = os.waitpid(spare.pid, os.WNOHANG)
            except ChildProcessError:
                return
            if pid:
                return
            if time.monotonic() >= deadline:
                spare.kill()
                deadline = float("inf")
            time.sleep(0.002)

    def _zygote_for(self, request: dict[str, Any], conn: int) -> Zygote | Waiting | None:
        """The ready zygote with the run's imports loaded; starts one (for later runs) if none, and
        when several of the run's steps import them, the run waits for it (a `Waiting`)."""
        if not zygotes_wanted() or not request.get("documents"):
            return None
        import importlib.util

        from ..ir.step_imports import executor_imports

        per_step = executor_imports(request["documents"])
        modules = []
        for name in sorted(set().union(*per_step)):
            if name not in self.importable:
                try:
                    self.importable[name] = importlib.util.find_spec(name) is not None
                except (ImportError, ValueError):
                    self.importable[name] = False
            if self.importable[name]:
                modules.append(name)
        loaded = tuple(modules)
        environment = import_environment(request.get("env") or {}, request["documents"])
        if not loaded or loaded in self.refused or environment is None:
            return None
        key = (loaded, environment_digest(environment))
        zygote = self.zygotes.get(key)
        if zygote is None:
            self._make_room()
            close = [*self._ours(), conn]  # not the client's
            address = str(self.address)
            zygote = zygotes.start(loaded, close, lambda r, c: _runner(r, c, address, True), environment)
            zygote.stamp = modules_stamp(loaded)
            self.zygotes[key] = zygote
            if sum(1 for names in per_step if names & set(loaded)) < 2:
                return None  # this run goes as before; the next ones find the modules loaded
            # Several of its steps import them: importing once, then forking each, beats importing in
            # each step (a chain of 5 sklearn steps: ~2.5 s a step, against one import and ~0.3 s).
            # The run waits for it (at most ZYGOTE_WAIT_S); other requests are served meanwhile.
            return Waiting(request, self.line, zygote, time.monotonic() + ZYGOTE_WAIT_S)
        if zygote.stamp != modules_stamp(loaded):  # upgraded or edited since it loaded them
            self._drop(zygote)
            return None
        return zygote if zygote.ready and zygote.refused is None else None

    def _make_room(self) -> None:
        """At most MAX_ZYGOTES - 1 before a new one, and the memory cap kept (least recently used first)."""
        by_use = sorted(self.zygotes.values(), key=lambda z: z.last_used)
        while by_use and (
            len(by_use) >= MAX_ZYGOTES or sum(z.rss_mb() for z in by_use) > memory_cap() * 0.75
        ):
            self._drop(by_use.pop(0))

    def _drop(self, zygote: Zygote) -> None:
        zygote.close()
        self.zygotes.pop(zygote.key, None)

    def _hear_zygotes(self, readable: list[int]) -> None:
        for zygote in list(self.zygotes.values()):
            if zygote.fileno() in readable:
                zygote.read(block=False)
                if zygote.refused is not None:
                    print(f"no zygote for {', '.join(zygote.modules)}: {zygote.refused}", flush=True)
                    self.refused.add(zygote.modules)
                    self._drop(zygote)
        if self.zygotes and sum(z.rss_mb() for z in self.zygotes.values()) > memory_cap():
            self._make_room()

    def _reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                self.runners.clear()
                return
            if not pid:
                return
            if self.spare is not None and pid == self.spare.pid:  # it died waiting: forked again
                self.spare.close()
                self.spare = None
            if self.workers is not None and pid == self.workers.pid:
                self._workers_ended(status)
                continue
            note_runner_end(self.runners.pop(pid, None), pid, status)

    def _keep_workers(self, workers: subprocess.Popen[bytes] | None) -> None:
        self.workers = workers
        if workers is not None and workers.stdin is not None:
            self.keep.append(workers.stdin.fileno())  # (closed in forked runners, as all of ours)

    def _workers_ended(self, status: int) -> None:
        """The step workers' zygote died (killed, out of memory): its workers go on (they are their
        runs'), runners meanwhile fork their own, and a new zygote is started unless this one is the
        latest of too many (WORKERS_RESTARTS)."""
        ended = self.workers
        assert ended is not None
        ended.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        if ended.stdin is not None:
            self.keep.remove(ended.stdin.fileno())
            ended.stdin.close()
        self.workers = None
        times, window = WORKERS_RESTARTS
        now = time.monotonic()
        self.workers_started = [t for t in self.workers_started if now - t < window]
        how = describe_exit(ended.returncode)
        if self.stopping or len(self.workers_started) >= times:
            print(f"step workers' zygote {ended.pid} {how}; not started again", flush=True)
            return
        self.workers_started.append(now)
        self._keep_workers(worker_zygote.launch(str(self.address)))
        again = f"started again as {self.workers.pid}" if self.workers is not None else "not started again"
        print(f"step workers' zygote {ended.pid} {how}; {again}", flush=True)


def _runner(request: dict[str, Any], close: list[int], address: str, preloaded: bool = False) -> None:
    """In the forked runner: leave the service behind, become the run's runner, exit with its code
    (`preloaded`: forked from a zygote with the run's imports, which its step worker must have too)."""

    def work() -> int:
        leave_service(close)
        return take_run(request, address, preloaded=preloaded)

    exit_when_done(work)


class Waiting:
    """A run request waiting for the zygote that loads its imports (the service answers it once the
    zygote is ready, refused or late, and serves other requests meanwhile)."""

    def __init__(self, request: dict[str, Any], line: bytes, zygote: Zygote, deadline: float) -> None:
        self.request, self.line, self.zygote, self.deadline = request, line, zygote, deadline
        self.conn: socket.socket | None = None  # the client's connection, kept open until answered

    def fileno(self) -> int:
        return self.conn.fileno() if self.conn is not None else -1

    def answer(self, reply: dict[str, Any]) -> None:
        if self.conn is not None:
            with self.conn:
                send_reply(self.conn, reply)
            self.conn = None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jupyter_mlops.backends.runner_service")
    parser.add_argument("--home", required=True, type=Path)
    parser.add_argument("--socket", required=True, type=Path)
    parser.add_argument("--idle", type=float, default=300.0)
    args = parser.parse_args(argv)
    lock_fd = os.open(f"{args.socket}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return 0  # another service serves this socket (two kernels started one at once)
    # each run's step worker is forked from it; it loads kfp while this process warms up
    workers = worker_zygote.launch(str(args.socket))
    warm_up()
    Service(args.home, args.socket, args.idle).serve(lock_fd, workers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
