"""The step workers' zygote: a fresh interpreter with only kfp's executor loaded, kept by the runner
service, that forks each run's step worker (worker.py) on request.

Why: on this kind of machine (a VM with nested paging) a fork and an exit cost in proportion to the
forking process's anonymous memory. A step worker forked from the service (or from a runner forked
from it) carries the whole engine, the store, psutil... (~18 MB), and every step it forks pays for
that twice, at its fork and at its exit; a worker forked from this small process (~9.5 MB, as a
freshly started worker) pays half. The worker is otherwise the same as one started with
`python -c worker.py`: the same code, kfp preloaded the same way, the run's environment and working
directory, its stdin/stdout the runner's pipes, its stderr the run's worker.log.

Run as ``python -c <this file's source> ADDRESS WORKER_PY PACKAGE...`` by the service (`launch`): it loads
worker.py from its file and imports, of this package, only the step runtime every notebook step
imports first (`PRELOADED`), so it stays small. It listens on ADDRESS, a Unix
SOCK_SEQPACKET socket created 0600 (only the user connects) once kfp is loaded (a runner that finds no
socket forks its worker itself, as before). A runner (warm_worker.worker_from_zygote) sends one message:
JSON {"env", "cwd"} with four descriptors (the worker's stdin, stdout, stderr, and a status pipe); the
zygote forks the worker and answers {"pid"} with a pidfd of it (so the runner signals that process and
no other, even after its pid is reused). The worker is the zygote's child: the zygote reaps it and
writes its raw wait status on the status pipe. On EOF on its stdin (the service exits or let it go)
the zygote stops listening, and exits once its workers have ended.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import traceback
import types
from pathlib import Path

STATUS = struct.Struct("=i")  # a worker's raw wait status, written on its status pipe when reaped
_MAX_FD = 65536
_MAX_MESSAGE = 1 << 20
# What every notebook step imports first (~2.5 ms of each step otherwise), with its modules.
PRELOADED = ("jupyter_mlops.step_runtime",)


def address_for(service_address: str) -> str:
    """The zygote's socket, next to the service's (as short: `x.sock` -> `x.wsock`)."""
    stem = service_address[: -len(".sock")] if service_address.endswith(".sock") else service_address
    return stem + ".wsock"


def launch(service_address: str, python: str = sys.executable) -> subprocess.Popen[bytes] | None:
    """Start the zygote for the service listening at `service_address`; None if it cannot start."""
    here = Path(__file__)
    try:
        arguments = [address_for(service_address), str(here.with_name("worker.py")), *PRELOADED]
        return subprocess.Popen(
            [python, "-c", here.read_text(), *arguments],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            env=dict(os.environ, _KFP_RUNTIME="true"),
            close_fds=True,
        )
    except OSError as e:
        print(f"no step worker zygote: {e}", file=sys.stderr, flush=True)
        return None


def _load_worker(path: str) -> types.ModuleType:
    module = types.ModuleType("_jupyter_mlops_step_worker")
    module.__file__ = path
    with open(path, encoding="utf-8") as f:
        exec(compile(f.read(), path, "exec"), module.__dict__)
    return module


def _import_packages(packages: list[str]) -> None:
    """Import each package and its modules; one that cannot be is left to the steps that need it."""
    import importlib
    import pkgutil

    for name in packages:
        try:
            package = importlib.import_module(name)
            for module in pkgutil.iter_modules(getattr(package, "__path__", [])):
                importlib.import_module(f"{name}.{module.name}")
        except Exception:
            continue


def _listen(address: str) -> tuple[socket.socket, tuple[int, int]]:
    try:
        os.unlink(address)  # a dead zygote's socket (the service holds its lock: no live one serves it)
    except FileNotFoundError:
        pass
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    old = os.umask(0o177)
    try:
        listener.bind(address)
    finally:
        os.umask(old)
    os.chmod(address, 0o600)
    listener.listen(64)
    listener.setblocking(False)
    bound = os.stat(address)
    return listener, (bound.st_dev, bound.st_ino)


def _unlisten(listener: socket.socket, address: str, ident: tuple[int, int]) -> None:
    try:
        now = os.stat(address)
        if (now.st_dev, now.st_ino) == ident:  # still ours, not a newer service's zygote's
            os.unlink(address)
    except OSError:
        pass
    listener.close()


def _become_worker(worker: types.ModuleType, request: dict[str, object], fds: list[int]) -> None:
    """In the forked child: take the runner's pipes and environment, and be its step worker."""
    code = 1
    try:
        for fd, target in zip(fds[:3], (0, 1, 2), strict=True):
            os.dup2(fd, target)
        os.closerange(3, _MAX_FD)  # the listener, the status pipes (the zygote's to write)
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        env = request.get("env")
        if isinstance(env, dict):
            os.environ.clear()
            os.environ.update({str(k): str(v) for k, v in env.items()})
        os.environ["_KFP_RUNTIME"] = "true"
        cwd = request.get("cwd")
        if isinstance(cwd, str):
            try:
                os.chdir(cwd)
            except OSError:
                pass
        worker.main()
        code = 0
    except BaseException:
        traceback.print_exc()
    finally:
        try:
            sys.stderr.flush()
        finally:
            os._exit(code)


