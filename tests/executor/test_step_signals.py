"""Steps are stopped by signalling their process group, but never after they were reaped: by then the
pid may already be another process's (pid numbers wrap within minutes on a busy machine), and every
step and runner leads a group that a late `killpg` would kill."""

import functools
import os
import threading
import time
from pathlib import Path

import pytest
from kfp import dsl

from jupyter_mlops.models import RunState, StepState

from .conftest import Runner

component = functools.partial(dsl.component, base_image="python:3.11")


@component
def quick(text: str) -> str:
    return text


@component
def hang(pid_file: str) -> str:
    import os
    import time

    with open(pid_file, "w") as f:
        f.write(str(os.getpid()))
    time.sleep(120)
    return "never"


@dsl.pipeline
def quick_then_hang(pid_file: str):
    first = quick(text="a")
    quick(text="b").after(first)
    hang(pid_file=pid_file).after(first)


def _unreaped_child(pid: int) -> bool:
    """Is `pid` a child of this process that it has not reaped (so the number is still its own)?"""
    try:
        os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return False
    return True


@pytest.mark.parametrize("fork", [True, False], ids=["forked", "subprocess"])
def test_the_executor_signals_only_step_processes_it_has_not_reaped(
    run_pipeline: Runner, tmp_path: Path, fork: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[tuple[str, int, int, bool]] = []
    real_killpg, real_kill = os.killpg, os.kill

    # Signal 0 delivers nothing (a probe: the scratch sweep asks whether another run's process lives,
    # and another test's killed runner may have left its folder): only signals sent count.
    def spy_killpg(pid: int, sig: int) -> None:
        if sig != 0:
            sent.append(("killpg", pid, sig, _unreaped_child(pid)))
        real_killpg(pid, sig)

    def spy_kill(pid: int, sig: int) -> None:
        if sig != 0:
            sent.append(("kill", pid, sig, _unreaped_child(pid)))
        real_kill(pid, sig)

    monkeypatch.setattr(os, "killpg", spy_killpg)
    monkeypatch.setattr(os, "kill", spy_kill)
    pid_file = tmp_path / "pid"
    cancel = threading.Event()

    def cancel_when_hanging() -> None:
        deadline = time.monotonic() + 120
        while not (pid_file.exists() and pid_file.read_text()) and time.monotonic() < deadline:
            time.sleep(0.05)
        cancel.set()

    threading.Thread(target=cancel_when_hanging, daemon=True).start()
    result = run_pipeline(quick_then_hang, {"pid_file": str(pid_file)}, cancel=cancel, fork=fork, cache=False)

    assert result.state == RunState.CANCELED
    assert result.step("quick").state == StepState.SUCCEEDED
    assert result.step("hang").state == StepState.CANCELED
    if fork:  # a forked step is the worker's child: only the worker may signal it
        assert sent == []
    else:  # the cancel's SIGTERM, and the kill of what each step left in its group, before reaping it
        assert sent, "the cancelled subprocess step must have been signalled"
        assert all(unreaped for *_, unreaped in sent), sent


@component
def leave_behind(pid_file: str) -> str:
    import subprocess

    child = subprocess.Popen(["sleep", "120"])  # still running in the step's group when it returns
    with open(pid_file, "w") as f:
        f.write(str(child.pid))
    return "returned"


@dsl.pipeline
def leaves_a_process(pid_file: str):
    leave_behind(pid_file=pid_file)


@pytest.mark.parametrize("fork", [True, False], ids=["forked", "subprocess"])
def test_what_a_finished_step_left_running_in_its_group_is_stopped(
    run_pipeline: Runner, tmp_path: Path, fork: bool
) -> None:
    pid_file = tmp_path / "pid"
    result = run_pipeline(leaves_a_process, {"pid_file": str(pid_file)}, fork=fork)

    assert result.state == RunState.SUCCEEDED, result.error
    assert result.step("leave-behind").outputs == {"Output": "returned"}
    grandchild = int(pid_file.read_text())
    deadline = time.monotonic() + 30
    while _running(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _running(grandchild), "what the step left running in its group must be stopped"


def _running(pid: int) -> bool:
    """Alive and not a zombie (a killed orphan may wait a moment for init to reap it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(errors="replace")
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] not in ("Z", "X")
