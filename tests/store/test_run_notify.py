"""Run changes are pushed to waiters (store/run_notify.py): a store write in another process wakes a
RunWatch, a dead waiter's FIFO is removed by the next publisher, and run.wait() is woken by the push
rather than by its next look at the store."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from jupyter_mlops.models import RunState
from jupyter_mlops.store import RunStore, new_run_id, run_notify
from jupyter_mlops.store.run_notify import RunWatch, notify_dir, publish

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs (POSIX)")

FINISH = """
import sys
from pathlib import Path
from jupyter_mlops.models import RunState
from jupyter_mlops.store import RunStore
RunStore(Path(sys.argv[1])).finish_run(sys.argv[2], RunState.SUCCEEDED)
"""


def _new_run(store: RunStore) -> str:
    run_id = new_run_id()
    store.create_run(run_id=run_id, name="r", experiment=None, pipeline_name="p", parameters={}, steps=["a"])
    return run_id


def _finish_elsewhere(home: Path, run_id: str) -> None:
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    subprocess.run([sys.executable, "-c", FINISH, str(home), run_id], check=True, env=env)


def test_a_store_write_in_another_process_wakes_the_watchers_of_that_run_and_of_all(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    run_id, other = _new_run(store), _new_run(store)
    with RunWatch(tmp_path, run_id) as mine, RunWatch(tmp_path, other) as theirs, RunWatch(tmp_path) as every:
        assert mine.pushed and theirs.pushed and every.pushed
        _finish_elsewhere(tmp_path, run_id)
        assert mine.wait(60) is True
        assert every.wait(60) is True
        assert theirs.wait(0) is False  # another run's change is not announced to this one's watchers
        assert mine.wait(0) is False  # the announcement was consumed
    assert store.run_state(run_id) is RunState.SUCCEEDED
    assert not notify_dir(tmp_path, run_id).exists()  # the last watcher removed its folder


def test_a_watcher_that_died_leaves_a_fifo_the_next_publisher_removes(tmp_path: Path) -> None:
    code = "import sys, os; from pathlib import Path; from jupyter_mlops.store.run_notify import RunWatch\n"
    code += "w = RunWatch(Path(sys.argv[1]), 'abc123'); print(w.path, flush=True); os._exit(0)"
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    command = [sys.executable, "-c", code, str(tmp_path)]
    out = subprocess.run(command, check=True, env=env, capture_output=True)
    fifo = Path(out.stdout.decode().strip())
    assert fifo.exists()  # it never closed its watch
    assert publish(tmp_path, ["abc123"]) == 0
    assert not fifo.exists()


def test_a_watcher_of_the_run_state_only_is_not_woken_by_its_steps(tmp_path: Path) -> None:
    from jupyter_mlops.models import StepInfo, StepState

    store = RunStore(tmp_path)
    run_id = _new_run(store)
    with RunWatch(tmp_path, run_id, states_only=True) as state, RunWatch(tmp_path, run_id) as every:
        store.record_step(run_id, StepInfo(name="a", state=StepState.RUNNING))
        assert every.wait(60) is True
        assert state.wait(0) is False
        store.finish_run(run_id, RunState.SUCCEEDED)
        assert state.wait(60) is True and every.wait(60) is True


def _settle(folder: Path) -> None:
    """Date a watchers' folder back, as if its last watcher came a while ago."""
    old = os.stat(folder).st_mtime_ns - 10 * run_notify.SETTLED_NS
    os.utime(folder, ns=(old, old))


def test_a_settled_folder_is_not_listed_again_on_each_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A runner publishes twice a step: the folder of a run's watchers is listed once while no watcher
    comes or goes, and they are still woken every time."""
    listed: list[str] = []
    real = os.listdir

    def listdir(path: str) -> list[str]:
        listed.append(str(path))
        return real(path)

    monkeypatch.setattr(run_notify.os, "listdir", listdir)
    with RunWatch(tmp_path, "abc123") as watch:
        _settle(notify_dir(tmp_path, "abc123"))
        for _ in range(3):
            assert publish(tmp_path, ["abc123"]) == 1
            assert watch.wait(0) is True
    assert listed.count(str(notify_dir(tmp_path, "abc123"))) == 1


def test_a_watcher_that_came_after_a_listing_is_woken(tmp_path: Path) -> None:
    with RunWatch(tmp_path, "abc123") as first:
        _settle(notify_dir(tmp_path, "abc123"))
        assert publish(tmp_path, ["abc123"]) == 1  # listed, and the listing kept
        with RunWatch(tmp_path, "abc123") as second:  # a moment later: the folder's time is now
            assert publish(tmp_path, ["abc123"]) == 2
            assert second.wait(0) is True and first.wait(0) is True
            _settle(notify_dir(tmp_path, "abc123"))
            assert publish(tmp_path, ["abc123"]) == 2
        assert publish(tmp_path, ["abc123"]) == 1  # the one that left is not written to
        assert first.wait(0) is True


def test_a_folder_listed_in_the_same_tick_as_its_change_is_listed_again(tmp_path: Path) -> None:
    """A folder changed within the last moment is not trusted to show a later change by its time (the
    file-time clock is coarse): a watcher made within the same tick is woken too."""
    with RunWatch(tmp_path, "abc123"):
        folder = notify_dir(tmp_path, "abc123")
        assert publish(tmp_path, ["abc123"]) == 1
        stamp = os.stat(folder).st_mtime_ns
        with RunWatch(tmp_path, "abc123") as second:
            os.utime(folder, ns=(stamp, stamp))  # the same tick as the first listing
            assert publish(tmp_path, ["abc123"]) == 2
            assert second.wait(0) is True


def test_publishing_with_nobody_waiting_is_harmless(tmp_path: Path) -> None:
    assert publish(tmp_path, ["abc123", "def456"]) == 0
    assert not (tmp_path / "notify").exists()


def test_a_run_id_cannot_name_a_folder_elsewhere(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a run id"):
        notify_dir(tmp_path, "../x")


def test_run_wait_is_woken_by_the_push_not_by_its_next_look(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the periodic look at the store set to an hour, the wait ends when the push wakes it."""
    import threading

    from jupyter_mlops import run_handle
    from jupyter_mlops.backends.local import LocalBackend

    woken: list[bool] = []

    class Recorded(RunWatch):
        def wait(self, timeout: float | None) -> bool:
            woken.append(super().wait(timeout))
            return woken[-1]

    monkeypatch.setattr(run_handle, "_WAIT_CHECK_S", 3600.0)
    backend = LocalBackend(tmp_path)
    monkeypatch.setattr(backend, "watch", lambda run_id, states_only: Recorded(tmp_path, run_id))
    run_id = _new_run(backend.store)
    backend.store.set_runner(run_id, os.getpid(), "")  # "alive" on another host: only the heartbeat tells
    run = run_handle.Run(backend, run_id)
    threading.Timer(0.2, _finish_elsewhere, (tmp_path, run_id)).start()
    assert run.wait(timeout=120).state is RunState.SUCCEEDED
    assert woken and woken[-1] is True  # not a timeout of the wait