def _fork_one(listener: socket.socket, worker: types.ModuleType, statuses: dict[int, int]) -> None:
    try:
        conn, _ = listener.accept()
    except (BlockingIOError, InterruptedError):
        return
    fds: list[int] = []
    with conn:
        try:
            conn.settimeout(5.0)
            data, fds, _, _ = socket.recv_fds(conn, _MAX_MESSAGE, 4)
            request = json.loads(data)
            if len(fds) != 4 or not isinstance(request, dict):
                return
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                _become_worker(worker, request, fds)
            statuses[pid] = fds.pop()  # the status pipe stays with us until the worker is reaped
            pidfd = os.pidfd_open(pid)  # before any reap of ours: the pid is still the worker's
            try:
                socket.send_fds(conn, [json.dumps({"pid": pid}).encode()], [pidfd])
            finally:
                os.close(pidfd)
        except (OSError, ValueError):
            return  # the runner gave up (it then forks its worker itself): a worker got EOF and exits
        finally:
            for fd in fds:
                os.close(fd)


def _reap(statuses: dict[int, int]) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if not pid:
            return
        fd = statuses.pop(pid, None)
        if fd is not None:
            try:
                os.write(fd, STATUS.pack(status))
            except OSError:
                pass  # its runner is gone
            os.close(fd)


def serve(address: str, worker_path: str, packages: list[str]) -> None:
    import ctypes

    ctypes.CDLL(None, use_errno=True)  # the worker arms each step's death with it through prctl
    worker = _load_worker(worker_path)
    os.environ["_KFP_RUNTIME"] = "true"
    _import_packages(packages)
    worker.preload()  # kfp's executor, then a collection and gc.freeze(), as in a started worker
    wake_r, wake_w = os.pipe()
    for fd in (wake_r, wake_w):
        os.set_blocking(fd, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # (SIGINT keeps Python's handler: workers inherit it)
    listener, ident = _listen(address)
    statuses: dict[int, int] = {}  # worker pid -> its status pipe
    serving = True
    while serving or statuses:
        watched = [wake_r, 0, listener.fileno()] if serving else [wake_r]
        try:
            readable, _, _ = select.select(watched, [], [], 5.0)
        except InterruptedError:
            readable = []
        if wake_r in readable:
            try:
                while os.read(wake_r, 4096):
                    pass
            except BlockingIOError:
                pass
        _reap(statuses)
        if serving and 0 in readable and not os.read(0, 4096):
            serving = False  # the service is gone: no new workers; the running ones go on
            _unlisten(listener, address, ident)
        elif serving and listener.fileno() in readable:
            _fork_one(listener, worker, statuses)


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2], sys.argv[3:])
