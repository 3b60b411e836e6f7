"""Many metric points are written in a few transactions (issue 15: 50,000 points were +2.5 s, a
transaction each): what the step's metrics file holds when the runner reads it is one batch, and the
store writes a batch in one transaction with the same result as point by point."""

from __future__ import annotations

import json
import math
import sqlite3
from pathlib import Path

from jupyter_mlops.executor.step_files import MetricsTail
from jupyter_mlops.models import MetricPoint, RunState
from jupyter_mlops.store import RunStore, new_run_id


def _run(store: RunStore) -> str:
    run_id = new_run_id()
    store.create_run(run_id=run_id, name="r", experiment=None, pipeline_name="p", parameters={},
                     steps=("train",), edges=[])  # fmt: skip
    store.mark_running(run_id, pid=1, host="h")
    return run_id


def test_a_batch_is_one_transaction_with_every_point_and_the_latest_values(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "home")
    store.metric_event_every = 3600
    run_id = _run(store)
    points = [
        MetricPoint(run_id, "train", "loss", 1.0 / (i + 1), index=i, time=float(i)) for i in range(50_000)
    ]
    points.append(MetricPoint(run_id, "train", "acc", math.nan, time=1.0))
    commits = 0

    def count(statement: str) -> None:
        nonlocal commits
        commits += statement.strip().upper().startswith(("COMMIT", "END"))

    store._db.set_trace_callback(count)
    store.record_metrics(points)
    store._db.set_trace_callback(None)
    assert commits == 1
    history = store.metric_history(run_id, "loss")
    assert len(history) == 50_000 and history[-1].value == 1.0 / 50_000 and history[-1].index == 49_999
    run = store.get_run(run_id)
    assert run.state is RunState.RUNNING
    assert run.metrics["train.loss"] == 1.0 / 50_000
    assert math.isnan(run.step("train").metrics["acc"])
    metric_events = [e for e in store.events(run_id) if e.kind == "metric"]
    assert len(metric_events) == 1  # throttled: one for the batch, about its first point
    assert metric_events[0].detail == {"name": "loss", "value": 1.0, "index": 0}
    store.record_metrics([])  # nothing to write: no transaction, no error


def test_the_metrics_file_is_read_as_one_batch_per_read(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    lines = [json.dumps({"name": "loss", "value": i, "step": i, "time": 1.0}) for i in range(1000)]
    path.write_text("\n".join(lines) + "\n" + '{"name": "torn"')  # a line still being written
    batches: list[list[tuple[str, float, int | None, float]]] = []
    tail = MetricsTail(path, batches.append)
    assert tail.read() == 1000  # how many points it handed over: the runner reads again soon while > 0
    assert len(batches) == 1 and len(batches[0]) == 1000
    assert batches[0][-1] == ("loss", 999.0, 999, 1.0)
    with path.open("a") as f:
        f.write(', "value": 1}\n')
    assert tail.read() == 1
    assert tail.read() == 0  # nothing new: no empty batch
    assert [len(b) for b in batches] == [1000, 1]
    with path.open("a") as f:  # a foreign line among the points is left out, the others are read
        f.write('{"name": "a", "value": 1}\nnot json\n[1, 2]\n{"name": "b", "value": 2, "step": 3}\n\n')
    assert tail.read() == 2
    assert batches[-1] == [("a", 1.0, None, batches[-1][0][3]), ("b", 2.0, 3, batches[-1][1][3])]


def test_points_and_batches_agree(tmp_path: Path) -> None:
    """record_metric is a batch of one: the same rows and summary either way."""
    one, many = RunStore(tmp_path / "one"), RunStore(tmp_path / "many")
    run_one, run_many = _run(one), _run(many)
    values = [("loss", 0.5, 0), ("loss", 0.25, 1), ("acc", 0.9, None)]
    for name, value, index in values:
        one.record_metric(MetricPoint(run_one, "train", name, value, index=index, time=2.0))
    many.record_metrics([MetricPoint(run_many, "train", n, v, index=i, time=2.0) for n, v, i in values])
    rows = [
        sqlite3.connect(s.home / "store.db")
        .execute("SELECT step, name, value, idx, time FROM metrics")
        .fetchall()
        for s in (one, many)
    ]
    assert rows[0] == rows[1]
    assert one.get_run(run_one).metrics == many.get_run(run_many).metrics
