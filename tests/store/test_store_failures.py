"""A store that fails after it was opened (issue 12, item 5): the error is a StoreUnavailable that names
the cause (not a "cannot rollback - no transaction is active" over it), and once the cause is gone the
same RunStore works again, without being reopened by its user."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from jupyter_mlops.errors import StoreUnavailable
from jupyter_mlops.store import RunStore, new_run_id


def filled(home: Path, runs: int = 40) -> RunStore:
    store = RunStore(home)
    for i in range(runs):
        store.create_run(run_id=new_run_id(), name=f"run {i} " * 40, experiment=None, pipeline_name="p",
                         parameters={"text": "y" * 2000})  # fmt: skip
    db = sqlite3.connect(home / "store.db")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    store.close()
    return RunStore(home)


def test_damaged_pages_are_a_store_unavailable_naming_the_cause_and_a_repair_needs_no_reopen(
    tmp_path: Path,
) -> None:
    store = filled(tmp_path)
    path = tmp_path / "store.db"
    good = path.read_bytes()
    with path.open("r+b") as f:  # damage every page after the schema's
        f.seek(4096)
        f.write(b"\xff" * (len(good) - 4096))
    with pytest.raises(StoreUnavailable) as caught:
        store.list_runs(limit=500)
    message = str(caught.value)
    assert "malformed" in message and "rollback" not in message.lower() and str(path) in message
    path.write_bytes(good)  # repaired (restored from a backup)
    assert store.list_runs(limit=500).total == 40


def test_a_lock_held_past_the_busy_timeout_is_a_busy_store_unavailable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JUPYTER_MLOPS_STORE_BUSY_TIMEOUT_S", "0.3")
    store = filled(tmp_path, runs=1)
    holder = sqlite3.connect(tmp_path / "store.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreUnavailable) as caught:
            store.create_run(run_id=new_run_id(), name="x", experiment=None, pipeline_name="p", parameters={})
        assert caught.value.busy and "held it for more than 0.3 s" in str(caught.value)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    store.create_run(run_id=new_run_id(), name="x", experiment=None, pipeline_name="p", parameters={})
    assert store.list_runs().total == 2
