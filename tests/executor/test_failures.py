"""Failures, retries, timeouts and cancel: what breaks is recorded, what finished is kept."""

import functools
import os
import resource
import signal
import threading
import time
from pathlib import Path

import kfp.kubernetes
import pytest
from kfp import dsl
from waiting import wait_until

from jupyter_mlops.models import RunState, StepState

from .conftest import Runner

component = functools.partial(dsl.component, base_image="python:3.11")


def _wait_for(path: Path, timeout: float = 60.0) -> str:
    def text() -> str | None:
        return path.read_text().strip() if path.exists() else None

    return wait_until(text, timeout, f"{path} to appear", interval=0.05)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@component
def ok(text: str) -> str:
    print(f"ok says {text}")
    return text


@component
def exit_three(text: str):
    import os

    print("about to exit")
    os._exit(3)


@component
def raise_error(text: str):
    def inner():
        raise ValueError(f"bad input {text!r}")

    inner()


@dsl.pipeline
def exits():
    first = ok(text="kept")
    broken = exit_three(text=first.output)
    ok(text="never").after(broken)
    ok(text="independent")


@pytest.mark.parametrize("fork", [True, False], ids=["forked", "subprocess"])
def test_a_step_calling_os_exit_fails_and_skips_its_downstream(run_pipeline: Runner, fork: bool) -> None:
    result = run_pipeline(exits, fork=fork)

    assert result.state == RunState.FAILED
    assert result.step("exit-three").state == StepState.FAILED
    assert result.step("exit-three").error == "exited with code 3"
    assert result.error == "step 'exit-three' failed: exited with code 3"
    assert result.step("ok-2").state == StepState.SKIPPED
    assert result.step("ok").state == StepState.SUCCEEDED and result.step("ok").outputs == {"Output": "kept"}
    assert result.step("ok-3").state == StepState.SUCCEEDED  # independent branch still ran
    assert "ok says kept" in result.listener.log("ok")
    assert "about to exit" in result.listener.log("exit-three")


@dsl.pipeline
def raises():
    raise_error(text="x")


def test_the_error_is_the_last_line_of_the_traceback(run_pipeline: Runner) -> None:
    result = run_pipeline(raises)

    assert result.step("raise-error").error == "ValueError: bad input 'x'"
    assert "Traceback (most recent call last)" in result.listener.log("raise-error")


@component
def sleeper(pid_file: str, seconds: int) -> str:
    import os
    import subprocess
    import time

    child = subprocess.Popen(["sleep", str(seconds)])  # a grandchild in the step's process group
    with open(pid_file, "w") as f:
        f.write(f"{os.getpid()} {child.pid}")
    time.sleep(seconds)
    return "woke"


@dsl.pipeline
def sleepy(pid_file: str, seconds: int = 60):
    done = ok(text="before")
    slow = sleeper(pid_file=pid_file, seconds=seconds).after(done)
    ok(text="after").after(slow)


@pytest.mark.parametrize("fork", [True, False], ids=["forked", "subprocess"])
def test_a_step_killed_from_outside_fails_with_the_signal(
    run_pipeline: Runner, tmp_path: Path, fork: bool
) -> None:
    pid_file = tmp_path / "pids"

    def kill_when_started() -> None:
        pid = int(_wait_for(pid_file).split()[0])
        os.kill(pid, signal.SIGKILL)

    killer = threading.Thread(target=kill_when_started)
    killer.start()
    result = run_pipeline(sleepy, {"pid_file": str(pid_file)}, fork=fork)
    killer.join()

    assert result.state == RunState.FAILED
    assert result.step("sleeper").error == "killed by SIGKILL"
    assert result.step("ok-2").state == StepState.SKIPPED
    assert result.step("ok").outputs == {"Output": "before"}


