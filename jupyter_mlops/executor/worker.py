"""The pre-warmed step worker: imports kfp's executor once, then forks one child per step.

Run as ``python -c <this file's source>`` by `processes.ForkWorker` (never imported by the engine, and
importing nothing from this package, so it works with any interpreter that has kfp); with
``--run-one REQUEST.json`` it runs a single step instead (`processes.spawn_subprocess`).

Protocol: requests are JSON lines on stdin ``{"id", "module", "function", "executor_input", "log",
"env"}`` (and optionally "cwd"; "spare": false after the run's last step; "ahead": the module the engine
expects the next step to run, which the next spare compiles while it waits); replies are JSON lines on
the original stdout: ``{"ready": true}`` once, then ``{"id", "pid"}`` when a step's child starts and
``{"id", "status"}`` (a raw wait status) when it ends, or ``{"id", "code", "clean": true}`` as soon as
the step said it is done when it left no process behind (see `_clean_end`). ``{"id", "signal"}`` asks the
worker to signal that step's process group: only the worker knows whether it has reaped the step (after
which its pid may belong to anyone), so only the worker signals steps. When a step ends, what it left
running in its group is killed before the step is reaped (while its zombie still holds the group id). On
stdin EOF (the engine went away) the worker terminates the process groups of the steps still running and
exits; if the worker itself dies, its steps get SIGKILL from the kernel (PR_SET_PDEATHSIG). Its last line
is ``{"bye": true, "clean", "ended"}`` (see the end of `main`).

Each step's process is forked ahead, as a spare, while the step before it runs: it readies itself (its
session, its death with the worker) and waits for its request on a pipe of its own, so a request costs
a write instead of a fork of this large process (~1-2 ms here, where page tables are costly). Every
spare is forked from the unchanged worker, so each step still starts from the same state.

The worker is a child subreaper (PR_SET_CHILD_SUBREAPER): a process a step starts stays in the
worker's tree when its parent exits (a double-forked daemon is adopted by the worker, not by init).
So when a step says it is done (its exit code, on a pipe, after it flushed its output) and neither it
nor the worker has a child besides the running steps, the step left nothing anywhere: the worker
SIGKILLs it (it was about to exit) and reports its end at once, without waiting for its process to be
torn down, and the engine skips its scan of every process for the step's tag (leftovers.py). Otherwise
the end is reported when the step is reaped, as before, and the engine scans.

A step need not wait for the worker to tell its end: each step is a child subreaper too (as a pod's
first process), so when, at its end, it has no child and runs no other thread, nothing it started runs
anywhere, and it writes ``{"id", "pid", "code", "clean": true}`` on the worker's reply pipe itself
before it exits (`_Told`); the engine takes the first word it gets of a step's end. The worker still
hears the step, ends it and reaps it as above, but writes no end of its own for it (the step said it
told the engine).
"""

from __future__ import annotations

import gc
import json
import os
import select
import signal
import struct
import sys
import time
import traceback
import types
from collections.abc import Callable
from typing import Any

_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36
# (pid, exit code, told: 1 if it told the engine its end itself): a step says it is done, on the worker's pipe
_DONE = struct.Struct("=iii")


def _die_with_parent() -> Callable[[int], bool]:
    """For a forked child: ask the kernel for SIGKILL when this worker dies (an engine that lost its
    worker cannot tell whether the step's pid is still the step's, so it cannot kill it itself), and
    make the step a child subreaper, as a pod's first process: the orphans of what it starts stay in
    its tree while it runs (True if they do)."""
    import ctypes

    prctl = ctypes.CDLL(None, use_errno=True).prctl

    def arm(worker_pid: int) -> bool:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != worker_pid:  # the worker died between the fork and the prctl
            os._exit(1)
        return int(prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) == 0

    return arm


