"""The pre-warmed step worker: imports kfp's executor once, then forks one child per step.

Run as ``python -c <this file's source>`` by `processes.ForkWorker` (never imported by the engine, and
importing nothing from this package, so it works with any interpreter that has kfp); with
``--run-one REQUEST.json`` it runs a single step instead (`processes.spawn_subprocess`).

Protocol: requests are JSON lines on stdin
``{"id", "module", "function", "executor_input", "log", "env"}``; replies are JSON lines on the original
stdout: ``{"ready": true}`` once, then ``{"id", "pid"}`` when a step's child starts and
``{"id", "status"}`` (a raw wait status) when it ends. ``{"id", "signal"}`` asks the worker to signal
that step's process group: only the worker knows whether it has reaped the step (after which its pid
may belong to anyone), so only the worker signals steps. When a step ends, what it left running in its
group is killed before the step is reaped (while its zombie still holds the group id). On stdin EOF (the
engine went away) the worker terminates the process groups of the steps still running and exits; if
the worker itself dies, its steps get SIGKILL from the kernel (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import gc
import json
import os
import select
import signal
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> Callable[[int], None]:
    """For a forked child: ask the kernel for SIGKILL when this worker dies (an engine that lost its
    worker cannot tell whether the step's pid is still the step's, so it cannot kill it itself)."""
    import ctypes

    prctl = ctypes.CDLL(None, use_errno=True).prctl

    def arm(worker_pid: int) -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != worker_pid:  # the worker died between the fork and the prctl
            os._exit(1)

    return arm


def _signal_step(pid: int, sig: int) -> None:
    """Signal an unreaped child's group (or just the child, if it has not made its session yet)."""
    try:
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            os.kill(pid, sig)
    except OSError:
        pass


