"""The runner service's spare runner (backends/forked_runner.py): forked ahead with its step worker, it
takes the next run with a write instead of a fork. It is not a run, it runs its run with the run's
environment and folder (not those of the moment it was forked), and it never outlives its service."""

# No `from __future__ import annotations`: kfp reads the component signatures' real types.

import json
import os
import signal
from pathlib import Path

import psutil
import pytest
from kfp import dsl
from waiting import wait_until

from jupyter_mlops.backends import service_client
from jupyter_mlops.backends.local import LocalBackend
from jupyter_mlops.backends.service_address import socket_path
from jupyter_mlops.models import RunState

from .contract import explain, finished
from .pipelines import IMAGE, compiled
from .service_processes import is_workers_zygote, workers_zygote


@dsl.component(base_image=IMAGE)
def environment(before: str) -> str:
    import json
    import os
    import time

    return json.dumps(
        {
            "fresh": os.environ.get("MLOPS_TEST_FRESH"),
            "zone": time.strftime("%Z", time.localtime(0)),
            "gone": "MLOPS_TEST_GONE" in os.environ,
            "cwd": os.getcwd(),
            "before": before,
        }
    )


@dsl.pipeline(name="environment-twice")
def environment_twice() -> str:
    # the first step runs in the step process the spare's worker forked ahead; the second is forked
    # from the worker once the run is under way
    return environment(before=environment(before="").output).output


def alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def the_service(home: Path) -> psutil.Process:
    return psutil.Process(int(service_client._ask(socket_path(home), {"op": "ping"}, 5.0)["pid"]))


def spare_of(service: psutil.Process) -> list[psutil.Process]:
    """The service's spare runner, its step worker and the worker's spare step, once all three are up
    (the service has no other child between runs of a pipeline that preloads nothing, but its step
    workers' zygote, which forked the spare's worker then)."""

    def three() -> list[psutil.Process] | None:
        try:
            children = [c for c in service.children() if not is_workers_zygote(c)]
            if len(children) != 1:
                return None
            zygote = workers_zygote(service.pid)
            below = children[0].children(recursive=True) + ([] if zygote is None else zygote.children(True))
        except psutil.NoSuchProcess:  # a runner reaped as we looked
            return None
        return [children[0], *below] if len(below) == 2 else None

    return wait_until(three, 60, "the service's spare runner, its worker and its spare step")


@pytest.fixture
def served(home: Path, specs: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> LocalBackend:
    """A backend whose service ran one run (it is up, with its spare forked)."""
    monkeypatch.setenv("JUPYTER_MLOPS_RUNNER", "service")
    backend = LocalBackend(home)
    run = finished(backend, backend.submit(specs["arith"], cache=False).id)
    assert run.state is RunState.SUCCEEDED, explain(run)
    return backend


def test_the_next_run_is_taken_by_the_spare_with_the_runs_own_environment(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JUPYTER_MLOPS_RUNNER", "service")
    monkeypatch.setenv("MLOPS_TEST_GONE", "set when the spare was forked")
    backend = LocalBackend(home)
    first = finished(backend, backend.submit(compiled(environment_twice), cache=False).id)
    assert first.state is RunState.SUCCEEDED, explain(first)
    service = the_service(home)
    spare = spare_of(service)[0]
    assert service_client._ask(socket_path(home), {"op": "ping"}, 5.0)["runs"] == 0  # it is not a run

    monkeypatch.delenv("MLOPS_TEST_GONE")  # the kernel's environment changes after the spare was forked
    monkeypatch.setenv("MLOPS_TEST_FRESH", "set after the spare was forked")
    monkeypatch.setenv("TZ", "MLT-5")  # a time zone set after: the steps' local time follows it
    folder = tmp_path / "notebook folder"
    folder.mkdir()
    run = finished(backend, backend.submit(compiled(environment_twice), cache=False, working_dir=folder).id)
    assert run.state is RunState.SUCCEEDED, explain(run)
    assert backend.store.runner_record(run.id)["pid"] == spare.pid  # the spare ran it: no fork on the way
    for step in ("environment", "environment-2"):
        seen = json.loads(run.step(step).outputs["Output"])
        assert seen["fresh"] == "set after the spare was forked", (step, seen)
        assert seen["gone"] is False, (step, seen)
        assert seen["cwd"] == str(folder), (step, seen)
        assert seen["zone"] == "MLT", (step, seen)
    assert (backend.run_dir(run.id) / "tmp" / "worker.log").exists()  # the worker's log: the run's folder


def test_killing_the_service_leaves_no_spare(served: LocalBackend, home: Path) -> None:
    service = the_service(home)
    spare = spare_of(service)
    os.kill(service.pid, signal.SIGKILL)
    wait_until(lambda: not any(map(alive, [service, *spare])), 60, f"the spare {spare} to end with it")


def test_the_idle_service_exits_with_its_spare(
    home: Path, specs: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JUPYTER_MLOPS_SERVICE_IDLE_S", "1")
    monkeypatch.setenv("JUPYTER_MLOPS_RUNNER", "service")
    backend = LocalBackend(home)
    assert finished(backend, backend.submit(specs["arith"], cache=False).id).state is RunState.SUCCEEDED
    service = the_service(home)
    spare = spare_of(service)
    wait_until(lambda: not alive(service), 120, "the idle service to exit")
    assert not alive(spare[0])  # reaped by the service before it went
    wait_until(lambda: not any(map(alive, spare)), 30, f"the spare's worker and step {spare[1:]} to end")


def test_the_spare_starts_its_runs_heartbeat_thread_before_it_has_a_run(
    served: LocalBackend, home: Path, specs: dict[str, str]
) -> None:
    """Starting a thread waits until the new thread runs: the spare does it while it waits for a run,
    and that thread heartbeats for the run it then gets."""
    service = the_service(home)

    def ready() -> psutil.Process | None:
        try:  # (the runner of the fixture's run may still be ending, the next spare not forked yet)
            spare = spare_of(service)[0]
            # its main thread, the reader of its step worker's replies, the run's heartbeat
            return spare if spare.num_threads() == 3 else None
        except psutil.NoSuchProcess:
            return None

    spare = wait_until(ready, 30, "a spare runner with its heartbeat thread started")
    run = finished(served, served.submit(specs["sleepy"], {"seconds": 2.5}, cache=False).id)
    assert run.state is RunState.SUCCEEDED, explain(run)
    record = served.store.runner_record(run.id)
    assert record["pid"] == spare.pid
    assert run.started_at is not None
    assert record["heartbeat"] >= run.started_at + 1.0  # it beat during the run
