"""The detached runner process on its own: how readers decide it is dead, how it stops on SIGTERM,
a run cancelled before its runner started, and a runner that cannot read its pipeline."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from waiting import wait_until

from jupyter_mlops.backends.local import LocalBackend
from jupyter_mlops.backends.runner_liveness import death_reason, this_host
from jupyter_mlops.models import RunState, StepInfo, StepState
from jupyter_mlops.store import RunStore, new_run_id

from .contract import finished

linux_only = pytest.mark.skipif(not Path("/proc").is_dir(), reason="uses /proc")


def record(run_id: str, pid: int | None, host: str, heartbeat_age: float) -> dict[str, object]:
    now = time.time()
    return {"id": run_id, "state": "RUNNING", "pid": pid, "host": host, "heartbeat": now - heartbeat_age,
            "created_at": now - 100}  # fmt: skip


@linux_only
def test_a_live_runner_is_recognised_by_its_pid_and_command_line() -> None:
    run_id = new_run_id()
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", run_id])
    try:
        wait_until(lambda: run_id.encode() in Path(f"/proc/{proc.pid}/cmdline").read_bytes(), 120, "exec")
        # alive even with an old heartbeat (a busy machine must not fail a working run)
        assert death_reason(record(run_id, proc.pid, this_host(), 600), stale_after=10) is None
        proc.kill()
        proc.wait()
        reason = death_reason(record(run_id, proc.pid, this_host(), 1), stale_after=10)
        assert reason is not None and f"runner process {proc.pid} died (killed or crashed)" in reason
    finally:
        proc.kill()


@linux_only
def test_a_pid_reused_by_another_process_does_not_keep_a_run_alive() -> None:
    reason = death_reason(record(new_run_id(), os.getpid(), this_host(), 1), stale_after=10)
    assert reason is not None and f"runner process {os.getpid()} died" in reason


def test_on_another_host_only_the_heartbeat_tells() -> None:
    assert death_reason(record("r1", 1, "elsewhere", 2), stale_after=10) is None
    reason = death_reason(record("r1", 1, "elsewhere", 30), stale_after=10)
    assert reason is not None and "runner process 1 sent no heartbeat since" in reason
    never = death_reason(record("r1", None, "elsewhere", 30), stale_after=10)
    assert never is not None and "never started" in never


def runner(home: Path, run_id: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jupyter_mlops.backends.local_runner", run_id, "--home", str(home)],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip


def stored_run(home: Path, spec_text: str, steps: list[str]) -> str:
    store = RunStore(home)
    run_id = new_run_id()
    run_dir = store.run_dir(run_id)
    run_dir.mkdir(parents=True)
    (run_dir / "pipeline.yaml").write_text(spec_text)
    store.create_run(run_id=run_id, name="by hand", experiment=None, pipeline_name="p", parameters={},
                     steps=steps, spec_path=run_dir / "pipeline.yaml")  # fmt: skip
    return run_id


def test_a_run_cancelled_before_its_runner_starts_never_runs_a_step(
    home: Path, specs: dict[str, str]
) -> None:
    run_id = stored_run(home, specs["arith"], ["add", "add-2"])
    RunStore(home).request_cancel(run_id)
    runner(home, run_id)
    run = RunStore(home).get_run(run_id)
    assert run.state is RunState.CANCELED
    assert [s.state for s in run.steps] == [StepState.SKIPPED, StepState.SKIPPED]
    assert not (RunStore(home).run_dir(run_id) / "logs").exists()


def test_a_runner_that_cannot_read_its_pipeline_fails_the_run_saying_why(home: Path) -> None:
    run_id = stored_run(home, "root: [unclosed", ["a"])
    runner(home, run_id)
    run = RunStore(home).get_run(run_id)
    assert run.state is RunState.FAILED
    assert "the local runner failed" in (run.error or "") and "runner.log" in (run.error or "")
    assert run.step("a").state is StepState.SKIPPED


def test_sigterm_to_the_runner_cancels_the_run_and_says_so(
    home: Path, specs: dict[str, str], runner_mode: str
) -> None:
    backend = LocalBackend(home)
    run_id = backend.submit(specs["sleepy"], {"seconds": 120}).id
    wait_until(lambda: backend.get(run_id).step("nap").state is StepState.RUNNING, what="the nap step")
    pid = backend.store.runner_record(run_id)["pid"]
    os.kill(pid, signal.SIGTERM)
    run = finished(backend, run_id, timeout=180)
    assert run.state is RunState.CANCELED
    assert f"runner process {pid} received SIGTERM" in (run.error or "")
    assert run.step("add").outputs == {"Output": 2} and run.step("nap").state is StepState.CANCELED


def test_cancelling_a_run_whose_runner_is_dead_finishes_the_cancel(home: Path, specs: dict[str, str]) -> None:
    run_id = stored_run(home, specs["arith"], ["add", "add-2"])
    gone = subprocess.Popen([sys.executable, "-c", "pass", run_id])
    gone.wait()  # a runner that has exited
    store = RunStore(home)
    store.mark_running(run_id, gone.pid, this_host())
    store.record_step(run_id, StepInfo("add", StepState.SUCCEEDED, attempts=1, outputs={"Output": 3}))
    store.record_step(run_id, StepInfo("add-2", StepState.RUNNING, attempts=1))
    run = LocalBackend(home).cancel(run_id)
    assert run.state is RunState.CANCELED
    assert [(s.name, s.state) for s in run.steps] == [
        ("add", StepState.SUCCEEDED),
        ("add-2", StepState.CANCELED),
    ]
    assert run.step("add").outputs == {"Output": 3}
