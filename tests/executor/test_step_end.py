"""How a forked step's end is told (issue 15, per-step cost): the step tells its worker it is done
before its process has finished exiting, and the worker (a child subreaper: whatever the step starts
stays in its tree) sees whether the step left a process anywhere. A step that left none is not
looked for in every process of the machine; one that did is, and what it left is gone before the
next step starts (issue 12)."""

import functools
import os

import pytest
from kfp import dsl

from jupyter_mlops.executor import leftovers
from jupyter_mlops.executor.processes import fork_supported
from jupyter_mlops.models import RunState

from .conftest import Runner

pytestmark = pytest.mark.skipif(
    not fork_supported() or not leftovers.pidfd_available(), reason="forked steps and /proc (Linux)"
)
component = functools.partial(dsl.component, base_image="python:3.11")


@component
def inc(x: int) -> int:
    return x + 1


@dsl.pipeline
def chain(x: int = 0) -> int:
    return inc(x=inc(x=inc(x=x).output).output).output


@component
def start_daemon() -> str:
    import os
    import subprocess
    import sys
    import time

    read, write = os.pipe()
    middle = os.fork()
    if middle == 0:  # a classic daemon: fork, setsid, fork again, the parent exits at once
        os.setsid()
        child = os.fork()
        if child:
            os.write(write, str(child).encode())
            os._exit(0)
        os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(600)"])
    os.close(write)
    daemon = int(os.read(read, 64).decode())
    os.waitpid(middle, 0)
    parent = 0
    for _ in range(200):  # its new parent, once the middle process has gone
        with open(f"/proc/{daemon}/stat") as f:
            parent = int(f.read().rsplit(")", 1)[1].split()[1])
        if parent != middle:
            break
        time.sleep(0.01)
    session = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], start_new_session=True)
    return f"{daemon} {session.pid} {parent} {os.getppid()}"


@component
def states_of(pids: str) -> str:
    import time

    def state(pid: str) -> str:
        try:
            with open(f"/proc/{pid}/stat") as f:
                return f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            return "gone"

    deadline = time.monotonic() + 5  # SIGKILLed before this step started: dying takes a moment
    while any(state(p) not in ("Z", "X", "gone") for p in pids.split()[:2]) and time.monotonic() < deadline:
        time.sleep(0.01)
    return " ".join(state(p) for p in pids.split()[:2])


@dsl.pipeline
def daemon_then_look() -> str:
    return states_of(pids=start_daemon().output).output


def test_steps_that_start_no_process_are_not_looked_for_in_every_process(
    run_pipeline: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    scans: list[str] = []
    real = leftovers.kill_tagged

    def spy(variable: str, value: str, **kw: object) -> int:
        scans.append(value)
        return real(variable, value)

    monkeypatch.setattr(leftovers, "kill_tagged", spy)
    result = run_pipeline(chain, {"x": 1}, fork=True, cache=False)

    assert result.state is RunState.SUCCEEDED, result.error
    assert result.outputs("inc-3") == {"Output": 4}
    assert scans == []


def test_a_daemon_a_step_starts_is_the_step_workers_and_is_gone_before_the_next_step(
    run_pipeline: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    scans: list[str] = []
    real = leftovers.kill_tagged

    def spy(variable: str, value: str, **kw: object) -> int:
        scans.append(value)
        return real(variable, value)

    monkeypatch.setattr(leftovers, "kill_tagged", spy)
    result = run_pipeline(daemon_then_look, fork=True, cache=False)

    assert result.state is RunState.SUCCEEDED, result.error
    daemon, session, parent, worker = (int(p) for p in result.outputs("start-daemon")["Output"].split())
    try:
        # the double-forked daemon was not handed to init: the step's worker, a subreaper, adopted it
        assert parent == worker
        # both were ended with the step that started them, before the next step ran
        assert all(state in ("Z", "X", "gone") for state in result.outputs("states-of")["Output"].split())
        assert any("/start-daemon/" in tag for tag in scans)  # looked for by its tag, as before
    finally:
        for pid in (daemon, session):
            try:
                os.kill(pid, 9)
            except OSError:
                pass


@component
def bail(code: int) -> int:
    import os

    os._exit(code)


@dsl.pipeline
def bails() -> None:
    bail(code=3)


def test_a_step_ending_through_os_exit_says_nothing_and_is_looked_for_as_before(
    run_pipeline: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    scans: list[str] = []
    real = leftovers.kill_tagged

    def spy(variable: str, value: str, **kw: object) -> int:
        scans.append(value)
        return real(variable, value)

    monkeypatch.setattr(leftovers, "kill_tagged", spy)
    result = run_pipeline(bails, fork=True, cache=False)

    assert result.state is RunState.FAILED
    assert "exited with code 3" in (result.step("bail").error or "")
    assert len(scans) == 1
