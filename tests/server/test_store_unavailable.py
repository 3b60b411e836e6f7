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