@pytest.mark.parametrize("fork", [True, False], ids=["forked", "subprocess"])
def test_cancel_kills_running_steps_and_never_starts_pending_ones(
    run_pipeline: Runner, tmp_path: Path, fork: bool
) -> None:
    pid_file = tmp_path / "pids"
    cancel = threading.Event()
    threading.Thread(target=lambda: (_wait_for(pid_file), cancel.set())).start()

    result = run_pipeline(sleepy, {"pid_file": str(pid_file)}, cancel=cancel, fork=fork)

    assert result.state == RunState.CANCELED
    assert result.step("ok").state == StepState.SUCCEEDED  # finished before: kept
    assert result.step("sleeper").state == StepState.CANCELED
    assert result.step("ok-2").state == StepState.SKIPPED
    assert ("ok-2", StepState.RUNNING) not in result.listener.history
    step_pid, grandchild = (int(p) for p in pid_file.read_text().split())
    deadline = time.monotonic() + 10
    while (_alive(step_pid) or _alive(grandchild)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(grandchild), "the step's whole process group must be gone"
    assert (result.workdir / "logs" / "ok.log").exists()


@component
def flaky(marker: str) -> str:
    import os

    if not os.path.exists(marker):
        open(marker, "w").close()
        raise RuntimeError("first attempt fails")
    return "second attempt"


@dsl.pipeline
def retried(marker: str):
    flaky(marker=marker).set_retry(num_retries=2, backoff_duration="0s")


def test_a_step_that_fails_once_succeeds_on_retry(run_pipeline: Runner, tmp_path: Path) -> None:
    result = run_pipeline(retried, {"marker": str(tmp_path / "marker")})

    assert result.state == RunState.SUCCEEDED, result.error
    step = result.step("flaky")
    assert step.attempts == 2 and step.error is None
    assert step.outputs == {"Output": "second attempt"}
    log = result.listener.log("flaky")
    assert "RuntimeError: first attempt fails" in log and "attempt 2 of 3" in log


@dsl.pipeline
def timed(pid_file: str):
    slow = sleeper(pid_file=pid_file, seconds=120)
    kfp.kubernetes.set_timeout(slow, 3)


@pytest.mark.parametrize("fork", [True, False], ids=["forked", "subprocess"])
def test_a_step_past_its_timeout_is_stopped_and_failed(
    run_pipeline: Runner, tmp_path: Path, fork: bool
) -> None:
    result = run_pipeline(timed, {"pid_file": str(tmp_path / "pids")}, fork=fork)

    assert result.state == RunState.FAILED
    assert result.step("sleeper").error == "timed out after 3 s (the step's timeout)"
    pids = tmp_path / "pids"
    if pids.exists() and pids.read_text().strip():  # (on a very busy machine it may not have got that far)
        grandchild = int(pids.read_text().split()[1])
        deadline = time.monotonic() + 10
        while _alive(grandchild) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(grandchild)


@component
def shout(megabytes: int) -> int:
    line = "y" * 1023
    for _ in range(megabytes * 1024):
        print(line)
    return megabytes


@dsl.pipeline
def loud():
    shout(megabytes=50)


def test_a_step_printing_50_mb_streams_to_its_log(run_pipeline: Runner, tmp_path: Path) -> None:
    from .conftest import compile_pipeline

    spec = compile_pipeline(loud, tmp_path / "loud.yaml")  # (kfp's compiler is not what is measured)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux

    result = run_pipeline(spec)

    assert result.state == RunState.SUCCEEDED, result.error
    assert result.step("shout").outputs == {"Output": 50}
    assert result.listener.log_path("shout").stat().st_size >= 50 * 1024 * 1024
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 25, f"the executor's memory grew by {grown_mb:.0f} MB"


def test_what_a_killed_step_left_running_in_its_group_is_stopped(
    run_pipeline: Runner, tmp_path: Path
) -> None:
    pid_file = tmp_path / "pids"
    killer = threading.Thread(target=lambda: os.kill(int(_wait_for(pid_file).split()[0]), signal.SIGKILL))
    killer.start()
    run_pipeline(sleepy, {"pid_file": str(pid_file)})
    killer.join()

    grandchild = int(pid_file.read_text().split()[1])
    deadline = time.monotonic() + 10
    while _alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(grandchild)


@component
def report_worker(pid_file: str, seconds: int) -> str:
    import os
    import time

    with open(pid_file, "w") as f:
        f.write(f"{os.getpid()} {os.getppid()}")  # the parent of a forked step is the executor's worker
    time.sleep(seconds)
    return "done"


@dsl.pipeline
def worker_dies(pid_file: str):
    cleanup = ok(text="cleanup")  # runs after the failure: needs a new worker
    with dsl.ExitHandler(cleanup):
        doomed = report_worker(pid_file=pid_file, seconds=60)
        ok(text="later").after(doomed)


def test_a_dead_worker_fails_its_running_steps_and_is_restarted(run_pipeline: Runner, tmp_path: Path) -> None:
    pid_file = tmp_path / "pids"

    def kill_worker() -> None:
        _step_pid, worker_pid = (int(p) for p in _wait_for(pid_file).split())
        os.kill(worker_pid, signal.SIGKILL)

    killer = threading.Thread(target=kill_worker)
    killer.start()
    result = run_pipeline(worker_dies, {"pid_file": str(pid_file)}, max_workers=1)
    killer.join()

    assert result.state == RunState.FAILED
    error = result.step("exit-handler-1.report-worker").error or ""
    assert "worker process ended" in error and "SIGKILL" in error
    assert result.step("exit-handler-1.ok-2").state == StepState.SKIPPED
    assert result.step("ok").outputs == {"Output": "cleanup"}
    step_pid = int(pid_file.read_text().split()[0])
    deadline = time.monotonic() + 10
    while _alive(step_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(step_pid), "the orphaned step must be stopped"


@component
def wait_then_echo(pid_file: str, i: int) -> int:
    import os
    import time

    if i == 0:
        with open(pid_file, "w") as f:
            f.write(str(os.getpid()))
        time.sleep(60)
    return i


@dsl.pipeline
def limited_loop(pid_file: str):
    with dsl.ParallelFor([0, 1, 2], parallelism=1) as i:
        wait_then_echo(pid_file=pid_file, i=i)


def test_cancel_during_a_loop_skips_the_iterations_not_started(run_pipeline: Runner, tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    cancel = threading.Event()
    threading.Thread(target=lambda: (_wait_for(pid_file), cancel.set())).start()

    result = run_pipeline(limited_loop, {"pid_file": str(pid_file)}, cancel=cancel)

    assert result.state == RunState.CANCELED
    assert result.step("for-loop-2[0].wait-then-echo").state == StepState.CANCELED
    assert result.step("for-loop-2[1].wait-then-echo").state == StepState.SKIPPED
    assert result.step("for-loop-2[2].wait-then-echo").state == StepState.SKIPPED
    assert result.step("for-loop-2").state == StepState.CANCELED


@dsl.component(base_image="python:3.11", install_kfp_package=False)
def writes_a_file(out: dsl.Output[dsl.Artifact]) -> None:
    with open(out.path, "w") as f:
        f.write("kept")


@dsl.pipeline
def writes():
    writes_a_file()


# The steps' modules and outputs go to a memory folder when there is one (executor/scratch.py), else to
# the run directory; a step's artifacts always go to the run directory.
@pytest.mark.parametrize("scratch", ["run", "memory"])
def test_a_run_directory_that_cannot_be_written_fails_with_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scratch: str
) -> None:
    from jupyter_mlops.executor import ExecutionOptions, execute

    from .conftest import RecordingListener, compile_pipeline

    if scratch == "run":
        monkeypatch.setenv("JUPYTER_MLOPS_SCRATCH", "run")
    else:
        monkeypatch.delenv("JUPYTER_MLOPS_SCRATCH", raising=False)
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the run directory should be")
    workdir = blocker / "run"
    listener = RecordingListener(tmp_path / "elsewhere")
    spec = compile_pipeline(exits if scratch == "run" else writes, tmp_path / "pipeline.yaml")

    state, error = execute(
        spec, {}, ExecutionOptions(workdir=workdir, cache_dir=None), listener, threading.Event()
    )

    assert state == RunState.FAILED
    step_error = listener.steps["ok" if scratch == "run" else "writes-a-file"].error or ""
    assert "cannot write the step's files" in step_error and str(workdir) in step_error
    assert error is not None and "cannot write the step's files" in error


@dsl.component(base_image="python:3.11", install_kfp_package=False)
def assumes_kfp_is_there() -> str:
    return "ran"


@dsl.pipeline
def no_prelude():
    assumes_kfp_is_there()


def test_an_interpreter_without_kfp_fails_the_steps_saying_why(run_pipeline: Runner, tmp_path: Path) -> None:
    import subprocess
    import sys

    bare = tmp_path / "bare-venv"  # no --system-site-packages: kfp cannot be imported there
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)

    result = run_pipeline(no_prelude, python=str(bare / "bin" / "python"), cache=False)

    assert result.state == RunState.FAILED
    error = result.step("assumes-kfp-is-there").error or ""
    assert "worker process ended" in error and "No module named 'kfp'" in error


RUNNER = """
import sys, threading, yaml
from pathlib import Path
from jupyter_mlops.executor import ExecutionOptions, execute

class Listener:
    def on_step(self, step): pass
    def on_artifact(self, artifact): pass
    def on_metric(self, metric): pass
    def log_path(self, step): return Path(sys.argv[2]) / "logs" / f"{step}.log"

spec = list(yaml.safe_load_all(Path(sys.argv[1]).read_text()))
options = ExecutionOptions(workdir=Path(sys.argv[2]), cache_dir=None)
execute(spec, {"pid_file": sys.argv[3], "seconds": 120}, options, Listener(), threading.Event())
"""


def test_steps_do_not_outlive_a_runner_killed_with_sigkill(tmp_path: Path) -> None:
    import subprocess
    import sys

    from .conftest import compile_pipeline

    compile_pipeline(sleepy, tmp_path / "sleepy.yaml")
    pid_file = tmp_path / "pids"
    runner = subprocess.Popen(
        [sys.executable, "-c", RUNNER, str(tmp_path / "sleepy.yaml"), str(tmp_path / "run"), str(pid_file)],
        start_new_session=True,
    )
    try:
        step_pid, grandchild = (int(p) for p in _wait_for(pid_file).split())
        os.kill(runner.pid, signal.SIGKILL)
        runner.wait()
        deadline = time.monotonic() + 15
        while (_alive(step_pid) or _alive(grandchild)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(step_pid) and not _alive(grandchild)
        assert "ok says before" in (tmp_path / "run" / "logs" / "ok.log").read_text()  # kept
    finally:
        if runner.poll() is None:
            runner.kill()
