"""A forked step tells the engine its end itself (issue 15, per step): when nothing it started can run
on (it is a child subreaper with no child left, and runs no other thread), it writes its end on its
worker's reply pipe before it exits, so the engine goes on without waiting for the worker to wake,
hear the step and reply. Otherwise (a thread still running, a child left, killed before its end) the
worker tells the end, as before."""

import json
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from jupyter_mlops.executor import leftovers
from jupyter_mlops.executor.processes import ForkWorker, StepProcess, fork_supported

pytestmark = pytest.mark.skipif(
    not fork_supported() or not leftovers.pidfd_available(), reason="forked steps and /proc (Linux)"
)


def _spawn(worker: ForkWorker, tmp_path: Path, body: str) -> StepProcess:
    module = tmp_path / "ephemeral_component.py"
    module.write_text(f"from kfp import dsl\n\n\ndef step() -> None:\n{body}")
    executor_input = json.dumps({"inputs": {}, "outputs": {"outputFile": str(tmp_path / "out.json")}})
    return worker.spawn(module, "step", executor_input, tmp_path / "step.log", {}, tmp_path)


@pytest.fixture
def worker(tmp_path: Path) -> Iterator[ForkWorker]:
    forked = ForkWorker(sys.executable, tmp_path / "worker.log")
    yield forked
    forked.close()


class Stopped:
    """The step's worker stopped (SIGSTOP) while the step runs: it can neither hear nor reply."""

    def __init__(self, step: StepProcess) -> None:
        self.pid = psutil.Process(step.pid).ppid()

    def __enter__(self) -> None:
        os.kill(self.pid, signal.SIGSTOP)

    def __exit__(self, *exc: object) -> None:
        os.kill(self.pid, signal.SIGCONT)


def test_a_step_that_leaves_nothing_tells_its_end_while_its_worker_cannot(
    worker: ForkWorker, tmp_path: Path
) -> None:
    step = _spawn(worker, tmp_path, "    import time\n    time.sleep(0.5)\n    print('done')\n")
    with Stopped(step):
        assert step.wait(20) == 0, (tmp_path / "step.log").read_text()
        assert step.clean  # nothing of it runs anywhere: no scan of every process for its tag
    assert "done" in (tmp_path / "step.log").read_text()  # its output was flushed before it said so


def test_its_own_word_carries_its_exit_code(worker: ForkWorker, tmp_path: Path) -> None:
    step = _spawn(worker, tmp_path, "    import time, sys\n    time.sleep(0.5)\n    sys.exit(4)\n")
    with Stopped(step):
        assert step.wait(20) == 4


@pytest.mark.parametrize(
    "body",
    [
        # a daemon thread still running at its end: it could start a process after any look
        "    import threading, time\n"
        "    threading.Thread(target=time.sleep, args=(600,), daemon=True).start()\n"
        "    time.sleep(0.5)\n",
        # a child it did not wait for
        "    import subprocess, sys, time\n"
        "    subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
        "    time.sleep(0.5)\n",
    ],
    ids=["thread", "child"],
)
def test_a_step_that_may_leave_something_lets_its_worker_tell_its_end(
    worker: ForkWorker, tmp_path: Path, body: str
) -> None:
    step = _spawn(worker, tmp_path, body)
    with Stopped(step):
        assert step.wait(2) is None  # not told by the step: the stopped worker must look first
    assert step.wait(20) == 0


def test_a_step_killed_before_its_end_is_seen_killed(worker: ForkWorker, tmp_path: Path) -> None:
    step = _spawn(worker, tmp_path, "    import os, time\n    time.sleep(0.3)\n    os.kill(os.getpid(), 9)\n")
    assert step.wait(20) == -signal.SIGKILL
    assert not step.clean


def test_a_step_that_reused_the_pipes_number_gets_nothing_written_there(
    worker: ForkWorker, tmp_path: Path
) -> None:
    """A step that closed every descriptor and opened files in their place: neither its word to the
    engine nor its word to its worker is written into its files (it tells no one: its worker sees it
    exit)."""
    body = (
        "    import os\n"
        "    os.closerange(3, 1024)\n"
        "    global kept\n"
        "    kept = [os.open(f'fd{i}.txt', os.O_WRONLY | os.O_CREAT, 0o644) for i in range(60)]\n"
    )
    step = _spawn(worker, tmp_path, body)
    assert step.wait(20) == 0, (tmp_path / "step.log").read_text()
    files = sorted(tmp_path.glob("fd*.txt"))
    assert len(files) == 60 and all(f.read_bytes() == b"" for f in files)


