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
