"""A full disk under a running run (issue 12, item 2): a real full disk, a small tmpfs in a private mount
namespace (`unshare -m`), not an injected error. Every write the runner makes then fails (step log,
outputs, the store's WAL, the heartbeat, runner.log): the run must still end in a final state that says
why, once space allows, and leave no process behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from .namespace import private_tmpfs_available, run_on_small_disk

pytestmark = pytest.mark.skipif(not private_tmpfs_available(), reason="needs unshare -m and tmpfs (root)")

SCRIPT = r"""
import json, os, sys, time
from pathlib import Path
from jupyter_mlops.backends.local import LocalBackend
from jupyter_mlops.models import StepState

root, spec, free_after = Path(sys.argv[1]), Path(sys.argv[2]).read_text(), float(sys.argv[3])
nap, sigterm = float(sys.argv[4]), sys.argv[5] == "sigterm"
backend = LocalBackend(root / "home", max_workers=2)
run_id = backend.submit(spec, {"seconds": nap}).id
deadline = time.monotonic() + 120
while backend.get(run_id).step("nap").state is not StepState.RUNNING:
    assert time.monotonic() < deadline, "the nap step never started"
    time.sleep(0.05)
pid = backend.store.runner_record(run_id)["pid"]

filler = root / "filler"  # the disk fills while the step runs: everything written after this fails
with open(filler, "wb", buffering=0) as f:
    for chunk in (1 << 20, 4096, 1):
        try:
            while True:
                f.write(b"x" * chunk)
        except OSError:
            pass
full_at = time.monotonic()
if sigterm:  # a shutdown, or `kill`, while nothing can be written
    time.sleep(1)
    os.kill(pid, 15)

def alive(pid):
    try:
        return "Z" not in open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False

while time.monotonic() - full_at < free_after and alive(pid):
    time.sleep(0.1)
runner_alive_while_full = alive(pid)
filler.unlink()  # space again

deadline = time.monotonic() + 180
run = backend.get(run_id)
while not run.state.terminal and time.monotonic() < deadline:
    time.sleep(0.2)
    run = backend.get(run_id)
time.sleep(1)
marker = f"JUPYTER_MLOPS_RUNNER_RUN_ID={run_id}".encode()
left = []
for entry in Path("/proc").iterdir():
    if entry.name.isdigit() and int(entry.name) != os.getpid():
        try:
            if marker in (entry / "environ").read_bytes() and alive(int(entry.name)):
                left.append(int(entry.name))
        except OSError:
            pass
for stray in left:  # the test fails on them; they must not outlive it
    os.kill(stray, 9)
print(json.dumps({"state": run.state.value, "error": run.error,
                  "steps": {s.name: [s.state.value, s.error] for s in run.steps},
                  "runner_alive_while_full": runner_alive_while_full, "left": left}))
"""


def small_disk_run(
    tmp_path: Path, spec: str, free_after: float, env: dict[str, str], nap: float = 3.0, sigterm: bool = False
) -> dict[str, object]:
    spec_file = tmp_path / "sleepy.yaml"
    spec_file.write_text(spec)
    mount = tmp_path / "disk"
    # The steps' working files on the small disk too, as where there is no memory folder (scratch.py): on
    # /dev/shm a step's output would be written while the disk is full, and only its log would lose lines.
    env = {"JUPYTER_MLOPS_SCRATCH": "run", **env}
    args = [str(mount), str(spec_file), str(free_after), str(nap), "sigterm" if sigterm else "-"]
    return run_on_small_disk(mount, "24m", SCRIPT, args, env, 600)


def test_a_disk_that_fills_mid_run_ends_the_run_failed_saying_so_once_space_is_freed(
    tmp_path: Path, specs: dict[str, str]
) -> None:
    result = small_disk_run(tmp_path, specs["sleepy"], 8.0, {})
    assert result["state"] == "FAILED", result
    error = str(result["error"])
    assert "No space left on device" in error or "disk is full" in error, result
    assert result["steps"]["nap"][0] == "FAILED", result  # type: ignore[index]
    assert result["left"] == [], result


def test_a_disk_that_stays_full_ends_the_runner_and_readers_say_it_died(
    tmp_path: Path, specs: dict[str, str]
) -> None:
    # The runner waits this long for space to finish its writes, then gives up and exits.
    result = small_disk_run(tmp_path, specs["sleepy"], 120.0, {"JUPYTER_MLOPS_WRITE_PATIENCE_S": "3"})
    assert result["runner_alive_while_full"] is False, result
    assert result["state"] == "FAILED", result
    error = str(result["error"])
    assert "died" in error and "its last words" in error, result
    assert "No space left on device" in error or "disk is full" in error, result
    assert result["left"] == [], result


def test_sigterm_to_a_runner_on_a_full_disk_ends_it(tmp_path: Path, specs: dict[str, str]) -> None:
    # It stops its step, cannot record that, gives up after a few seconds (not the whole patience), and
    # exits; its last words say it was stopping.
    result = small_disk_run(tmp_path, specs["sleepy"], 120.0, {}, nap=300.0, sigterm=True)
    assert result["runner_alive_while_full"] is False, result
    assert result["state"] == "FAILED", result
    assert "its last words" in str(result["error"]) and "CANCELED" in str(result["error"]), result
    assert result["left"] == [], result
