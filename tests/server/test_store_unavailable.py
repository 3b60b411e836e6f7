"""A store that fails under a running server (issue 12, item 5): a 503 that says why, and the next call
after the cause is gone succeeds, without restarting the server. The failure here is real: another
process holds the store's write lock past the busy timeout (shortened for the test)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from backends.pipelines import arith, compiled

from .conftest import MlopsApi


@pytest.fixture
def short_busy_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUPYTER_MLOPS_STORE_BUSY_TIMEOUT_S", "0.3")


async def test_a_locked_store_is_a_503_with_the_cause_and_the_server_recovers(
    short_busy_timeout: None, api: MlopsApi, mlops_home: Path
) -> None:
    spec = compiled(arith)
    await api.get("runs")  # the store exists
    holder = sqlite3.connect(mlops_home / "store.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        code, answer = await api.call("POST", "runs", {"pipeline_yaml": spec})
        assert code == 503, answer
        assert "database is locked" in answer["message"] and "try again" in answer["message"]
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    code, answer = await api.call("POST", "runs", {"pipeline_yaml": spec})
    assert code == 201, answer
    await api.wait_for(answer["id"], {"SUCCEEDED"})


async def test_an_error_names_no_absolute_path_of_the_server(
    short_busy_timeout: None, api: MlopsApi, mlops_home: Path, jp_root_dir: Path
) -> None:
    # issue 12, item 17: the store's path is told relative to $JUPYTER_MLOPS_HOME
    await api.get("runs")
    holder = sqlite3.connect(mlops_home / "store.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        code, answer = await api.call("POST", "runs", {"pipeline_yaml": compiled(arith)})
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert code == 503
    assert str(mlops_home) not in answer["message"] and str(jp_root_dir) not in answer["message"]
    assert "$JUPYTER_MLOPS_HOME/store.db" in answer["message"]