def _become_subreaper() -> bool:
    """Adopt the orphans of this worker's steps (Linux); False where the system cannot."""
    import ctypes

    try:
        return int(ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _children(pid: int) -> list[int] | None:
    """The children of every thread of `pid` (zombies included); None if they cannot be read."""
    try:
        found = []
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children", "rb") as f:
                found += [int(c) for c in f.read().split()]
        return found
    except (OSError, ValueError):
        return None


def _clean_end(step: int, expected: set[int]) -> bool:
    """Has the step `step` (SIGKILLed, not reaped) left no process? It has no child, and this worker,
    which adopts the orphans of its steps' trees, has no child but its steps (`expected`). The step's
    children are read first: one moved to this worker meanwhile is then seen in one list or the other."""
    return _children(step) == [] and set(_children(os.getpid()) or [-1]) <= expected


def _signal_step(pid: int, sig: int) -> None:
    """Signal an unreaped child's group (or just the child, if it has not made its session yet)."""
    try:
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            os.kill(pid, sig)
    except OSError:
        pass


def _run_child(
    request: dict[str, Any] | None,
    keep_fds: tuple[int, ...],
    arm: Callable[[int], bool],
    done: int,
    requests: int | None = None,
    preloaded: frozenset[str] = frozenset(),
    tell: int = -1,
    ahead: str | None = None,
) -> None:
    """In the forked child: become a session leader, log to the step's file, run kfp's executor; once
    its output is flushed, say so on `done` (the worker may then end it, see `_clean_end`). A spare
    (`request` None) is forked ahead of its step: it readies itself, then reads its request from
    `requests` (nothing: the worker is ending, and so does it). `tell`: the worker's own reply pipe to
    the engine, on which the step tells its end itself when nothing of it can run on (`_Told`).
    `ahead`: the component module the engine expects this spare's step to run (the next step of a
    chain): the spare compiles it while it waits, off its step's path (`_Compiled.ahead`)."""
    code = 1
    subreaper = False
    told: _Told | None = None
    try:
        told = _Told(done, tell)
        worker_pid = os.getppid()
        os.setsid()
        subreaper = arm(worker_pid)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the only handler the worker changed
        signal.signal(signal.SIGINT, signal.default_int_handler)  # as a fresh interpreter (not a runner's)
        signal.set_wakeup_fd(-1)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        for fd in (null, *keep_fds):
            os.close(fd)
        _prepare()
        if request is None:
            _touch_ahead()
            if ahead is not None:
                _COMPILED.ahead(ahead)
            data = bytearray()
            while chunk := os.read(requests if requests is not None else 0, 1 << 16):
                data += chunk
            if not data.strip():
                os._exit(0)
            request = json.loads(bytes(data))
        told.id = request["id"]
        log = os.open(request["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(log)
        if "environ" in request:  # forked before its worker was settled (see `_settle`)
            os.environ.clear()
            os.environ.update(request["environ"])
        os.environ.update(request["env"])
        _follow_time_zone()
        if request.get("cwd"):
            try:
                os.chdir(request["cwd"])  # the notebook's folder, as in its kernel
            except OSError as e:
                print(f"cannot enter the step's working directory {request['cwd']}: {e}", file=sys.stderr)
                return
            _import_from(os.getcwd(), preloaded)
        code = _run_step(request)
        _finish_as_python_does()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
            if told is not None:
                told.end(code, subreaper)
        finally:
            os._exit(code)


class _Told:
    """A step's word at its end. To its worker, on `done`: its pid and exit code (`_DONE`), after its
    output is flushed. To the engine, on `tell` (its worker's reply pipe, a line of the worker's
    protocol: ``{"id", "pid", "code", "clean": true}``), so that the engine goes on without waiting
    for the worker to wake, hear the step and reply; said only when nothing the step started can still
    run: the step is a child subreaper (the orphans of its tree are its children), has no child, and
    runs no thread but the one saying it, which then only exits. Otherwise (a daemon thread, a process
    left, a step killed before its end) the worker tells the end, as before. Nothing forked from the
    step keeps `tell` (closed in their children), and nothing is written on a descriptor that is no
    longer the pipe it was (the step's code closed it and opened a file of its own there)."""

    def __init__(self, done: int, tell: int) -> None:
        self.done, self.tell = done, tell
        self.pipes = {fd: os.fstat(fd)[1:3] for fd in (done, tell) if fd >= 0}  # (inode, device)
        self.id: int | None = None
        if tell >= 0:
            os.register_at_fork(after_in_child=self.forget)

    def forget(self) -> None:
        """In a process the step forks: `tell` is not its to write."""
        fd, self.tell = self.tell, -1
        if fd >= 0:
            try:
                os.close(fd)
            except OSError:
                pass

    def end(self, code: int, subreaper: bool) -> None:
        told = False
        if subreaper and self.id is not None and self._still(self.tell) and _alone():
            message = {"id": self.id, "pid": os.getpid(), "code": code, "clean": True}
            os.write(self.tell, json.dumps(message).encode() + b"\n")
            told = True
        if self._still(self.done):
            os.write(self.done, _DONE.pack(os.getpid(), code, told))

    def _still(self, fd: int) -> bool:
        try:
            return fd >= 0 and os.fstat(fd)[1:3] == self.pipes[fd]
        except OSError:
            return False


def _alone() -> bool:
    """This process runs one thread and has no child (zombies included)."""
    try:
        tasks = os.listdir("/proc/self/task")
        if len(tasks) != 1:
            return False
        fd = os.open(f"/proc/self/task/{tasks[0]}/children", os.O_RDONLY)
        try:
            return not os.read(fd, 64).strip()
        finally:
            os.close(fd)
    except OSError:
        return False


_NEVER_DROPPED = frozenset({"kfp", "jupyter_mlops", "google", "__main__"})


def _prepare() -> None:
    """What every forked step does before its own work, whatever it runs; a spare does it before its
    request arrives, off the step's path: only its own exit handlers (`_exit_handlers_of_its_own`),
    its output streams line-buffered, kfp's executor logging set up (its `_setup_logging`, which
    `_executor_main` then finds done)."""
    _exit_handlers_of_its_own()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    sys.stderr.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    from kfp.dsl import executor_main

    executor_main._setup_logging()


def _touch_ahead() -> None:
    """In a spare, before its request: run once, on throwaway values, library code every step runs
    first after its request (a log record and its message, a module's spec, an indented JSON), so that
    the copies of the pages it writes (reference counts of objects on pages shared with the worker:
    ~0.2-0.4 ms of a step's first calls) are made now, off the step's path. Nothing is logged, imported
    or kept, and no clock is turned into a local time."""
    import importlib.util
    import logging

    root = logging.getLogger()
    record = root.makeRecord(root.name, logging.INFO, "_", 0, "", (), None)
    record.message, record.asctime = record.getMessage(), ""
    for handler in root.handlers:
        (handler.formatter or logging.Formatter()).formatMessage(record)
    spec = importlib.util.spec_from_file_location(_MODULE_NAME, os.path.join(os.sep, "_", "_.py"))
    if spec is not None:
        importlib.util.module_from_spec(spec)
    json.dumps({"inputs": {"parameterValues": {"_": [0, ""]}}}, indent=4)


_MODULE_NAME = "ephemeral_component"  # the name kfp's own launcher gives every component's module
_PREAMBLE = "import kfp\nfrom kfp import dsl\nfrom kfp.dsl import *\nfrom typing import *\n"


def preloaded_packages() -> frozenset[str]:
    """The top-level names of the modules loaded here that a notebook's own file could shadow (not the
    standard library's, nor kfp's or this package's): found once in the worker, so that a step does
    not walk every loaded module (which touches, and copies, the pages of each one's name)."""
    loaded = {name.partition(".")[0] for name in sys.modules}
    return frozenset(loaded - _NEVER_DROPPED - set(sys.stdlib_module_names))


def _import_from(folder: str, preloaded: frozenset[str]) -> None:
    """Import as `python -m` in `folder` would: the step's working directory (the notebook's folder)
    first on sys.path, so the notebook's own modules (helpers.py, src/) import as in its kernel. A
    module preloaded before the fork (a zygote's) that a file there shadows is dropped from
    sys.modules, so that the step imports the file, as a fresh interpreter would."""
    if not sys.path or sys.path[0] != folder:
        sys.path.insert(0, folder)
    try:
        entries = os.listdir(folder)
    except OSError:
        return
    local = set()
    for entry in entries:
        stem = entry[:-3] if entry.endswith(".py") else entry
        if stem in preloaded and (
            entry.endswith(".py") or os.path.isfile(os.path.join(folder, entry, "__init__.py"))
        ):
            local.add(stem)
    if local:
        for name in [n for n in sys.modules if n.partition(".")[0] in local]:
            del sys.modules[name]


def _exit_handlers_of_its_own() -> None:
    """A forked step starts with no `atexit` handlers of the processes it was forked from (the
    runner service's, a zygote's: theirs to run, not the step's), but logging's, which flushes and
    closes the step's own log handlers."""
    import atexit

    atexit._clear()
    logging = sys.modules.get("logging")
    if logging is not None:
        atexit.register(logging.shutdown)


def _finish_as_python_does() -> None:
    """What `python -m kfp.dsl.executor_main` does after the step's function, before the process
    ends (a forked step ends with os._exit, which does neither by itself): wait for the threads the
    step started and did not mark daemon, then run its `atexit` handlers (mlflow's end_run, a
    writer's final flush). Errors in them are printed to the step's log, as Python prints them, and
    do not change its exit code."""
    import atexit
    import threading

    shutdown = getattr(threading, "_shutdown", None)  # CPython's own wait for non-daemon threads
    if callable(shutdown):
        try:
            shutdown()
        except Exception:
            traceback.print_exc()
    atexit._run_exitfuncs()


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

    from kfp.dsl import executor, executor_main

    executor_main._setup_logging()
    func_name, module_path = request["function"], request["module"]
    module_directory = os.path.dirname(module_path)
    module_name = _MODULE_NAME  # whatever the file's name: a run writes one file per component source
    logging.info(f"Looking for component `{func_name}` in --component_module_path `{module_path}`")
    logging.info(
        f'Loading KFP component "{func_name}" from {module_path} '
        f'(directory "{module_directory}" and module name "{module_name}")'
    )
    # The module is written anew for every step and read once: its bytecode file (a folder, a write, a
    # rename: ~1 ms a step) would serve nothing. What the step imports is cached as usual.
    writes, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        module = _load_module(module_name, module_path)
    finally:
        sys.dont_write_bytecode = writes
    executor_input = json.loads(request["executor_input"])
    logging.info(f"Got executor_input:\n{json.dumps(executor_input, indent=4)}")
    output_file = executor.Executor(
        executor_input=executor_input, function_to_execute=getattr(module, func_name)
    ).execute()
    if output_file is None:
        logging.info("Did not write output file.")
    else:
        logging.info(f"Wrote executor output file to {output_file}.")


def _load_module(name: str, path: str) -> Any:
    """Import the component's file as the module `name`, its folder first on sys.path, as kfp's
    `utils.load_module` does for `<folder>/<name>.py` (with the worker's compile of it, if current)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load the component module {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    sys.path.insert(0, os.path.dirname(path))
    code = _COMPILED.code_of(path)
    if code is None:
        spec.loader.exec_module(module)
    else:
        exec(code, module.__dict__)
    return module


def warm_kfp_executor() -> None:
    """What kfp's executor makes on its first use in a process, made here once for every step forked
    after: the regular expression it reads the type name of each output of a step returning a
    NamedTuple with (`type_annotations.get_short_type_name`: every notebook step with outputs), whose
    compile was ~0.2-0.4 ms of each such step. An older kfp without it: nothing to warm."""
    try:
        from kfp.dsl.types import type_annotations

        type_annotations.get_short_type_name("typing.List[int]")
    except (ImportError, AttributeError):
        pass


class _Compiled:
    """Component modules compiled once, in the worker, for the steps it forks after: a chain or a loop
    of one component runs its module in every step, and reading and compiling it cost each forked step
    ~0.3 ms. The worker compiles a module when it hands out the second step of it (a module used by
    one step only is not compiled twice); a step uses that code only while the file holds the very
    bytes it was compiled from (else it compiles the file itself, as the import system does)."""

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self.code: dict[str, tuple[bytes, types.CodeType] | None] = {}

    def learn(self, path: str) -> None:
        if path in self.code:
            return
        if path not in self.seen:
            self.seen.add(path)
            return
        self._compile(path)

    def ahead(self, path: str) -> None:
        """In a spare: compile the module its step is expected to run (whether or not it was seen), so
        that the step's load finds its code ready, as a repeated module's (`code_of` checks that the
        file still holds those bytes)."""
        if path not in self.code:
            self._compile(path)

    def _compile(self, path: str) -> None:
        try:
            with open(path, "rb") as f:
                data = f.read()
            # as importlib's source_to_code: the file's bytes, none of this file's __future__ flags
            self.code[path] = (data, compile(data, path, "exec", dont_inherit=True))
        except (OSError, SyntaxError, ValueError):
            self.code[path] = None  # the step's own load says what is wrong, in its log

    def code_of(self, path: str) -> types.CodeType | None:
        known = self.code.get(path)
        if known is None:
            return None
        try:
            with open(path, "rb") as f:
                current = f.read()
        except OSError:
            return None
        return known[1] if current == known[0] else None


_COMPILED = _Compiled()


def preload() -> None:
    """Load what every step needs, once (here, or in the zygote the worker is forked from)."""
    os.environ["_KFP_RUNTIME"] = "true"
    # What every lightweight component's module imports first: paid here once, not per step.
    import kfp  # noqa: F401
    from kfp import dsl  # noqa: F401
    from kfp.dsl import executor_main  # noqa: F401

    # The preamble kfp writes at the top of every component module, run once here so that
    # whatever it imports lazily is already loaded in each forked child.
    exec(_PREAMBLE, {})
    warm_kfp_executor()
    # Keep the collector away from everything imported so far: a child that runs a collection
    # would otherwise touch (and copy) every page it shares with the worker.
    gc.collect()
    gc.freeze()


def main() -> None:
    preload()
    preloaded = preloaded_packages()
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
    subreaper = _become_subreaper()
    done_r, done_w = os.pipe()
    os.set_blocking(done_r, False)
    children: dict[int, int] = {}  # pid -> request id (unreaped children only)
    pids: dict[int, int] = {}  # request id -> pid
    said: dict[int, int] = {}  # pid -> the exit code a step said it ends with
    ended: set[int] = set()  # steps whose end was told (they left nothing), not reaped yet
    spare: dict[int, int] = {}  # at most one step process forked ahead: pid -> its request pipe

    def fork_spare(ahead: str | None = None) -> None:
        """Fork the next step's process now, off the path of the request that will use it; `ahead`:
        the module that step is expected to run, which the spare compiles while it waits."""
        read, write = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            os.close(read)
            os.close(write)
            return
        if pid == 0:
            os.close(write)
            _run_child(None, (wake_r, wake_w, done_r), arm, done_w, read, preloaded, out, ahead)
        os.close(read)
        spare[pid] = write

    def hand_to_spare(line: bytes) -> int | None:
        """The spare's pid, once it has `line`; None if there is none (or it died)."""
        if not spare:
            return None
        pid, write = spare.popitem()
        try:
            data = memoryview(line + b"\n")
            while data:
                data = data[os.write(write, data) :]
            return pid
        except OSError:
            return None  # it is reaped as any orphan (reap)
        finally:
            os.close(write)

    def reply(message: dict[str, Any]) -> None:
        data = (json.dumps(message) + "\n").encode()
        while data:
            data = data[os.write(out, data) :]

    def reap() -> None:
        while True:  # steps, and the orphans of steps' trees this worker adopted
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
            ended.discard(pid)
            rid = children.pop(pid, None)
            if rid is not None:
                pids.pop(rid, None)
                code = said.pop(pid, None)
                reply({"id": rid, "status": status} if code is None else {"id": rid, "code": code})

    def hear_done(data: bytearray) -> None:
        """Steps that said they are done: told at once when they left no process (`_clean_end`), and
        not told again when the step told the engine itself (it left nothing: `_Told`)."""
        while len(data) >= _DONE.size:
            pid, code, told = _DONE.unpack(bytes(data[: _DONE.size]))
            del data[: _DONE.size]
            rid = children.get(pid)
            if rid is None:
                continue  # reaped already (its end was told then)
            said[pid] = code
            os.kill(pid, signal.SIGKILL)  # ours, unreaped; it was exiting: now none of its threads forks
            if told or (subreaper and _clean_end(pid, {*children, *ended, *spare})):
                del children[pid], pids[rid], said[pid]
                ended.add(pid)
                if not told:
                    reply({"id": rid, "code": code, "clean": True})

    reply({"ready": True, "pid": os.getpid()})
    fork_spare()
    pending = bytearray()  # (appending to bytes would copy a large executor input over and over)
    environ: dict[str, str] = {}
    unsettled: set[int] = set()
    done = bytearray()
    stdin = sys.stdin.fileno()
    while True:
        try:
            readable, _, _ = select.select([stdin, wake_r, done_r], [], [], 1.0)
        except InterruptedError:
            readable = []
        if done_r in readable:
            _drain(done_r, done)
            hear_done(done)
        if wake_r in readable:
            _drain(wake_r, bytearray())
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
            if "settle" in request:
                environ = _settle(request["settle"])
                unsettled = set(spare)  # forked before: the environment goes with its request
                continue
            if "signal" in request:
                target = pids.get(request["id"])
                if target is not None:  # else reaped already (its end is on its way to the engine)
                    _signal_step(target, int(request["signal"]))
                continue
            if unsettled.intersection(spare):
                line = json.dumps({**request, "environ": environ}).encode()
            handed = hand_to_spare(line)
            if handed is not None:
                pid = handed
            else:
                try:
                    pid = os.fork()
                except OSError as e:
                    reply({"id": request["id"], "error": f"cannot fork a step process: {e}"})
                    continue
                if pid == 0:
                    _run_child(request, (wake_r, wake_w, done_r), arm, done_w, None, preloaded, out)
            children[pid] = request["id"]
            pids[request["id"]] = pid
            reply({"id": request["id"], "pid": pid})
            if isinstance(request.get("module"), str):
                _COMPILED.learn(request["module"])  # before the next spare's fork: it inherits the code
            if request.get("spare", True):  # not after what the run says is its last step
                ahead = request.get("ahead")
                fork_spare(ahead if isinstance(ahead, str) else None)
    # The engine is gone: stop the steps it can no longer watch; the spare, given nothing, exits.
    for pid, write in spare.items():
        os.close(write)
        ended.add(pid)  # (it ran nothing, so it left nothing)
    for pid in list(children):  # unreaped, so their pids are still theirs
        _signal_step(pid, signal.SIGTERM)
    deadline = time.monotonic() + 3
    while children and time.monotonic() < deadline:
        reap()
        time.sleep(0.05)
    for pid in list(children):
        _signal_step(pid, signal.SIGKILL)
    # Goodbye, and whether this worker's tree holds nothing but steps whose end was told (childless,
    # SIGKILLed, being torn down): the engine need not then wait for this process's own teardown.
    left = _children(os.getpid())
    clean = subreaper and left is not None and set(left) <= ended
    reply({"bye": True, "clean": clean, "ended": sorted(ended)})


# The time zone the C library and the `time` module read from TZ when this process (or the one it was
# forked from) imported `time`: a forked step keeps it until told to read TZ again.
_ZONE_READ = os.environ.get("TZ")


def _follow_time_zone() -> None:
    """A step's local time follows its environment's TZ, as in a process started with it: read TZ again
    when it differs from what the zone was read from (nothing to do in the usual case, no TZ change)."""
    if os.environ.get("TZ") != _ZONE_READ:
        time.tzset()


def _settle(settle: dict[str, Any]) -> dict[str, str]:
    """A worker forked ahead of its run (the runner service's spare runner: backends/forked_runner.py)
    is told the run's environment, folder and log before any step: it takes them as its own, as a worker
    forked for the run would have them; its environment, which the spare step forked before this takes
    with its request."""
    environ: dict[str, str] = settle["environ"]
    os.environ.clear()
    os.environ.update(environ)
    try:
        os.chdir(settle["cwd"])
        os.makedirs(os.path.dirname(settle["log"]), exist_ok=True)
        fd = os.open(settle["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        os.dup2(fd, 2)
        os.close(fd)
    except OSError as e:
        print(f"step worker {os.getpid()}: {e}", file=sys.stderr)
    return environ


def _drain(fd: int, into: bytearray) -> None:
    try:
        while chunk := os.read(fd, 4096):
            into += chunk
    except BlockingIOError:
        pass


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