def _run_child(request: dict[str, Any], keep_fds: tuple[int, ...], arm: Callable[[int], None]) -> None:
    """In the forked child: become a session leader, log to the step's file, run kfp's executor."""
    code = 1
    try:
        worker_pid = os.getppid()
        os.setsid()
        arm(worker_pid)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the only handler the worker changed
        signal.set_wakeup_fd(-1)
        log = os.open(request["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        for fd in (log, null, *keep_fds):
            os.close(fd)
        os.environ.update(request["env"])
        if request.get("cwd"):
            try:
                os.chdir(request["cwd"])  # the notebook's folder, as in its kernel
            except OSError as e:
                print(f"cannot enter the step's working directory {request['cwd']}: {e}", file=sys.stderr)
                return
        code = _run_step(request)
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _run_step(request: dict[str, Any]) -> int:
    """Run the step's function with kfp's executor; its exit code, as `python -m` would give it."""
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    sys.stderr.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    sys.argv = [  # what user code would see under `python -m kfp.dsl.executor_main`
        "executor_main.py",
        "--component_module_path",
        request["module"],
        "--executor_input",
        request["executor_input"],
        "--function_to_execute",
        request["function"],
    ]
    try:
        _executor_main(request)
        return 0
    except SystemExit as e:
        if e.code is None:
            return 0
        if isinstance(e.code, int):
            return e.code
        print(e.code, file=sys.stderr)
        return 1
    except BaseException:
        traceback.print_exc()
        return 1


def _executor_main(request: dict[str, Any]) -> None:
    """kfp.dsl.executor_main.executor_main() without its argparse (a few ms of CPU per step):
    the same logging, module loading and kfp Executor."""
    import logging

    from kfp.dsl import executor, executor_main, utils

    executor_main._setup_logging()
    func_name, module_path = request["function"], request["module"]
    module_directory = os.path.dirname(module_path)
    module_name = os.path.basename(module_path)[: -len(".py")]
    logging.info(f"Looking for component `{func_name}` in --component_module_path `{module_path}`")
    logging.info(
        f'Loading KFP component "{func_name}" from {module_path} '
        f'(directory "{module_directory}" and module name "{module_name}")'
    )
    module = utils.load_module(module_name=module_name, module_directory=module_directory)
    executor_input = json.loads(request["executor_input"])
    logging.info(f"Got executor_input:\n{json.dumps(executor_input, indent=4)}")
    output_file = executor.Executor(
        executor_input=executor_input, function_to_execute=getattr(module, func_name)
    ).execute()
    if output_file is None:
        logging.info("Did not write output file.")
    else:
        logging.info(f"Wrote executor output file to {output_file}.")


def main() -> None:
    os.environ["_KFP_RUNTIME"] = "true"
    # What every lightweight component's module imports first: paid here once, not per step.
    import kfp  # noqa: F401
    from kfp import dsl  # noqa: F401
    from kfp.dsl import executor_main  # noqa: F401

    # The preamble kfp writes at the top of every component module, run once here so that
    # whatever it imports lazily is already loaded in each forked child.
    exec("import kfp\nfrom kfp import dsl\nfrom kfp.dsl import *\nfrom typing import *\n", {})
    # Keep the collector away from everything imported so far: a child that runs a collection
    # would otherwise touch (and copy) every page it shares with the worker.
    gc.collect()
    gc.freeze()

    out = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # a stray print in the worker must not corrupt the protocol
    os.close(devnull)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    os.set_blocking(wake_r, False)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.set_wakeup_fd(wake_w)
    arm = _die_with_parent()
    children: dict[int, int] = {}  # pid -> request id (unreaped children only)
    pids: dict[int, int] = {}  # request id -> pid

    def reply(message: dict[str, Any]) -> None:
        data = (json.dumps(message) + "\n").encode()
        while data:
            data = data[os.write(out, data) :]

    def reap() -> None:
        while children:
            try:  # an exited child, left a zombie: its pid (and group id) are still its own
                info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            except ChildProcessError:
                return
            if info is None:
                return
            pid = info.si_pid
            if pid in children:
                try:  # what the step left running in its group goes too, as when a pod's container exits
                    os.killpg(pid, signal.SIGKILL)
                except OSError:
                    pass
            _, status = os.waitpid(pid, 0)
            rid = children.pop(pid, None)
            if rid is not None:
                pids.pop(rid, None)
                reply({"id": rid, "status": status})

    reply({"ready": True, "pid": os.getpid()})
    pending = bytearray()  # (appending to bytes would copy a large executor input over and over)
    stdin = sys.stdin.fileno()
    while True:
        try:
            readable, _, _ = select.select([stdin, wake_r], [], [], 1.0)
        except InterruptedError:
            readable = []
        if wake_r in readable:
            try:
                while os.read(wake_r, 4096):
                    pass
            except BlockingIOError:
                pass
        reap()
        if stdin not in readable:
            continue
        chunk = os.read(stdin, 1 << 16)
        if not chunk:
            break
        pending += chunk
        while (end := pending.find(b"\n")) >= 0:
            line = bytes(pending[:end])
            del pending[: end + 1]
            if not line.strip():
                continue
            request = json.loads(line)
            if "signal" in request:
                target = pids.get(request["id"])
                if target is not None:  # else reaped already (its end is on its way to the engine)
                    _signal_step(target, int(request["signal"]))
                continue
            try:
                pid = os.fork()
            except OSError as e:
                reply({"id": request["id"], "error": f"cannot fork a step process: {e}"})
                continue
            if pid == 0:
                _run_child(request, (out, wake_r, wake_w), arm)
            children[pid] = request["id"]
            pids[request["id"]] = pid
            reply({"id": request["id"], "pid": pid})
    # The engine is gone: stop the steps it can no longer watch.
    for pid in list(children):  # unreaped, so their pids are still theirs
        _signal_step(pid, signal.SIGTERM)
    deadline = time.monotonic() + 3
    while children and time.monotonic() < deadline:
        reap()
        time.sleep(0.05)
    for pid in list(children):
        _signal_step(pid, signal.SIGKILL)


def run_one(request_file: str) -> None:
    """`--run-one FILE`: run one step in this fresh interpreter (a venv's, or where there is no fork).
    The request comes in a file because an executor input can exceed the OS limit on one argument."""
    os.environ["_KFP_RUNTIME"] = "true"
    with open(request_file, encoding="utf-8") as f:
        request = json.load(f)
    os.environ.update(request["env"])
    code = _run_step(request)
    sys.stdout.flush()
    sys.stderr.flush()
    sys.exit(code)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--run-one":
        run_one(sys.argv[2])
    else:
        main()
