"""Step processes: forked from the pre-warmed worker (Linux) or started as plain subprocesses.

Every step runs in its own session (process group), so cancelling or timing out a step kills the
whole group, children included, with SIGTERM and then SIGKILL.

A pid is only signalled by the process that will reap it, and only before it has reaped it: once a
step is reaped its pid (and so its group id, if the group is empty) may be reused at once by an
unrelated process (pid_max wraps within minutes on a busy machine), and every step and runner is a
group leader that a late `killpg` would hit. So a forked step is signalled by the worker that forked
it (on request), a subprocess step by the thread that waits for it; the leftovers of a step's group
are killed while its leader is still an unreaped zombie that holds the group id.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any, Protocol

_WORKER_SOURCE = Path(__file__).with_name("worker.py")
KILL_GRACE_SECONDS = 3.0


class WorkerProcess(Protocol):
    """The step worker's process as ForkWorker uses it: a `subprocess.Popen`, or a worker forked from
    a warm process (warm_worker.py)."""

    pid: int
    stdin: IO[bytes] | None
    stdout: IO[bytes] | None

    def poll(self) -> int | None: ...

    def wait(self, timeout: float | None = None) -> int: ...

    def kill(self) -> None: ...


class StepLaunchError(Exception):
    """The step's process could not be started (the message is the step's error)."""


class StepProcess(Protocol):
    pid: int
    error: str | None  # why it ended, when its exit code cannot tell (its worker died)
    clean: bool  # ended leaving no process anywhere (its worker saw its tree): no scan for its tag

    def wait(self, timeout: float | None = None) -> int | None:
        """The exit code (negative: killed by that signal), or None if still running after `timeout`."""

    def signal(self, sig: int) -> None:
        """Signal the step's process group, unless the step has already ended (then nothing)."""


def fork_supported() -> bool:
    return sys.platform.startswith("linux") and hasattr(os, "fork")


