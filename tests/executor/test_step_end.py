"""How a forked step's end is told (issue 15, per-step cost): the step tells its worker it is done
before its process has finished exiting, and the worker (a child subreaper: whatever the step starts
stays in its tree) sees whether the step left a process anywhere. A step that left none is not
looked for in every process of the machine; one that did is, and what it left is gone before the
next step starts (issue 12)."""

import functools
import json
import os
import sys
import time
from pathlib import Path

import psutil
import pytest
from kfp import dsl

from jupyter_mlops.executor import leftovers
from jupyter_mlops.executor.processes import ForkWorker, fork_supported
from jupyter_mlops.models import RunState

from .conftest import Runner
from .inc_chain import chain

pytestmark = pytest.mark.skipif(
    not fork_supported() or not leftovers.pidfd_available(), reason="forked steps and /proc (Linux)"
)
component = functools.partial(dsl.component, base_image="python:3.11")


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
    return f"{daemon} {session.pid} {parent} {os.getpid()}"


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


def test_a_daemon_a_step_starts_is_the_steps_and_is_gone_before_the_next_step(
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
    daemon, session, parent, step = (int(p) for p in result.outputs("start-daemon")["Output"].split())
    try:
        # the double-forked daemon was not handed to init: the step, a subreaper as a pod's first
        # process, adopted it (its worker, a subreaper too, adopts it when the step exits)
        assert parent == step
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


def _step_files(tmp_path: Path, body: str) -> tuple[Path, str]:
    """A component module as the engine writes it, and an executor input with no outputs."""
    module = tmp_path / "ephemeral_component.py"
    module.write_text(f"from kfp import dsl\n\n\ndef step() -> None:\n{body}")
    return module, json.dumps(
        {"inputs": {}, "outputs": {"outputFile": str(tmp_path / "executor_output.json")}}
    )


DAEMON = (
    "    import subprocess, sys\n"
    "    sleeper = [sys.executable, '-c', 'import time; time.sleep(600)']\n"
    "    daemon = subprocess.Popen(sleeper, start_new_session=True)\n"
    "    open('daemon.pid', 'w').write(str(daemon.pid))\n"
)


@pytest.mark.parametrize(
    ("body", "clean"), [("    print('hi')\n", True), (DAEMON, False)], ids=["nothing", "daemon"]
)
def test_a_worker_says_at_its_end_whether_its_tree_held_anything_but_told_steps(
    tmp_path: Path, body: str, clean: bool
) -> None:
    worker = ForkWorker(sys.executable, tmp_path / "worker.log")
    module, executor_input = _step_files(tmp_path, body)
    step = worker.spawn(module, "step", executor_input, tmp_path / "step.log", {}, tmp_path)
    try:
        assert step.wait(120) == 0, (tmp_path / "step.log").read_text()
        assert step.clean is clean
        worker.close()
        if clean:  # what may still be in its tree is ending: the step told ended, the spare it forked
            assert worker.left_only is not None
            deadline = time.monotonic() + 10
            while any(map(_running, worker.left_only)) and time.monotonic() < deadline:
                time.sleep(0.01)
            assert not any(map(_running, worker.left_only))
        else:
            assert worker.left_only is None
    finally:
        if (tmp_path / "daemon.pid").exists():
            os.kill(int((tmp_path / "daemon.pid").read_text()), 9)


def test_a_subreaper_sees_what_its_tree_left_however_it_was_started(tmp_path: Path) -> None:
    """In a child (a subreaper from then on): a double-forked daemon is adopted, so its children are
    not only those it expected, until it is gone."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(read)
            assert leftovers.become_subreaper()
            assert leftovers.only_children(set())
            middle = os.fork()
            if middle == 0:
                os.setsid()
                if os.fork() == 0:
                    time.sleep(600)
                os._exit(0)
            os.waitpid(middle, 0)  # the middle one is gone: its child is an orphan
            deadline = time.monotonic() + 10
            while leftovers.only_children(set()) and time.monotonic() < deadline:
                time.sleep(0.01)
            adopted = set(psutil.Process().children())
            assert len(adopted) == 1 and not leftovers.only_children(set())
            (daemon,) = adopted
            assert leftovers.only_children({daemon.pid})
            daemon.kill()
            daemon.wait(10)
            assert leftovers.only_children(set())
            code = 0
        finally:
            os.write(write, str(code).encode())
            os._exit(code)
    os.close(write)
    _, status = os.waitpid(pid, 0)
    assert os.read(read, 8) == b"0" and os.waitstatus_to_exitcode(status) == 0


def _running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() not in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD)
    except psutil.NoSuchProcess:
        return False


def test_the_worker_forks_the_next_step_process_ahead_and_every_step_gets_its_own(tmp_path: Path) -> None:
    """A spare step process is forked before any request comes (the fork is off the step's path); each
    request is handed to a process of its own, forked from the unchanged worker."""
    worker = ForkWorker(sys.executable, tmp_path / "worker.log")
    worker.start()
    try:
        process = worker._proc
        assert process is not None
        deadline = time.monotonic() + 60
        while not psutil.Process(process.pid).children() and time.monotonic() < deadline:
            time.sleep(0.01)
        (spare,) = psutil.Process(process.pid).children()
        body = (
            "    import os, sys\n"
            "    print(os.getpid(), 'seen' if hasattr(sys, 'step_mark') else 'fresh')\n"
            "    sys.step_mark = True\n"
        )
        module, executor_input = _step_files(tmp_path, body)
        first = worker.spawn(module, "step", executor_input, tmp_path / "first.log", {}, tmp_path)
        assert first.pid == spare.pid
        assert first.wait(120) == 0
        second = worker.spawn(module, "step", executor_input, tmp_path / "second.log", {}, tmp_path)
        assert second.wait(120) == 0
        assert second.pid != first.pid
        for step, log in ((first, "first.log"), (second, "second.log")):
            assert f"{step.pid} fresh" in (tmp_path / log).read_text()
    finally:
        worker.close()


def test_no_spare_is_forked_after_the_step_the_run_says_is_its_last(tmp_path: Path) -> None:
    """A run of two steps: a spare follows the first request, none the second (it would exit unused)."""
    worker = ForkWorker(sys.executable, tmp_path / "worker.log")
    worker.expected_steps = 2
    worker.start()
    try:
        process = worker._proc
        assert process is not None
        module, executor_input = _step_files(tmp_path, "    import time\n    time.sleep(1)\n")
        spares_after, steps = [], set()
        for n in (1, 2):
            step = worker.spawn(module, "step", executor_input, tmp_path / f"{n}.log", {}, tmp_path)
            steps.add(step.pid)
            deadline = time.monotonic() + 0.5  # a spare, if one comes, is forked right after the reply
            others: set[int] = set()
            while time.monotonic() < deadline:
                others |= {c.pid for c in psutil.Process(process.pid).children()} - steps
                time.sleep(0.01)
            spares_after.append(len(others))
            assert step.wait(120) == 0
        assert spares_after == [1, 0]
    finally:
        worker.close()


@component
def uses_a_helper() -> str:
    import helper  # a module of the notebook's folder (the step's working directory)

    return str(helper.VALUE)


@dsl.pipeline
def helper_pipeline() -> str:
    return uses_a_helper().output


def test_a_steps_own_module_gets_no_bytecode_file_but_the_modules_it_imports_do(
    run_pipeline: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The component module written for every step is read once: writing its bytecode (a folder, a
    file, a rename: ~1 ms a step here) served nothing. What the step imports is cached as usual."""
    monkeypatch.delenv("PYTHONDONTWRITEBYTECODE", raising=False)  # (the step worker inherits it)
    monkeypatch.setenv("JUPYTER_MLOPS_SCRATCH", "run")  # the modules in the run's tmp/, kept after it
    folder = tmp_path / "notebook"
    folder.mkdir()
    (folder / "helper.py").write_text("VALUE = 42\n")
    result = run_pipeline(helper_pipeline, fork=True, cache=False, step_cwd=folder)

    assert result.state is RunState.SUCCEEDED, result.error
    assert result.outputs("uses-a-helper") == {"Output": "42"}
    module = next(result.workdir.glob("tmp/.steps/component-*.py"))
    assert not (module.parent / "__pycache__").exists()
    assert list((folder / "__pycache__").glob("helper.*.pyc"))
