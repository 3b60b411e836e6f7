"""The step workers' zygote (executor/worker_zygote.py): the runner service keeps a small fresh
interpreter with kfp's executor and the step runtime loaded, and each run's step worker is forked from
it, so that the steps it forks carry none of the service's engine (half the memory to copy and tear
down per step). Steps find what they need loaded; a worker that dies is reported as before; without
the zygote runs go on as before; it goes when the service goes."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import psutil
import pytest
from waiting import wait_until

from jupyter_mlops.backends.local import LocalBackend
from jupyter_mlops.backends.service_address import socket_path
from jupyter_mlops.models import RunState, StepState

from . import worker_zygote_pipelines as pipelines
from .contract import explain, finished
from .pipelines import compiled
from .service_processes import workers_zygote


@pytest.fixture(autouse=True)
def service(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUPYTER_MLOPS_RUNNER", "service")


def service_pid(home: Path) -> int:
    from jupyter_mlops.backends.service_client import _ask

    return int(_ask(socket_path(home), {"op": "ping"}, 5.0)["pid"])


def alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def ready_zygote(home: Path) -> psutil.Process:
    service = service_pid(home)
    zygote: psutil.Process = wait_until(lambda: workers_zygote(service), 60, "the step workers' zygote")
    socket = Path(str(socket_path(home))[: -len(".sock")] + ".wsock")
    wait_until(socket.exists, 60, "the zygote to listen")  # (once kfp is loaded)
    return zygote


def loaded_in_steps(backend: LocalBackend) -> list[list[str]]:
    run = finished(backend, backend.submit(compiled(pipelines.loaded_modules), cache=False).id)
    assert run.state is RunState.SUCCEEDED, explain(run)
    return [step.outputs["Output"] for step in run.steps]


def test_steps_are_forked_from_a_worker_with_kfp_and_the_step_runtime_and_not_the_engine(home: Path) -> None:
    backend = LocalBackend(home)
    loaded_in_steps(backend)  # starts the service, and its zygote
    ready_zygote(home)
    needed = ["kfp.dsl.executor_main", "jupyter_mlops.step_runtime.run"]
    assert loaded_in_steps(backend) == [needed, needed]  # not the service's store, engine, psutil


def test_a_step_handles_an_interrupt_as_a_fresh_interpreter_does(home: Path) -> None:
    import subprocess
    import sys

    backend = LocalBackend(home)
    loaded_in_steps(backend)
    ready_zygote(home)
    fresh = subprocess.run(
        [sys.executable, "-c", "import signal; print(signal.getsignal(signal.SIGINT).__name__)"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout.strip()  # fmt: skip
    for _ in range(2):  # (a spare runner takes each run)
        run = finished(backend, backend.submit(compiled(pipelines.interrupt_handlings), cache=False).id)
        assert run.state is RunState.SUCCEEDED, explain(run)
        assert run.step("interrupt-handling").outputs["Output"] == fresh == "default_int_handler"


def test_a_step_worker_killed_mid_run_fails_its_step_with_how_it_ended(home: Path, tmp_path: Path) -> None:
    backend = LocalBackend(home)
    loaded_in_steps(backend)
    zygote = ready_zygote(home)
    pid_file = tmp_path / "worker.pid"
    run_id = backend.submit(compiled(pipelines.worker_of_step), {"pid_file": str(pid_file)}, cache=False).id
    wait_until(pid_file.exists, 120, "the step to start")
    worker = psutil.Process(int(pid_file.read_text()))
    assert worker.ppid() == zygote.pid  # forked from the zygote, not from the run's runner
    worker.send_signal(signal.SIGKILL)
    run = finished(backend, run_id)
    assert run.state is RunState.FAILED
    step = run.step("worker-pid")
    assert step.state is StepState.FAILED and "worker process ended" in (step.error or "")
    assert "SIGKILL" in (step.error or ""), step.error


def killed(zygote: psutil.Process) -> None:
    zygote.send_signal(signal.SIGKILL)  # (as the kernel's out-of-memory killer would)
    wait_until(lambda: not alive(zygote), 60, "the zygote to die")


def new_zygote(service: int, dead: int) -> psutil.Process:
    def started() -> psutil.Process | None:
        zygote = workers_zygote(service)
        return zygote if zygote is not None and zygote.pid != dead else None

    found: psutil.Process = wait_until(started, 60, "a new step workers' zygote")
    return found


def listening(home: Path, zygote: psutil.Process) -> None:
    """Wait until `zygote` listens on its socket (the dead one's file stays behind until then)."""
    socket = str(socket_path(home))[: -len(".sock")] + ".wsock"

    def bound() -> bool:
        return any(c.laddr == socket for c in zygote.net_connections(kind="unix"))

    wait_until(bound, 60, "the new zygote to listen")


def test_a_zygote_that_dies_is_started_again_and_steps_are_forked_from_the_new_one(home: Path) -> None:
    backend = LocalBackend(home)
    loaded_in_steps(backend)
    first = ready_zygote(home)
    killed(first)
    service = service_pid(home)
    again = new_zygote(service, first.pid)
    listening(home, again)
    loaded_in_steps(backend)  # (the spare runner, forked before, had its worker from the dead zygote)
    needed = ["kfp.dsl.executor_main", "jupyter_mlops.step_runtime.run"]
    assert loaded_in_steps(backend) == [needed, needed]  # forked from the new zygote again
    assert again.ppid() == service


def test_a_zygote_that_keeps_dying_is_given_up_and_runners_fork_their_own_workers(home: Path) -> None:
    from jupyter_mlops.backends.runner_service import WORKERS_RESTARTS

    backend = LocalBackend(home)
    loaded_in_steps(backend)
    service = service_pid(home)
    zygote = ready_zygote(home)
    for _ in range(WORKERS_RESTARTS[0]):  # each death within the window is followed by a new zygote
        killed(zygote)
        zygote = new_zygote(service, zygote.pid)
    killed(zygote)  # one death too many: none is started
    loaded_in_steps(backend)  # (the spare runner)
    found = loaded_in_steps(backend)
    assert all("jupyter_mlops.store" in names for names in found), found  # forked from the runner
    assert workers_zygote(service) is None


def test_the_zygote_goes_with_the_service_once_its_workers_are_done(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = LocalBackend(home)
    loaded_in_steps(backend)
    zygote = ready_zygote(home)
    pid_file = tmp_path / "worker.pid"
    run_id = backend.submit(
        compiled(pipelines.worker_of_step), {"pid_file": str(pid_file), "seconds": 2.0}, cache=False
    ).id
    wait_until(pid_file.exists, 120, "the step to start")
    os.kill(service_pid(home), signal.SIGKILL)
    run = finished(backend, run_id)
    assert run.state is RunState.SUCCEEDED, explain(run)  # its worker did not depend on the service
    wait_until(lambda: not alive(zygote), 60, "the zygote to exit")
    assert not Path(str(socket_path(home))[: -len(".sock")] + ".wsock").exists()