def pid_exists(pid: int) -> bool:
    """Does a process with this id exist (a zombie too)? One of another user's, which may not be
    signalled, counts as existing: not ours to judge."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


SIGKILL = getattr(signal, "SIGKILL", signal.SIGTERM)  # Windows has no SIGKILL (TerminateProcess)


def _signal_group(pid: int, sig: int) -> None:
    """Signal a step's process group; the caller guarantees `pid` is its own unreaped child.

    Just the process where there are no groups (Windows), or when the child has not yet made its
    session (forked a moment ago): its pid, unreaped, cannot belong to anyone else."""
    try:
        if hasattr(os, "killpg"):
            try:
                os.killpg(pid, sig)
                return
            except ProcessLookupError:
                pass
        os.kill(pid, sig)
    except OSError:
        pass


def stop(process: StepProcess, grace: float = KILL_GRACE_SECONDS) -> None:
    """SIGTERM the step's process group, then SIGKILL it if it has not ended after `grace` seconds.
    (What it leaves running in its group is killed when it ends, by whoever reaps it.)"""
    process.signal(signal.SIGTERM)
    if process.wait(grace) is None:
        process.signal(SIGKILL)
        process.wait(grace)


def describe_exit(code: int) -> str:
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"killed by {name}"
    return f"exited with code {code}"


class _ForkedStep:
    def __init__(self, request_id: int, worker: WorkerProcess, owner: ForkWorker) -> None:
        self.id = request_id
        self.worker = worker  # the worker process that forks (and reaps) this step
        self.owner = owner
        self.pid = 0
        self.started = threading.Event()
        self.ended = threading.Event()
        self.code: int | None = None
        self.error: str | None = None
        self.clean = False

    def wait(self, timeout: float | None = None) -> int | None:
        if not self.ended.wait(timeout):
            return None
        return self.code

    def signal(self, sig: int) -> None:
        if not self.ended.is_set():
            self.owner.signal(self, sig)


class ForkWorker:
    """One long-lived worker process (see worker.py) that forks a child per step."""

    def __init__(self, python: str, log: Path | None = None) -> None:
        self.python = python
        self.log = log  # the worker's own stderr (an import error if it cannot start), not the steps'
        self._lock = threading.Lock()  # guards the process handle and the pending steps
        self._write_lock = threading.Lock()  # one request at a time on the worker's stdin
        self._proc: WorkerProcess | None = None
        self._ready = threading.Event()
        self._pending: dict[int, _ForkedStep] = {}
        self._next_id = 0
        self._dead_reason = ""
        self._used = False
        self._bye = threading.Event()
        # Set by close(): the worker's pid and the steps it told ended, when it said at its end that its
        # tree held nothing else (worker.py); None if it did not (or was waited for as before).
        self.left_only: set[int] | None = None
        self._unclean = False  # a step ended without telling that it left no process (or the worker died)
        self._bye_message: dict[str, Any] = {}
        # How many steps the run can ask for (its static plan): the worker forks no spare step after the
        # request that reaches it (one would exit unused, costing a fork and an exit beside the run's end).
        # A step found in the cache asks for none, so the count is not reached and spares go on as before.
        self.expected_steps: int | None = None

    def start(self) -> None:
        """Start the worker in the background (its kfp import overlaps with the engine's own work)."""
        with self._lock:
            if self._proc is not None and self._proc.poll() is None:
                return
            env = dict(os.environ, _KFP_RUNTIME="true")
            self._ready = threading.Event()
            stderr = None
            if self.log is not None:
                try:
                    self.log.parent.mkdir(parents=True, exist_ok=True)
                    stderr = self.log.open("ab")
                except OSError:
                    self.log = None  # an unwritable run directory fails the steps, with a clear message
            try:
                self._proc = subprocess.Popen(
                    [self.python, "-c", _WORKER_SOURCE.read_text()],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=stderr,
                    env=env,
                    close_fds=True,
                )
            except OSError as e:
                self._proc = None
                self._dead_reason = f"cannot start the step worker with {self.python}: {e}"
                self._ready.set()
                return
            finally:
                if stderr is not None:
                    stderr.close()
            threading.Thread(target=self._read, args=(self._proc,), daemon=True, name="step-worker").start()

    def adopt(self, proc: WorkerProcess) -> None:
        """Use a worker process started elsewhere (forked from a warm process: warm_worker.py)."""
        with self._lock:
            self._proc = proc
            self._ready = threading.Event()
        threading.Thread(target=self._read, args=(proc,), daemon=True, name="step-worker").start()

    def settle(self, environ: dict[str, str], cwd: Path, log: Path) -> None:
        """Give a worker forked ahead of its run (a spare runner's: backends/forked_runner.py) the run's
        environment, folder and log, before any step (worker.py: `_settle`)."""
        self.log = log
        with self._lock:
            proc = self._proc
        if proc is None or proc.stdin is None:
            return
        message = {"settle": {"environ": environ, "cwd": str(cwd), "log": str(log)}}
        try:
            with self._write_lock:
                proc.stdin.write(json.dumps(message).encode() + b"\n")
                proc.stdin.flush()
        except (OSError, ValueError):
            pass  # it died: its first step says so

    def _read(self, proc: WorkerProcess) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            message: dict[str, Any] = json.loads(line)
            if message.get("ready"):
                self._ready.set()
                continue
            if message.get("bye"):
                self._bye_message = message
                self._bye.set()
                continue
            with self._lock:
                step = self._pending.get(int(message["id"]))
            if step is None:
                continue
            if "status" in message or "code" in message:
                if "pid" in message and not step.started.is_set():  # the step's own word, first
                    step.pid = int(message["pid"])
                    step.started.set()
                if "code" in message:  # it said its code as it ended (worker.py: hear_done, _Told)
                    step.code, step.clean = int(message["code"]), bool(message.get("clean"))
                else:
                    step.code = os.waitstatus_to_exitcode(int(message["status"]))
                with self._lock:
                    self._pending.pop(step.id, None)
                    self._unclean = self._unclean or not step.clean
                step.ended.set()
            elif "pid" in message:
                step.pid = int(message["pid"])
                step.started.set()
            elif "error" in message:
                step.error = str(message["error"])
                step.started.set()
        self._bye.set()  # (if it had not said goodbye: it died)
        proc.stdout.close()  # read to its end: this thread's alone
        code = proc.wait()
        self._dead_reason = f"the step worker process ended ({describe_exit(code)}){self._last_words()}"
        self._ready.set()
        with self._lock:
            self._unclean = True
            orphans = [s for s in self._pending.values() if s.worker is proc]
            for step in orphans:
                del self._pending[step.id]
        for step in orphans:
            # Not signalled from here: this process never reaped it and cannot know whether its pid is
            # still its own. The step dies with its worker (PR_SET_PDEATHSIG, set in worker.py).
            step.error = step.error or self._dead_reason
            step.code = step.code if step.code is not None else -SIGKILL
            step.started.set()
            step.ended.set()

    def spawn(
        self,
        module: Path,
        function: str,
        executor_input: str,
        log: Path,
        env: dict[str, str],
        cwd: Path | None = None,
        ahead: Path | None = None,
    ) -> StepProcess:
        """Hand a step to the worker. `ahead`: the module of the step expected after it (the next of a
        chain), which the worker's next spare compiles while this step runs (worker.py)."""
        self.start()
        self._ready.wait(120)
        with self._lock:
            proc = self._proc
            if proc is None or proc.poll() is not None or proc.stdin is None:
                raise StepLaunchError(self._dead_reason or "the step worker process is not running")
            self._next_id += 1
            self._used = True
            step = _ForkedStep(self._next_id, proc, self)
            self._pending[step.id] = step
        request = {
            "id": step.id,
            "module": str(module),
            "function": function,
            "executor_input": executor_input,
            "log": str(log),
            "env": env,
            "cwd": None if cwd is None else str(cwd),
            "spare": step.id != self.expected_steps,
        }
        if ahead is not None:
            request["ahead"] = str(ahead)
        try:
            with self._write_lock:  # not under _lock: the reader thread must stay free to take replies
                proc.stdin.write(json.dumps(request).encode() + b"\n")
                proc.stdin.flush()
        except (OSError, ValueError) as e:
            with self._lock:
                self._pending.pop(step.id, None)
            raise StepLaunchError(f"cannot reach the step worker process: {e}") from e
        step.started.wait()
        if step.error is not None and not step.pid:
            raise StepLaunchError(step.error)
        return step

    def signal(self, step: _ForkedStep, sig: int) -> None:
        """Ask the worker to signal `step`'s group: it does so only if it has not reaped the step yet."""
        proc = step.worker
        if proc.stdin is None or proc.poll() is not None:
            return  # the worker is gone, and the step with it
        try:
            with self._write_lock:
                proc.stdin.write(json.dumps({"id": step.id, "signal": int(sig)}).encode() + b"\n")
                proc.stdin.flush()
        except (OSError, ValueError):
            pass  # the worker just ended (the step dies with it)

    def left_nothing(self) -> int | None:
        """The worker's pid if every step it ran ended telling that it left no process (worker.py:
        `_clean_end`) and none runs: then nothing a step started runs anywhere, whatever the worker's
        own end. None otherwise (or with no worker process)."""
        with self._lock:
            proc = self._proc
            if proc is None or self._pending or self._unclean or proc.poll() is not None:
                return None
            return proc.pid

    def _last_words(self) -> str:
        """The last line the worker wrote to its stderr log (why it could not start), if any."""
        if self.log is None:
            return ""
        try:
            lines = [ln for ln in self.log.read_text(errors="replace").splitlines() if ln.strip()]
        except OSError:
            return ""
        return f": {lines[-1].strip()} (see {self.log})" if lines else ""

    def close(self) -> None:
        with self._lock:
            proc, self._proc = self._proc, None
        if proc is None:
            return
        if not self._used:  # every step was a cache hit: do not wait for the worker's imports
            proc.kill()
            if proc.stdin is not None:
                proc.stdin.close()
            proc.wait()
            return
        if proc.stdin is not None:
            try:
                proc.stdin.close()  # EOF: the worker stops its remaining steps and exits
            except OSError:
                pass
        if self._bye.wait(10) and self._bye_message.get("clean"):
            self.left_only = {int(p) for p in self._bye_message.get("ended", [])}
            if not isinstance(proc, subprocess.Popen):  # (a started one is waited for: Popen wants it)
                # It left nothing but steps being torn down, and exits: it is not waited for (its own
                # teardown takes milliseconds); the reader thread reaps it (_read).
                self.left_only.add(proc.pid)
                return
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            self.left_only = None
            proc.kill()
            proc.wait()


class _Subprocess:
    """A step in a fresh interpreter. One thread waits for it: when it exits, that thread kills what it
    left in its group while it is an unreaped zombie (its pid still its own), then reaps it. Signals
    are sent under the same lock, so never after the reap."""

    def __init__(self, popen: subprocess.Popen[bytes], log: IO[bytes]) -> None:
        self.popen = popen
        self.pid = popen.pid
        self.error: str | None = None
        self.clean = False  # nothing watched its tree: what it left is looked for by its tag
        self._log = log
        self._lock = threading.Lock()
        self._ended = threading.Event()
        self._code: int | None = None
        threading.Thread(target=self._reap, daemon=True, name=f"step-{self.pid}").start()

    def _reap(self) -> None:
        try:
            if not hasattr(os, "waitid"):  # Windows: a process handle, not a pid, so nothing to reuse
                self._code = self.popen.wait()
                return
            try:
                os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOWAIT)  # it has exited; not reaped yet
            except ChildProcessError:
                pass  # cannot happen: only this thread reaps it
            with self._lock:
                if self.popen.returncode is None:
                    try:
                        os.killpg(self.pid, SIGKILL)  # leftovers, as when a pod's main container exits
                    except OSError:
                        pass
                self._code = self.popen.wait()
        finally:
            self._log.close()
            self._ended.set()

    def wait(self, timeout: float | None = None) -> int | None:
        if not self._ended.wait(timeout):
            return None
        return self._code

    def signal(self, sig: int) -> None:
        with self._lock:
            if self.popen.returncode is not None:
                return
            if hasattr(os, "waitid"):
                _signal_group(self.pid, sig)
            else:
                self.popen.send_signal(sig)


