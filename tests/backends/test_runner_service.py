"""The warm runner service (backends/runner_service.py): shared by the kernels of one home, its runs
outlive the kernel that started them and the service itself, it exits when idle, and only the user can
reach its socket. The runner kill/cancel/SIGTERM tests run against it too (`runner_mode`)."""

from __future__ import annotations

import os
import shutil
import signal
import stat
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
import pytest
from kernel.kernel_notebooks import KernelSession
from waiting import wait_until

from jupyter_mlops.backends import service_client
from jupyter_mlops.backends.local import LocalBackend
from jupyter_mlops.backends.service_address import socket_path
from jupyter_mlops.models import RunState, StepState

from .contract import explain, finished
from .service_processes import workers_zygote


def alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def service_of(backend: LocalBackend, run_id: str) -> psutil.Process:
    """The service that forked the run's runner (its parent while the service lives)."""
    record = backend.store.runner_record(run_id)
    assert record["service"] == str(socket_path(backend.home)), record
    return psutil.Process(psutil.Process(record["pid"]).ppid())


def napping(backend: LocalBackend, run_id: str) -> None:
    wait_until(lambda: backend.get(run_id).step("nap").state is StepState.RUNNING, what="the nap step")
    wait_until(lambda: "napping" in backend.logs(run_id, "nap").text, what="the nap step's first line")


def test_two_kernels_share_one_service_and_runs_outlive_their_kernel(
    home: Path, specs: dict[str, str], tmp_path: Path
) -> None:
    spec = tmp_path / "sleepy.yaml"
    spec.write_text(specs["sleepy"])
    submit = (
        "from jupyter_mlops.backends.local import LocalBackend\n"
        f"run_id = LocalBackend().submit(open({str(spec)!r}).read(), {{'seconds': 15}}, cache=False).id"
    )
    kernels = [KernelSession(tmp_path, {"JUPYTER_MLOPS_HOME": str(home)}) for _ in range(2)]
    try:
        run_ids = []
        backend = LocalBackend(home)
        services = set()
        for kernel in kernels:
            reply, shown = kernel.run(submit)
            assert reply["status"] == "ok", shown
            run_ids.append(kernel.value("run_id").strip("'"))
            napping(backend, run_ids[-1])
            services.add(service_of(backend, run_ids[-1]).pid)
        assert len(services) == 1  # one warm service forked both runners
        assert services.isdisjoint({k.km.provisioner.pid for k in kernels})  # type: ignore[union-attr]
        kernels[0].close()  # the kernel that started the first run goes away: the run goes on
        kernels.pop(0)
        for run_id in run_ids:
            run = finished(backend, run_id, timeout=180)
            assert run.state is RunState.SUCCEEDED, explain(run)
            assert run.step("nap").outputs == {"Output": "rested"}
    finally:
        for kernel in kernels:
            kernel.close()


def test_killing_the_service_mid_run_ends_no_run_and_leaves_no_process(
    home: Path, specs: dict[str, str]
) -> None:
    backend = LocalBackend(home)
    run_id = backend.submit(specs["sleepy"], {"seconds": 3}).id
    napping(backend, run_id)
    service = service_of(backend, run_id)
    runner = psutil.Process(backend.store.runner_record(run_id)["pid"])
    below = [runner, *runner.children(recursive=True)]  # the runner, and a step worker forked by it
    zygote = workers_zygote(service.pid)  # or the step workers' zygote, with the run's worker and step
    if zygote is not None:
        below += [zygote, *zygote.children(recursive=True)]
    assert len(below) >= 3
    os.kill(service.pid, signal.SIGKILL)
    wait_until(lambda: not alive(service), 60, "the service to die")

    run = finished(backend, run_id, timeout=180)
    assert run.state is RunState.SUCCEEDED, explain(run)  # the runner did not depend on the service
    wait_until(lambda: not any(map(alive, below)), 120, f"the run's processes {below} to end")

    again = finished(backend, backend.submit(specs["arith"]).id)  # a new service takes over
    assert again.state is RunState.SUCCEEDED, explain(again)
    assert backend.store.runner_record(again.id)["service"] == str(socket_path(home))
    assert "runner service pid" in backend.status().runner  # type: ignore[operator]


