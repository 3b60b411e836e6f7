"""A store written by an older release opens and upgrades in place, keeping its runs."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from jupyter_mlops.models import MetricPoint, RunState
from jupyter_mlops.store import RunStore
from jupyter_mlops.store.schema import SCHEMA_VERSION, current_version, migrate


def test_an_old_version_store_is_migrated_and_keeps_its_runs(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "store.db", isolation_level=None)
    assert migrate(db, target=1) == 0
    assert current_version(db) == 1
    now = time.time()
    db.execute("INSERT INTO experiments VALUES ('e1', 'old-exp', ?)", (now,))
    db.execute(
        "INSERT INTO runs (id, name, experiment_id, state, created_at, parameters) "
        "VALUES ('old1', 'from v1', 'e1', 'SUCCEEDED', ?, '{\"n\": 3}')",
        (now,),
    )
    db.execute("INSERT INTO steps (run_id, name, position, state) VALUES ('old1', 'train', 0, 'SUCCEEDED')")
    db.close()

    store = RunStore(tmp_path)
    assert current_version(store._db) == SCHEMA_VERSION > 1
    run = store.get_run("old1")
    assert (run.name, run.experiment, run.state, run.parameters) == (
        "from v1",
        "old-exp",
        RunState.SUCCEEDED,
        {"n": 3},
    )
    assert run.metrics == {}  # the column added by migration 2 has its default
    store.record_metric(MetricPoint("old1", "train", "acc", 0.9))  # and the new column works
    assert store.list_runs().runs[0].metrics == {"train.acc": 0.9}


def test_opening_a_current_store_again_changes_nothing(tmp_path: Path) -> None:
    RunStore(tmp_path).close()
    db = sqlite3.connect(tmp_path / "store.db", isolation_level=None)
    assert migrate(db) == SCHEMA_VERSION
    assert current_version(db) == SCHEMA_VERSION


def test_a_version_2_store_gains_the_working_dir_of_runs(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "store.db", isolation_level=None)
    migrate(db, target=2)
    now = time.time()
    db.execute("INSERT INTO experiments VALUES ('e1', 'old-exp', ?)", (now,))
    db.execute(
        "INSERT INTO runs (id, name, experiment_id, state, created_at) "
        "VALUES ('old2', 'v2', 'e1', 'PENDING', ?)",
        (now,),
    )
    db.close()

    store = RunStore(tmp_path)
    assert store.runner_record("old2")["working_dir"] is None  # its runner keeps the run's directory
    store.create_run(
        run_id="new", name="new", experiment=None, pipeline_name="p", parameters={}, working_dir=tmp_path
    )
    assert store.runner_record("new")["working_dir"] == str(tmp_path)


def v4_store_with_runs(home: Path, runner_pid: int, host: str) -> None:
    """A store as release 4 wrote it: the runner's pid, host and heartbeat in the runs table."""
    db = sqlite3.connect(home / "store.db", isolation_level=None)
    migrate(db, target=4)
    now = time.time()
    db.execute("INSERT INTO experiments VALUES ('e1', 'old-exp', ?)", (now,))
    rows = [
        ("live", "RUNNING", runner_pid, host, now - 1),
        ("done", "SUCCEEDED", 4242, host, now - 50),
        ("waiting", "PENDING", None, None, now - 2),
    ]
    for run_id, state, pid, on, beat in rows:
        db.execute(
            "INSERT INTO runs (id, name, experiment_id, state, created_at, parameters, pid, host, heartbeat) "
            "VALUES (?, ?, 'e1', ?, ?, '{}', ?, ?, ?)",
            (run_id, run_id, state, now - 100, pid, on, beat),
        )
    db.close()


def test_a_version_4_store_moves_its_runners_to_their_own_record(tmp_path: Path) -> None:
    v4_store_with_runs(tmp_path, runner_pid=31337, host="old-host")
    store = RunStore(tmp_path)
    live = store.runner_record("live")
    assert (live["pid"], live["host"], live["state"]) == (31337, "old-host", "RUNNING")
    assert live["heartbeat"] is not None and live["started"] is None and live["service"] is None
    assert store.runner_record("waiting")["heartbeat"] is not None  # its liveness clock carries on
    assert store.runner_record("done")["pid"] is None  # a finished run's runner is no longer kept
    assert store.get_run("done").state is RunState.SUCCEEDED  # the history is untouched
    columns = {r[1] for r in store._db.execute("PRAGMA table_info(runs)")}
    if sqlite3.sqlite_version_info >= (3, 35):
        assert not columns & {"pid", "host", "heartbeat"}
    # the new record is written by the runner's calls
    assert store.mark_running("waiting", 77, "h", started=123.5, service="/tmp/s.sock") is RunState.RUNNING
    waiting = store.runner_record("waiting")
    assert (waiting["pid"], waiting["started"], waiting["service"]) == (77, 123.5, "/tmp/s.sock")
    before = waiting["heartbeat"]
    time.sleep(0.01)
    store.heartbeat("waiting")
    assert store.runner_record("waiting")["heartbeat"] > before
    assert {r["id"] for r in store.active_runner_records()} == {"live", "waiting"}


def test_a_run_whose_runner_died_before_the_upgrade_is_failed_by_the_new_code(tmp_path: Path) -> None:
    import subprocess
    import sys

    from jupyter_mlops.backends.local import LocalBackend
    from jupyter_mlops.backends.runner_liveness import this_host

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # a runner of the old release that has exited without finishing its run
    v4_store_with_runs(tmp_path, runner_pid=gone.pid, host=this_host())
    run = LocalBackend(tmp_path).get("live")
    assert run.state is RunState.FAILED
    assert f"runner process {gone.pid} died" in (run.error or "")
