"""The local backend's promises, with real processes: detached runners that survive their kernel,
a SIGKILLed runner that leaves its run FAILED with a reason, many runs submitted at once from several
processes, an artifact root that cannot be written, and a plain kfp pipeline giving the same outputs
as under kfp.local."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import psutil
import pytest
from waiting import wait_until

from jupyter_mlops.backends.local import LocalBackend
from jupyter_mlops.backends.runner_liveness import RUN_MARKER_ENV
from jupyter_mlops.errors import StoreError
from jupyter_mlops.models import RunState, StepState

from .contract import explain, finished
from .service_processes import workers_zygote


def processes_of_run(run_id: str) -> list[int]:
    """Live processes that belong to a run (they carry the runner's marker variable)."""
    marker = f"{RUN_MARKER_ENV}={run_id}".encode() + b"\0"
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                environ = (entry / "environ").read_bytes()
                state = (entry / "stat").read_text().rsplit(")", 1)[-1].split()[0]
            except OSError:
                continue
            if marker in environ and state not in ("Z", "X"):
                found.append(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds step processes through /proc")
def test_sigkill_of_the_runner_mid_run_leaves_the_run_failed_with_a_reason(
    home: Path, specs: dict[str, str], runner_mode: str
) -> None:
    backend = LocalBackend(home)
    run_id = backend.submit(specs["sleepy"], {"seconds": 300}).id
    wait_until(lambda: backend.get(run_id).step("nap").state is StepState.RUNNING, what="the nap step")
    wait_until(lambda: "napping" in backend.logs(run_id, "nap").text, what="the nap step's first line")
    pid = backend.store.runner_record(run_id)["pid"]
    # its step worker and the step (forked from a warm service, they do not show the run's tag in /proc);
    # with the service, the worker is forked by its step workers' zygote (the only run: its workers)
    below = psutil.Process(pid).children(recursive=True)
    zygote = workers_zygote(psutil.Process(pid).ppid()) if runner_mode == "service" else None
    if zygote is not None:
        below += zygote.children(recursive=True)
    assert below
    os.kill(pid, signal.SIGKILL)

    run = finished(backend, run_id, timeout=180)  # a reader notices; no heartbeat timeout needed on Linux
    assert run.state is RunState.FAILED
    assert f"runner process {pid} died (killed or crashed)" in (run.error or "")
    assert run.step("nap").state is StepState.FAILED and f"runner process {pid}" in (
        run.step("nap").error or ""
    )
    # what finished before the kill keeps its outputs and logs
    assert run.step("add").state is StepState.SUCCEEDED and run.step("add").outputs == {"Output": 2}
    assert "adding 1 and 1" in backend.logs(run_id, "add").text
    assert "napping" in backend.logs(run_id, "nap").text
    # and the step the runner was running does not go on sleeping as an orphan
    wait_until(lambda: processes_of_run(run_id) == [], timeout=120, what="the orphaned step to be killed")
    wait_until(lambda: not [p for p in below if p.is_running() and p.status() != psutil.STATUS_ZOMBIE],
               timeout=120, what=f"the runner's worker and step {below} to end")  # fmt: skip
    assert backend.get(run_id).state is RunState.FAILED  # stays so
    runner_log = backend.run_dir(run_id) / "runner.log"  # the submitting process noted how it ended
    wait_until(lambda: f"runner process {pid} killed by signal 9" in runner_log.read_text(), 120, "the note")


def test_a_run_outlives_the_process_that_submitted_it(
    home: Path, specs: dict[str, str], tmp_path: Path
) -> None:
    spec_file = tmp_path / "arith.yaml"
    spec_file.write_text(specs["arith"])
    kernel = textwrap.dedent(
        f"""
        import os
        from pathlib import Path
        from jupyter_mlops.backends.local import LocalBackend
        run = LocalBackend(Path({str(home)!r})).submit(Path({str(spec_file)!r}).read_text(), {{"a": 40}})
        print(run.id, flush=True)
        os._exit(0)  # the "kernel" dies at once, without any cleanup
        """
    )
    out = subprocess.run([sys.executable, "-c", kernel], capture_output=True, text=True, check=True)
    run_id = out.stdout.strip()
    backend = LocalBackend(home)  # a new process-side view of the same store: state survived
    run = finished(backend, run_id)
    assert run.state is RunState.SUCCEEDED, explain(run)
    assert run.step("add-2").outputs == {"Output": 52}


SUBMITTER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from jupyter_mlops.backends.local import LocalBackend

    home, spec, worker = Path(sys.argv[1]), Path(sys.argv[2]).read_text(), int(sys.argv[3])
    backend = LocalBackend(home, max_workers=1)
    for i in range(5):
        run = backend.submit(spec, {"a": worker * 100 + i, "b": 1}, experiment="crowd", name=f"w{worker}-{i}")
        print(run.id, worker * 100 + i, flush=True)
    """
)


def test_twenty_runs_submitted_at_once_from_four_processes_all_finish(
    home: Path, specs: dict[str, str], tmp_path: Path
) -> None:
    spec_file = tmp_path / "arith.yaml"
    spec_file.write_text(specs["arith"])
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", SUBMITTER, str(home), str(spec_file), str(w)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for w in range(4)
    ]
    submitted: dict[str, int] = {}
    for p in procs:
        out, _ = p.communicate(timeout=120)
        assert p.returncode == 0
        for line in out.split("\n"):
            if line:
                run_id, a = line.split()
                submitted[run_id] = int(a)
    assert len(submitted) == 20

    backend = LocalBackend(home)
    for run_id, a in submitted.items():
        run = finished(backend, run_id, timeout=600)
        assert run.state is RunState.SUCCEEDED, explain(run)
        assert run.step("add").outputs == {"Output": a + 1}
        assert run.step("add-2").outputs == {"Output": a + 11}
        assert f"adding {a} and 1" in backend.logs(run_id, "add").text
    assert backend.list_runs(experiment="crowd", state=RunState.SUCCEEDED, limit=100).total == 20


def test_an_artifact_root_that_cannot_be_written_is_a_clear_error(home: Path, tmp_path: Path) -> None:
    # Root ignores permission bits; a directory below a regular file cannot be created by anyone.
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file")
    with pytest.raises(StoreError) as error:
        LocalBackend(home, artifact_root=blocker / "artifacts")
    message = str(error.value)
    assert str(blocker / "artifacts") in message and "artifact root" in message and "writable" in message
    with pytest.raises(StoreError, match=r"jupyter-mlops home .*not-a-dir/home.*JUPYTER_MLOPS_HOME"):
        LocalBackend(blocker / "home")


def test_an_artifact_root_elsewhere_holds_the_runs_files(
    home: Path, tmp_path: Path, specs: dict[str, str]
) -> None:
    root = tmp_path / "artifacts"
    backend = LocalBackend(home, artifact_root=root)
    run = finished(backend, backend.submit(specs["dataset"], {"count": 3}).id)
    assert run.state is RunState.SUCCEEDED, explain(run)
    (data,) = backend.artifacts(run.id, "write-lines")
    assert Path(data.uri).resolve().is_relative_to(root.resolve())
    assert Path(data.uri).read_text() == "line 0\nline 1\nline 2\n"
    assert (root / run.id / "pipeline.yaml").is_file()
    assert not (home / "runs").exists()  # neither the backend nor the runner made the default root


def test_a_rerun_after_a_restart_is_served_from_the_cache(home: Path, specs: dict[str, str]) -> None:
    first_session = LocalBackend(home)
    first = finished(first_session, first_session.submit(specs["dataset"], {"count": 4}).id)
    assert first.state is RunState.SUCCEEDED, explain(first)
    first_session.close()

    backend = LocalBackend(home)  # a new kernel, same home
    again = finished(backend, backend.submit(specs["dataset"], {"count": 4}).id)
    assert again.state is RunState.SUCCEEDED, explain(again)
    assert {s.name: s.state for s in again.steps} == {
        "write-lines": StepState.CACHED,
        "count-lines": StepState.CACHED,
    }
    assert again.step("count-lines").outputs["Output"] == first.step("count-lines").outputs["Output"] == 4
    (data,) = backend.artifacts(again.id, "write-lines")
    assert Path(data.uri).read_text() == "line 0\nline 1\nline 2\nline 3\n"

    fresh = finished(backend, backend.submit(specs["dataset"], {"count": 4}, cache=False).id)
    assert {s.state for s in fresh.steps} == {StepState.SUCCEEDED}
    other = finished(backend, backend.submit(specs["dataset"], {"count": 5}).id)
    assert other.step("write-lines").state is StepState.SUCCEEDED  # new inputs: a miss


def test_an_artifact_root_that_goes_away_fails_the_submit_and_loses_no_record(
    home: Path, tmp_path: Path, specs: dict[str, str]
) -> None:
    root = tmp_path / "artifacts"
    backend = LocalBackend(home, artifact_root=root)
    done = finished(backend, backend.submit(specs["arith"]).id)
    shutil.rmtree(root)
    root.write_text("the disk was swapped for a file")  # now nothing can be created below it
    with pytest.raises(StoreError, match=r"cannot write the run directory .*artifacts/\w+"):
        backend.submit(specs["arith"])
    runs = backend.list_runs().runs
    assert [r.id for r in runs] == [done.id]  # no half-made run was recorded
    assert backend.get(done.id).step("add-2").outputs == {"Output": 13}  # the earlier record is intact
