"""`%pipeline runs` opens its widget with its rows: the front end gets the table in the widget's first
message (comm_open), not an empty table followed by two updates (columns, then rows)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import comm
import pytest
from comm.base_comm import BaseComm

from jupyter_mlops.backends.local import LocalBackend
from jupyter_mlops.models import RunState
from jupyter_mlops.store import new_run_id
from jupyter_mlops.widgets import runs_table


class RecordingComm(BaseComm):
    """A kernel's comm that keeps what it would send to the front end."""

    sent: list[tuple[str, str, dict[str, Any]]] = []  # (message type, comm id, data)

    def publish_msg(
        self, msg_type: str, data: Any = None, metadata: Any = None, buffers: Any = None, **keys: Any
    ) -> None:
        RecordingComm.sent.append((msg_type, self.comm_id, dict(data or {})))


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[LocalBackend]:
    b = LocalBackend(tmp_path / "home", stale_after=3600)
    yield b
    b.close()


def test_the_runs_table_reaches_the_front_end_in_one_message(
    backend: LocalBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(3):
        rid = new_run_id()
        backend.store.create_run(
            run_id=rid, name=f"run-{i}", experiment="e", pipeline_name="p", parameters={"lr": i},
            steps=["train"], edges=[],
        )  # fmt: skip
        backend.store.finish_run(rid, RunState.SUCCEEDED, None)
    RecordingComm.sent = []
    monkeypatch.setattr(comm, "create_comm", lambda **kwargs: RecordingComm(**kwargs))

    table = runs_table(backend)

    mine = [(kind, data) for kind, comm_id, data in RecordingComm.sent if comm_id == table.model_id]
    opened = [data for kind, data in mine if kind == "comm_open"]
    assert len(opened) == 1
    state = opened[0]["state"]
    assert [r["name"] for r in state["rows"]] == ["run-2", "run-1", "run-0"]
    assert "param:lr" in [c["key"] for c in state["columns"]]
    updates = [data for kind, data in mine if kind == "comm_msg"]
    assert updates == []  # nothing re-sent after it opened
