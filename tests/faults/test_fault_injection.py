"""Fault injection for the local backend (issue 12, Must show): every kind of write the runner and a
step make fails once, with ENOSPC or EIO (or the sqlite error a full or failing disk gives). Each run
ends in a final state within a bounded time, says why if it failed, and leaves no process carrying its
id. A store write that fails once is tried again: the run still succeeds.

The faults are injected at the write seams, in the runner and step processes themselves, by
inject/sitecustomize.py (on their PYTHONPATH): an injected OSError, not a real full disk (for that, see
test_disk_full.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from backends.contract import explain, finished
from waiting import wait_until

from jupyter_mlops.backends.local import LocalBackend
from jupyter_mlops.backends.runner_liveness import RUN_MARKER_ENV
from jupyter_mlops.models import RunState

INJECT = Path(__file__).with_name("inject")
BOUND_S = 180  # every run must be final by then (most take a few seconds)

# seam -> whether the run must still succeed (a store write is tried again; a file write is not)
SEAMS = {
    "mark-running": True,
    "heartbeat": True,
    "record-step": True,
    "record-metric": True,
    "record-artifact": True,
    "finish-run": True,
    "runner-log": True,
    "step-log": False,
    "step-module": False,
    "step-output": False,
}


def carrying(run_id: str) -> list[int]:
    marker = f"{RUN_MARKER_ENV}={run_id}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker in (entry / "environ").read_bytes():
                    stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
                    if stat not in ("Z", "X"):
                        found.append(int(entry.name))
            except OSError:
                pass
    return found


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds leftover processes through /proc")
@pytest.mark.parametrize("errno_name", ["ENOSPC", "EIO"])
@pytest.mark.parametrize("seam", sorted(SEAMS))
def test_a_write_failing_once_ends_the_run_final_and_leaves_nothing_running(
    seam: str, errno_name: str, home: Path, specs: dict[str, str], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    flags = tmp_path / "flags"
    flags.mkdir()
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(INJECT), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.setenv("JUPYTER_MLOPS_FAULT", f"{seam}:{errno_name}")
    monkeypatch.setenv("JUPYTER_MLOPS_FAULT_DIR", str(flags))
    backend = LocalBackend(home)
    if seam == "heartbeat":  # the runner beats once a second: the run must outlast a beat or two
        submitted = backend.submit(specs["sleepy"], {"seconds": 3.0})
    else:
        submitted = backend.submit(specs["dataset"], {"count": 4})
    run = finished(backend, submitted.id, timeout=BOUND_S)
    fired = (flags / "fired.log").read_text() if (flags / "fired.log").exists() else ""
    assert seam in fired, f"the fault at {seam} never fired: the test would prove nothing"
    assert run.state.terminal
    if SEAMS[seam]:
        assert run.state is RunState.SUCCEEDED, explain(run)
    elif run.state is RunState.FAILED:
        said = str(run.error)
        assert "No space left on device" in said or "Input/output error" in said, explain(run)
    # The runner itself exits just after recording the final state: give it (and it only) a moment.
    try:
        wait_until(lambda: not carrying(run.id), 30, "the run's processes to end")
    except AssertionError:
        pass
    leftovers = carrying(run.id)
    for pid in leftovers:
        os.kill(pid, 9)
    assert leftovers == []