def spawn_subprocess(
    python: str,
    module: Path,
    function: str,
    executor_input: str,
    log: Path,
    env: dict[str, str],
    cwd: Path | None = None,
    request_file: Path | None = None,
) -> StepProcess:
    """Run one step in a fresh interpreter (a venv's, or where fork is unavailable), through the
    worker script's `--run-one` mode: kfp's executor, with the request passed in a file (`request_file`,
    the step's own; by default next to the module)."""
    request = request_file or module.with_name("request.json")
    request.write_text(
        json.dumps(
            {
                "module": str(module),
                "function": function,
                "executor_input": executor_input,
                "log": str(log),
                "env": env,
            }
        )
    )
    log_file = log.open("ab")
    try:
        popen = subprocess.Popen(
            [python, "-c", _WORKER_SOURCE.read_text(), "--run-one", str(request)],
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=dict(os.environ, **env),
            start_new_session=True,
            close_fds=True,
            cwd=cwd,
        )
    except OSError as e:
        log_file.close()
        raise StepLaunchError(f"cannot start {python}: {e}") from e
    return _Subprocess(popen, log_file)


def wait_or_deadline(process: StepProcess, deadline: float | None, poll: float) -> int | None:
    """Wait up to `poll` seconds (less if the deadline is sooner); None if the process still runs."""
    timeout = poll if deadline is None else max(0.0, min(poll, deadline - time.monotonic()))
    return process.wait(timeout)