def test_what_a_step_forks_does_not_keep_the_pipe(worker: ForkWorker, tmp_path: Path) -> None:
    """A process the step forks (no exec) does not hold the worker's reply pipe, which the engine
    reads to its end to see the worker go."""
    body = (
        "    import os\n"
        "    child = os.fork()\n"
        "    if child == 0:\n"
        "        try:\n"
        "            links = []\n"
        "            for fd in os.listdir('/proc/self/fd'):\n"
        "                try:\n"
        "                    links.append(os.readlink(f'/proc/self/fd/{fd}'))\n"
        "                except OSError:\n"
        "                    pass\n"
        "            with open('child-fds.txt', 'w') as f:\n"
        "                f.write(' '.join(link for link in links if link.startswith('pipe:')))\n"
        "        finally:\n"
        "            os._exit(0)\n"
        "    os.waitpid(child, 0)\n"
    )
    step = _spawn(worker, tmp_path, body)
    assert step.wait(20) == 0, (tmp_path / "step.log").read_text()
    proc = worker._proc
    assert proc is not None and proc.stdout is not None
    reply_pipe = f"pipe:[{os.fstat(proc.stdout.fileno()).st_ino}]"
    assert reply_pipe not in (tmp_path / "child-fds.txt").read_text().split()


def _worker_lines(tmp_path: Path, body: str) -> list[dict[str, object]]:
    """Every line a worker (started as the engine starts one) writes for one step, up to its goodbye."""
    import subprocess

    from jupyter_mlops.executor import worker as worker_source

    assert worker_source.__file__ is not None
    module = tmp_path / "ephemeral_component.py"
    module.write_text(f"from kfp import dsl\n\n\ndef step() -> None:\n{body}")
    executor_input = json.dumps({"inputs": {}, "outputs": {"outputFile": str(tmp_path / "out.json")}})
    request = {
        "id": 1, "module": str(module), "function": "step", "executor_input": executor_input,
        "log": str(tmp_path / "step.log"), "env": {}, "cwd": str(tmp_path), "spare": False,
    }  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-c", Path(worker_source.__file__).read_text()],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=dict(os.environ, _KFP_RUNTIME="true"),
    )
    assert proc.stdin is not None and proc.stdout is not None
    lines: list[dict[str, object]] = []
    try:
        proc.stdin.write(json.dumps(request).encode() + b"\n")
        proc.stdin.flush()
        while not any("code" in line or "status" in line for line in lines):
            lines.append(json.loads(proc.stdout.readline()))
        proc.stdin.close()  # the engine's end: the worker says goodbye
        lines += [json.loads(line) for line in proc.stdout]
    finally:
        proc.kill()
        proc.wait()
    return lines


def test_a_step_that_told_its_end_is_not_told_again_by_its_worker(tmp_path: Path) -> None:
    """The worker hears that the step told the engine itself: it writes no second end for it (a line
    the engine's reader would wake for and drop), and counts it among the steps that left nothing."""
    lines = _worker_lines(tmp_path, "    print('done')\n")
    ends = [line for line in lines if line.get("id") == 1 and "code" in line]
    started = [line for line in lines if line.get("id") == 1 and set(line) == {"id", "pid"}]
    assert len(ends) == 1 and ends[0]["code"] == 0 and ends[0]["clean"] is True
    assert ends[0]["pid"] == started[0]["pid"]  # the step's own line: it carries its pid
    bye = lines[-1]  # (`ended`: the told steps it had not reaped yet, if any)
    assert bye["bye"] is True and bye["clean"] is True and set(bye["ended"]) <= {ends[0]["pid"]}


def test_a_step_that_could_not_tell_its_end_is_told_by_its_worker(tmp_path: Path) -> None:
    body = (
        "    import threading, time\n"
        "    threading.Thread(target=time.sleep, args=(600,), daemon=True).start()\n"
    )
    lines = _worker_lines(tmp_path, body)
    ends = [line for line in lines if line.get("id") == 1 and ("code" in line or "status" in line)]
    assert len(ends) == 1 and "pid" not in ends[0]  # the worker's line, once the step was seen to end
