"""A version-3 store (before sweeps and schedules) upgrades in place and keeps its runs."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from jupyter_mlops.store import RunStore
from jupyter_mlops.store.schedule_records import ScheduleRecords
from jupyter_mlops.store.schema import current_version, migrate
from jupyter_mlops.store.sweep_records import SweepRecords


def test_a_version_3_store_gains_sweeps_and_schedules_and_keeps_its_runs(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "store.db", isolation_level=None)
    migrate(db, target=3)
    now = time.time()
    db.execute("INSERT INTO experiments VALUES ('e1', 'old-exp', ?)", (now,))
    db.execute(
        "INSERT INTO runs (id, name, experiment_id, state, created_at) "
        "VALUES ('old3', 'v3', 'e1', 'SUCCEEDED', ?)",
        (now,),
    )
    db.close()

    store = RunStore(tmp_path)
    assert current_version(store._db) >= 4
    assert store.get_run("old3").name == "v3"
    sweeps = SweepRecords(store)
    made = sweeps.create(name="s", pipeline_name="p", settings={"metric": "m"}, spec_path="x.yaml",
                         working_dir=None, owner_pid=1, owner_host="h")  # fmt: skip
    sweeps.add_trial(made.id, 0, {"x": 1}, "old3")
    sweeps.finish_trial(made.id, 0, "SUCCEEDED", 0.5)
    assert [(t.params, t.run_id, t.value) for t in sweeps.trials(made.id)] == [({"x": 1}, "old3", 0.5)]
    schedules = ScheduleRecords(store)
    sched = schedules.create(name="n", cron="0 3 * * *", timezone="UTC", catch_up="latest", pipeline_name="p",
                             spec_path="x.yaml", arguments={}, experiment=None, working_dir=None,
                             backend="local", now=now)  # fmt: skip
    assert schedules.claim(sched.id, now + 60, "test") and not schedules.claim(sched.id, now + 60, "again")
