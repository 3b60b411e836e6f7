"""`mlops.log_metric` in a plain cell, called per training batch: the points reach the run store in a few
transactions instead of one each, this process reads them at once, other processes within moments, and
none is lost (at exit, after a failed write, in a forked child)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from waiting import wait_until

import jupyter_mlops as mlops
from jupyter_mlops.api import notebook_session_run_id
from jupyter_mlops.backends.registry import default_backend
from jupyter_mlops.backends.session_points import SessionPoints, for_home
from jupyter_mlops.models import MetricPoint
from jupyter_mlops.store import RunStore


def test_a_loops_points_go_in_a_few_transactions_and_this_process_reads_them_all(home: Path) -> None:
    backend = default_backend()
    mlops.log_metric("loss", 1.0, step=0)
    waiting = for_home(home)
    waiting.flush()
    writes: list[int] = []
    store_write = waiting._write

    def counted(points: list[MetricPoint]) -> None:
        writes.append(len(points))
        store_write(points)

    waiting._write = counted
    for i in range(1, 2001):
        mlops.log_metric("loss", 1.0 / (i + 1), step=i)
    run = backend.get(notebook_session_run_id() or "")  # what is waiting is written before a read
    assert run.metrics == {"loss": 1.0 / 2001}
    history = RunStore(home).metric_history(run.id, "loss")
    assert [p.index for p in history] == list(range(2001))
    assert sum(writes) == 2000 and len(writes) < 100, writes  # one per point before


def test_another_process_sees_the_points_without_a_read_here(home: Path) -> None:
    mlops.log_metric("accuracy", 0.5)
    mlops.log_metric("accuracy", 0.75)
    session = notebook_session_run_id() or ""
    other = RunStore(home)  # as the server extension or another kernel reads the store
    wait_until(lambda: len(other.metric_history(session, "accuracy")) == 2, timeout=30)


def test_points_still_waiting_when_the_process_exits_are_written(tmp_path: Path) -> None:
    home = tmp_path / "home"
    code = (
        "import jupyter_mlops as mlops\n"
        "from jupyter_mlops.api import notebook_session_run_id\n"
        "for i in range(300): mlops.log_metric('loss', i, step=i)\n"
        "print(notebook_session_run_id())\n"  # and exit at once: the points are younger than the delay
    )
    env = {**os.environ, "JUPYTER_MLOPS_HOME": str(home)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    session = done.stdout.strip()
    assert [p.index for p in RunStore(home).metric_history(session, "loss")] == list(range(300))


def test_a_failed_write_keeps_its_points_and_is_told_in_the_next_call(home: Path) -> None:
    store = RunStore(home)
    store.create_run(run_id="s1", name="s", experiment="Notebook sessions", pipeline_name="", parameters={})
    failures = [OSError(28, "No space left on device")]

    def write(points: list[MetricPoint]) -> None:
        if failures:
            raise failures.pop()
        store.record_metrics(points)

    points = SessionPoints(write, delay=0.01)
    points.add(MetricPoint("s1", None, "loss", 1.0, index=0))
    wait_until(lambda: points._failure is not None, timeout=30, what="the background write to fail")
    with pytest.raises(OSError, match="No space left"):  # in the user's next call, i.e. in their cell
        points.add(MetricPoint("s1", None, "loss", 2.0, index=1))
    points.flush()
    assert [p.value for p in store.metric_history("s1", "loss")] == [1.0, 2.0]


def test_a_forked_child_does_not_write_its_parents_waiting_points(home: Path) -> None:
    store = RunStore(home)
    store.create_run(run_id="s2", name="s", experiment="Notebook sessions", pipeline_name="", parameters={})
    points = SessionPoints(store.record_metrics, delay=60.0)  # nothing written by the thread meanwhile
    points.add(MetricPoint("s2", None, "parent", 1.0))
    child = os.fork()
    if child == 0:  # pragma: no cover (runs in the child)
        try:
            points.flush()  # the parent's point is not the child's to write
            os._exit(0)
        except BaseException:
            os._exit(1)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert store.metric_history("s2") == []
    points.flush()
    assert [p.name for p in store.metric_history("s2")] == ["parent"]
