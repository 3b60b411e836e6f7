"""Listing a page of 50 runs from a run store of 100,000 runs (target: <= 20 ms).

    python bench/bench_store.py [--runs 100000] [--repeat 50] [--mlflow-path /tmp/mlflow-env]

Fills a fresh store with executemany, then times `LocalBackend.list_runs` (what `%pipeline runs`,
the CLI and the REST API call) for the first page, a page filtered by experiment, one filtered by
state, and a deep page. Peers, measured in the same run on the same data:
- the same first-page query on a copy of the database without the store's indexes (what a naive
  schema would cost);
- MLflow's `MlflowClient.search_runs(max_results=50)` on its SQLite tracking store holding the same
  number of runs (one param and one metric each), if mlflow can be imported (from --mlflow-path too).
"""

from __future__ import annotations

import argparse
import json
import secrets
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jupyter_mlops.backends.local import LocalBackend
from jupyter_mlops.models import RunState
from jupyter_mlops.store.records import RUN_COLUMNS

EXPERIMENTS = 10


def timed(call: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """(median, max) in milliseconds, after one warm-up call."""
    call()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), max(samples)


def fill_ours(home: Path, runs: int) -> list[str]:
    LocalBackend(home).close()  # creates the schema
    db = sqlite3.connect(home / "store.db", isolation_level=None)
    now = time.time() - runs
    experiments = [(secrets.token_hex(6), f"exp-{i}", now) for i in range(EXPERIMENTS)]
    states = [RunState.SUCCEEDED.value] * 8 + [RunState.FAILED.value, RunState.CANCELED.value]
    rows = [
        (
            secrets.token_hex(6), f"run-{i}", experiments[i % EXPERIMENTS][0], "demo", "local",
            states[i % len(states)], now + i, now + i, now + i + 1, json.dumps({"lr": 0.01, "i": i}),
            json.dumps({"train.loss": 1 / (i + 1)}), "pipeline",
        )
        for i in range(runs)
    ]  # fmt: skip
    db.execute("BEGIN")
    db.executemany("INSERT INTO experiments (id, name, created_at) VALUES (?, ?, ?)", experiments)
    db.executemany(
        "INSERT INTO runs (id, name, experiment_id, pipeline_name, backend, state, created_at, started_at, "
        "finished_at, parameters, metrics_summary, kind) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    db.execute("COMMIT")
    db.execute("ANALYZE")
    db.close()
    return [e[1] for e in experiments]


def naive_page(path: Path) -> Callable[[], Any]:
    db = sqlite3.connect(path)
    for (name,) in db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
    ).fetchall():
        db.execute(f"DROP INDEX {name}")
    db.commit()
    query = (
        f"SELECT {RUN_COLUMNS} FROM runs r JOIN experiments e ON e.id = r.experiment_id "
        "ORDER BY r.created_at DESC, r.rowid DESC LIMIT 50"
    )

    def page() -> Any:
        count = db.execute("SELECT COUNT(*) FROM runs").fetchone()
        return count, [(*row[:9], json.loads(row[9]), json.loads(row[11])) for row in db.execute(query)]

    return page


def mlflow_page(workdir: Path, runs: int, extra_path: str | None) -> Callable[[], Any] | str:
    if extra_path:
        sys.path.append(extra_path)
    try:
        import mlflow
        from mlflow.tracking import MlflowClient
    except ImportError as exc:
        return f"mlflow not importable ({exc})"
    uri = f"sqlite:///{workdir / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri)
    exp_id = client.create_experiment("bench", artifact_location=str(workdir / "mlruns"))
    client.create_run(exp_id)  # lets MLflow create every table it needs
    db = sqlite3.connect(workdir / "mlflow.db", isolation_level=None)
    start_ms = int(time.time() * 1000) - runs * 1000
    ids = [secrets.token_hex(16) for _ in range(runs)]
    db.execute("BEGIN")
    db.executemany(
        "INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, user_id, status, "
        "start_time, end_time, source_version, lifecycle_stage, artifact_uri, experiment_id) "
        "VALUES (?, ?, 'LOCAL', '', '', 'bench', 'FINISHED', ?, ?, '', 'active', '', ?)",
        [
            (rid, f"run-{i}", start_ms + i * 1000, start_ms + i * 1000 + 500, exp_id)
            for i, rid in enumerate(ids)
        ],
    )
    db.executemany("INSERT INTO params (key, value, run_uuid) VALUES ('lr', '0.01', ?)", [(r,) for r in ids])
    db.executemany(
        "INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) "
        "VALUES ('loss', ?, 0, 0, 0, ?)",
        [(1 / (i + 1), r) for i, r in enumerate(ids)],
    )
    db.execute("COMMIT")
    db.close()
    assert len(client.search_runs([exp_id], max_results=50)) == 50  # it sees the runs filled in
    print(f"  mlflow {mlflow.__version__}: {runs} runs in its SQLite tracking store")
    return lambda: client.search_runs([exp_id], max_results=50)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--mlflow-path", default=None, help="extra sys.path entry where mlflow is installed")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-store-"))
    try:
        start = time.perf_counter()
        experiments = fill_ours(work / "home", args.runs)
        took = time.perf_counter() - start
        print(f"filled a store of {args.runs} runs in {took:.1f} s; {args.repeat} calls per case")
        backend = LocalBackend(work / "home")
        assert len(backend.list_runs(limit=50).runs) == 50
        one = experiments[3]
        cases: list[tuple[str, Callable[[], Any]]] = [
            ("jupyter-mlops: first page of 50", lambda: backend.list_runs(limit=50)),
            (
                "jupyter-mlops: page of 50 in one experiment",
                lambda: backend.list_runs(experiment=one),
            ),
            ("jupyter-mlops: page of 50 FAILED runs", lambda: backend.list_runs(state=RunState.FAILED)),
            ("jupyter-mlops: page of 50 at offset 5,000", lambda: backend.list_runs(offset=5_000)),
        ]
        shutil.copy(work / "home" / "store.db", work / "naive.db")
        cases.append(("same query, no indexes (naive schema)", naive_page(work / "naive.db")))
        peer = mlflow_page(work, args.runs, args.mlflow_path)
        if isinstance(peer, str):
            print(f"  MLflow peer skipped: {peer}")
        else:
            cases.append(("MLflow search_runs(max_results=50)", peer))
        print(f"{'case':<48} {'median ms':>10} {'max ms':>8}")
        for label, call in cases:
            median, worst = timed(call, args.repeat)
            print(f"{label:<48} {median:>10.2f} {worst:>8.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