def test_the_service_exits_after_its_idle_period(
    home: Path, specs: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JUPYTER_MLOPS_SERVICE_IDLE_S", "1")
    backend = LocalBackend(home)
    run_id = backend.submit(specs["sleepy"], {"seconds": 1}).id
    napping(backend, run_id)
    service = service_of(backend, run_id)
    assert finished(backend, run_id).state is RunState.SUCCEEDED
    wait_until(lambda: not alive(service), 120, "the idle service to exit")
    assert not socket_path(home).exists()  # it took its socket with it
    assert "not running now" in (backend.status().runner or "")
    run = finished(backend, backend.submit(specs["arith"]).id)  # and the next run starts another
    assert run.state is RunState.SUCCEEDED, explain(run)


def test_only_the_user_can_open_the_socket(home: Path, specs: dict[str, str]) -> None:
    backend = LocalBackend(home)
    assert finished(backend, backend.submit(specs["arith"]).id).state is RunState.SUCCEEDED
    address = socket_path(home)
    info = address.stat()
    assert stat.S_ISSOCK(info.st_mode)
    assert stat.S_IMODE(info.st_mode) == 0o600 and info.st_uid == os.getuid()
    if address.parent != home:
        assert stat.S_IMODE(address.parent.stat().st_mode) == 0o700


def test_a_socket_folder_others_can_enter_is_refused_and_runs_go_to_their_own_process(
    home: Path, specs: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = Path(tempfile.mkdtemp(prefix="xdg"))  # short: a socket path has a length limit
    try:
        monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
        shared = runtime / "jupyter-mlops"
        shared.mkdir(mode=0o777)
        shared.chmod(0o777)
        assert socket_path(home).parent == shared
        backend = LocalBackend(home)
        run = finished(backend, backend.submit(specs["arith"], cache=False).id)
        assert run.state is RunState.SUCCEEDED, explain(run)
        assert backend.store.runner_record(run.id)["service"] is None  # a runner process of its own
        assert "not a private directory" in (home / service_client.LOG).read_text()
        assert not list(shared.iterdir())
    finally:
        shutil.rmtree(runtime, ignore_errors=True)


def test_the_backend_says_which_runner_runs_its_runs(
    home: Path, specs: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JUPYTER_MLOPS_RUNNER", "process")
    backend = LocalBackend(home)
    run = finished(backend, backend.submit(specs["arith"]).id)
    assert run.state is RunState.SUCCEEDED and backend.store.runner_record(run.id)["service"] is None
    assert "runs by a runner process per run (JUPYTER_MLOPS_RUNNER=process)" in str(backend.status())
    monkeypatch.setenv("JUPYTER_MLOPS_RUNNER", "service")
    run_id = backend.submit(specs["sleepy"], {"seconds": 1}).id
    napping(backend, run_id)
    service = service_of(backend, run_id)
    assert f"runs by runner service pid {service.pid}" in str(backend.status())
    assert finished(backend, run_id).state is RunState.SUCCEEDED


def test_a_service_whose_code_changed_on_disk_gives_way_to_a_new_one(
    home: Path, specs: dict[str, str]
) -> None:
    import time

    from jupyter_mlops.backends import service_freshness

    backend = LocalBackend(home)
    assert finished(backend, backend.submit(specs["arith"]).id).state is RunState.SUCCEEDED
    first = service_pid(home)
    loaded = Path(service_freshness.__file__)  # one of the files the service has loaded
    stat_before = loaded.stat()
    try:
        os.utime(loaded, ns=(stat_before.st_atime_ns, stat_before.st_mtime_ns + 10**9))  # an edit
        time.sleep(service_freshness.CHECK_EVERY_S + 0.1)
        run = finished(backend, backend.submit(specs["arith"], cache=False).id)
        assert run.state is RunState.SUCCEEDED, explain(run)
        assert backend.store.runner_record(run.id)["service"] == str(socket_path(home))
        assert service_pid(home) != first  # a new service ran it
        wait_until(
            lambda: not alive(psutil.Process(first)) if psutil.pid_exists(first) else True, 60, "the old"
        )
        assert "changed since it was loaded" in (home / service_client.LOG).read_text()
    finally:
        os.utime(loaded, ns=(stat_before.st_atime_ns, stat_before.st_mtime_ns))


def service_pid(home: Path) -> int:
    return int(service_client._ask(socket_path(home), {"op": "ping"}, 5.0)["pid"])


def fake_service(home: Path, on_request: Callable[[dict[str, Any]], None]) -> threading.Thread:
    """A service that takes one request, does `on_request`, and closes without answering (a crash)."""
    import json
    import socket

    from jupyter_mlops.backends.service_address import socket_folder_ready

    address = socket_path(home)
    socket_folder_ready(address, home)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(address))
    listener.listen(1)

    def serve() -> None:
        conn, _ = listener.accept()
        data = b""
        while not data.endswith(b"\n"):
            data += conn.recv(1 << 16)
        on_request(json.loads(data))
        conn.close()
        listener.close()
        address.unlink()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return thread


def test_a_runner_forked_before_the_service_died_unanswered_is_not_doubled(
    home: Path, specs: dict[str, str]
) -> None:
    import subprocess
    import sys

    from jupyter_mlops.backends.runner_liveness import process_start_time, this_host
    from jupyter_mlops.store import RunStore

    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:

        def forked_then_died(request: dict[str, Any]) -> None:  # the runner got going, then the crash
            RunStore(home).mark_running(request["run_id"], sleeper.pid, this_host(),
                                        started=process_start_time(sleeper.pid), service="fake")  # fmt: skip

        LocalBackend(home).close()  # the store exists before the fake service writes to it
        thread = fake_service(home, forked_then_died)
        backend = LocalBackend(home)
        run = backend.submit(specs["arith"], cache=False)
        thread.join(30)
        record = backend.store.runner_record(run.id)
        assert record["pid"] == sleeper.pid  # the runner that started is the run's runner
        assert backend.get(run.id).state is RunState.RUNNING  # and nothing else runs it
        assert not (backend.run_dir(run.id) / "runner.log").exists()
        assert f"its runner {sleeper.pid} had started" in (home / service_client.LOG).read_text()
    finally:
        sleeper.kill()
        sleeper.wait()


def test_a_service_that_died_unanswered_before_forking_leaves_the_run_to_a_process(
    home: Path, specs: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service_client, "REGISTER_WAIT_S", 0.5)
    LocalBackend(home).close()
    thread = fake_service(home, lambda request: None)
    backend = LocalBackend(home)
    run = finished(backend, backend.submit(specs["arith"], cache=False).id)
    thread.join(30)
    assert run.state is RunState.SUCCEEDED, explain(run)
    assert backend.store.runner_record(run.id)["service"] is None  # a runner process of its own ran it
    assert "no runner recorded it" in (home / service_client.LOG).read_text()


def test_pipeline_backend_in_a_kernel_says_which_runner_is_in_use(
    home: Path, specs: dict[str, str], tmp_path: Path
) -> None:
    spec = tmp_path / "arith.yaml"
    spec.write_text(specs["arith"])
    kernel = KernelSession(tmp_path, {"JUPYTER_MLOPS_HOME": str(home), "JUPYTER_MLOPS_RUNNER": "process"})
    try:
        reply, shown = kernel.run("%load_ext jupyter_mlops\n%pipeline backend")
        assert reply["status"] == "ok", shown
        assert "runs by a runner process per run (JUPYTER_MLOPS_RUNNER=process)" in shown
        reply, shown = kernel.run(
            "import os\nos.environ['JUPYTER_MLOPS_RUNNER'] = 'service'\n"
            "import jupyter_mlops as mlops\n"
            f"from pathlib import Path\nmlops.run(Path({str(spec)!r}), cache=False).wait()\n"
            "%pipeline backend"
        )
        assert reply["status"] == "ok", shown
        assert "runs by runner service pid" in shown, shown
    finally:
        kernel.close()


def test_a_runner_killed_under_the_service_wakes_whoever_waits_for_its_run(
    home: Path, specs: dict[str, str]
) -> None:
    from jupyter_mlops.store.run_notify import RunWatch

    backend = LocalBackend(home)
    run_id = backend.submit(specs["sleepy"], {"seconds": 300}).id
    napping(backend, run_id)
    pid = backend.store.runner_record(run_id)["pid"]
    with RunWatch(home, run_id, states_only=True) as watch:
        if not watch.pushed:
            pytest.skip("no FIFOs here: waiters only poll")
        os.kill(pid, signal.SIGKILL)
        # nobody else writes the run now (the runner is dead, this test reads nothing): the service that
        # reaped it says so, and a waiter looks again at once instead of at its next poll
        assert watch.wait(120), "no one woke the waiter"
    run = backend.get(run_id)
    assert run.state is RunState.FAILED and f"runner process {pid} died" in (run.error or "")


def test_the_service_loads_what_every_forked_step_imports_before_it_forks() -> None:
    """Runners, step workers and steps are forked from the service: what it imported they start with, among
    it kfp's executor and the step runtime every notebook step imports first."""
    import subprocess
    import sys

    probe = (
        "import sys\nfrom jupyter_mlops.backends.runner_service import warm_up\nwarm_up()\n"
        "print(sorted(m for m in ('kfp.dsl.executor_main', 'jupyter_mlops.step_runtime.run', "
        "'jupyter_mlops.step_runtime.values', 'jupyter_mlops.executor.worker') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == str(
        sorted(
            [
                "kfp.dsl.executor_main",
                "jupyter_mlops.step_runtime.run",
                "jupyter_mlops.step_runtime.values",
                "jupyter_mlops.executor.worker",
            ]
        )
    ), done.stdout + done.stderr


def test_pipeline_backend_says_a_busy_service_is_busy_not_gone(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the service waits for a new zygote (up to 20 s) it answers no one; `%pipeline backend` in
    another kernel said it was not running. Here the socket is held by a listener that never answers."""
    import socket as sockets

    from jupyter_mlops.backends import service_client

    monkeypatch.setattr(service_client, "PING_WAIT_S", 0.3)
    address = service_client.socket_path(home)
    address.parent.mkdir(parents=True, exist_ok=True)
    listener = sockets.socket(sockets.AF_UNIX, sockets.SOCK_STREAM)
    listener.bind(str(address))
    listener.listen(4)
    try:
        said = service_client.describe(home)
    finally:
        listener.close()
        address.unlink()
    assert said.startswith("runner service (running, busy: it did not answer within 0.3 s"), said
    assert "not running now" in service_client.describe(home)  # and once nothing listens
