"""A step's request is written by the engine straight to the spare step process its worker forked ahead
(issue 15, per step): the worker's wake-up is no longer on the step's path (executor/direct_hand.py)."""

import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

from jupyter_mlops.executor import leftovers
from jupyter_mlops.executor.direct_hand import Spare, hand_directly
from jupyter_mlops.executor.processes import ForkWorker, fork_supported

pytestmark = pytest.mark.skipif(
    not fork_supported() or not leftovers.pidfd_available(), reason="forked steps and /proc (Linux)"
)


def _step(tmp_path: Path, text: str) -> tuple[Path, str]:
    module = tmp_path / "ephemeral_component.py"
    module.write_text(
        "from kfp import dsl\n\n\ndef step(text: str) -> None:\n"
        f"    open({str(tmp_path / 'ran')!r}, 'w').write(text)\n"
    )
    executor_input = {
        "inputs": {"parameterValues": {"text": text}},
        "outputs": {"outputFile": str(tmp_path / "executor_output.json")},
    }
    return module, json.dumps(executor_input)


def _spare_announced(worker: ForkWorker) -> None:
    deadline = time.monotonic() + 60
    while worker._spare is None:  # the worker announces the spare it forked ahead
        assert time.monotonic() < deadline, "the worker announced no spare"
        time.sleep(0.01)


def test_a_step_starts_and_ends_while_its_worker_is_stopped(tmp_path: Path) -> None:
    worker = ForkWorker(sys.executable, tmp_path / "worker.log")
    worker.start()
    _spare_announced(worker)
    proc = worker._proc
    assert proc is not None
    os.kill(proc.pid, signal.SIGSTOP)  # the worker can relay nothing now
    try:
        module, executor_input = _step(tmp_path, "direct")
        started: list[object] = []
        spawner = threading.Thread(
            target=lambda: started.append(
                worker.spawn(module, "step", executor_input, tmp_path / "step.log", {}, tmp_path)
            ),
            daemon=True,
        )
        spawner.start()
        spawner.join(30)
        assert started, "the step's start waited for its (stopped) worker"
        step = started[0]
        assert step.wait(60) == 0, (tmp_path / "step.log").read_text()  # type: ignore[attr-defined]
        assert (tmp_path / "ran").read_text() == "direct"
    finally:
        os.kill(proc.pid, signal.SIGCONT)
        worker.close()


def test_a_request_longer_than_a_pipe_write_goes_through_the_worker(tmp_path: Path) -> None:
    worker = ForkWorker(sys.executable, tmp_path / "worker.log")
    try:
        worker.start()
        _spare_announced(worker)
        module, executor_input = _step(tmp_path, "x" * 100_000)
        step = worker.spawn(module, "step", executor_input, tmp_path / "step.log", {}, tmp_path)
        assert step.wait(60) == 0, (tmp_path / "step.log").read_text()
        assert (tmp_path / "ran").read_text() == "x" * 100_000
    finally:
        worker.close()


def test_a_pipe_is_written_only_while_it_is_the_one_announced() -> None:
    read, write = os.pipe()
    try:
        inode = os.fstat(read).st_ino
        assert not hand_directly(Spare(os.getpid(), read, inode + 1), b"{}\n")
        assert hand_directly(Spare(os.getpid(), read, inode), b'{"id": 1}\n')
        assert os.read(read, 100) == b'{"id": 1}\n'
        os.close(write)
        write = -1
        gone = os.fstat(read).st_ino
        os.close(read)
        read = -1
        assert not hand_directly(Spare(os.getpid(), 10_000, gone), b"{}\n")  # no such descriptor
    finally:
        for fd in (read, write):
            if fd >= 0:
                os.close(fd)


def test_a_request_written_to_a_spare_that_took_another_step_still_runs(tmp_path: Path) -> None:
    """The worker's word of a spare may come after it handed that spare a step itself (the engine asked
    through it meanwhile): a request written there is never read; the worker runs it as any other."""
    worker = ForkWorker(sys.executable, tmp_path / "worker.log")
    try:
        worker.start()
        _spare_announced(worker)
        late, worker._spare = worker._spare, None  # as if its announcement had not come yet
        assert late is not None
        os.kill(late.pid, signal.SIGSTOP)  # it reads nothing until both requests are in its pipe
        first, second = tmp_path / "first", tmp_path / "second"
        first.mkdir()
        second.mkdir()
        module, executor_input = _step(first, "first")
        module.write_text(module.read_text() + "    import time; time.sleep(2)\n")
        slow = worker.spawn(module, "step", executor_input, first / "step.log", {}, first)
        assert slow.pid == late.pid  # the worker handed it the spare
        worker._spare = late  # the announcement comes now, late
        module, executor_input = _step(second, "second")
        step = worker.spawn(module, "step", executor_input, second / "step.log", {}, second)
        os.kill(late.pid, signal.SIGCONT)  # it takes the first, the worker's; the second runs elsewhere
        assert step.wait(60) == 0, (second / "step.log").read_text()
        assert (second / "ran").read_text() == "second"
        assert slow.wait(60) == 0, (first / "step.log").read_text()
        assert (first / "ran").read_text() == "first"
    finally:
        worker.close()


def test_no_request_is_written_to_the_spare_while_one_through_the_worker_may_take_it(
    tmp_path: Path,
) -> None:
    """Two steps starting at once: while the first one's request, sent through the worker, has no
    answer, the worker may hand it the announced spare; the second goes through the worker too (written
    to the spare, it would have run there while the worker gave the spare the first one). Each step
    runs, once."""
    worker = ForkWorker(sys.executable, tmp_path / "worker.log")
    try:
        worker.start()
        _spare_announced(worker)
        proc = worker._proc
        assert proc is not None
        announced, worker._spare = worker._spare, None  # the first request goes through the worker
        os.kill(proc.pid, signal.SIGSTOP)  # which reads it only once the second one is on its way
        folders = [tmp_path / "a", tmp_path / "b"]
        spawned: list[object] = []
        threads = []
        for folder in folders:
            folder.mkdir()
            module, executor_input = _step(folder, folder.name)
            module.write_text(  # each run appends its name, and lasts a second
                module.read_text().replace("'w'", "'a'") + "    import time; time.sleep(1)\n"
            )
            threads.append(
                threading.Thread(
                    target=lambda m=module, e=executor_input, f=folder: spawned.append(
                        worker.spawn(m, "step", e, f / "step.log", {}, f)
                    ),
                    daemon=True,
                )
            )
            threads[-1].start()
            deadline = time.monotonic() + 10  # its request sent through the worker, or handed
            while len(worker._unanswered) + len(spawned) < len(threads) and time.monotonic() < deadline:
                time.sleep(0.01)
            worker._spare = announced  # (as it was announced: the second step finds it)
        os.kill(proc.pid, signal.SIGCONT)
        for thread in threads:
            thread.join(60)
        assert len(spawned) == 2
        for step in spawned:
            assert step.wait(60) == 0  # type: ignore[attr-defined]
        assert [(f / "ran").read_text() for f in folders] == ["a", "b"]  # each ran, once
    finally:
        worker.close()
