"""The run store's SQLite schema, as an ordered list of migrations.

Migration N (1-based) takes a database at version N-1 to version N. A new release appends a function;
it never edits an old one, so a store written by any earlier version opens and upgrades in place.
Each migration runs inside the caller's `BEGIN IMMEDIATE` transaction, so two processes opening a
fresh store at once cannot both apply it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from ..errors import StoreError


def _statements(db: sqlite3.Connection, script: str) -> None:
    # Not `executescript`: it COMMITs the caller's open transaction first, which would let two
    # processes race through the same migration.
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


def _v1_initial(db: sqlite3.Connection) -> None:
    _statements(
        db,
        """
        CREATE TABLE experiments (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            created_at REAL NOT NULL
        );
        CREATE TABLE runs (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            experiment_id TEXT NOT NULL REFERENCES experiments(id),
            pipeline_name TEXT NOT NULL DEFAULT '',
            backend TEXT NOT NULL DEFAULT 'local',
            state TEXT NOT NULL,
            created_at REAL NOT NULL,
            started_at REAL,
            finished_at REAL,
            parameters TEXT NOT NULL DEFAULT '{}',
            error TEXT,
            pid INTEGER,
            heartbeat REAL,
            spec_path TEXT,
            cache INTEGER NOT NULL DEFAULT 1
        );
        CREATE INDEX runs_by_created ON runs(created_at);
        CREATE INDEX runs_by_experiment ON runs(experiment_id, created_at);
        CREATE INDEX runs_by_state ON runs(state, created_at);
        CREATE TABLE steps (
            run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            position INTEGER NOT NULL,
            state TEXT NOT NULL,
            component TEXT NOT NULL DEFAULT '',
            started_at REAL,
            finished_at REAL,
            attempts INTEGER NOT NULL DEFAULT 0,
            error TEXT,
            inputs TEXT NOT NULL DEFAULT '{}',
            outputs TEXT NOT NULL DEFAULT '{}',
            cache_key TEXT,
            PRIMARY KEY (run_id, name)
        );
        CREATE TABLE edges (
            run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            upstream TEXT NOT NULL,
            downstream TEXT NOT NULL,
            PRIMARY KEY (run_id, upstream, downstream)
        );
        CREATE TABLE metrics (
            id INTEGER PRIMARY KEY,
            run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            step TEXT,
            name TEXT NOT NULL,
            value REAL,  -- NULL holds NaN, which SQLite cannot store
            idx INTEGER,
            time REAL NOT NULL
        );
        CREATE INDEX metrics_by_run ON metrics(run_id, step, name);
        CREATE TABLE artifacts (
            id INTEGER PRIMARY KEY,
            run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            step TEXT NOT NULL,
            name TEXT NOT NULL,
            uri TEXT NOT NULL,
            type TEXT NOT NULL,
            metadata TEXT NOT NULL DEFAULT '{}',
            UNIQUE (run_id, step, name, uri)
        );
        CREATE TABLE events (
            run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            time REAL NOT NULL,
            kind TEXT NOT NULL,
            state TEXT NOT NULL,
            step TEXT,
            detail TEXT NOT NULL DEFAULT '{}',
            PRIMARY KEY (run_id, seq)
        );
        """,
    )


def _v2_summaries_and_sessions(db: sqlite3.Connection) -> None:
    # A list page shows each run's latest metrics without touching the metrics table (kept cheap at
    # 100,000 runs): the summary is written when a run finishes. `kind` separates pipeline runs from
    # the pseudo-runs that hold metrics logged in plain notebook cells; `host` lets a reader on another
    # machine (a shared home) skip the pid check that only means something on the runner's host.
    db.execute("ALTER TABLE runs ADD COLUMN metrics_summary TEXT NOT NULL DEFAULT '{}'")
    db.execute("ALTER TABLE runs ADD COLUMN kind TEXT NOT NULL DEFAULT 'pipeline'")
    db.execute("ALTER TABLE runs ADD COLUMN host TEXT")


def _v3_working_dir(db: sqlite3.Connection) -> None:
    # The directory a run's steps work in on the local backend (the notebook's folder, where relative
    # paths such as 'data/train.csv' are found): the detached runner reads it from here. NULL for runs
    # recorded before: their steps worked in the run's directory.
    db.execute("ALTER TABLE runs ADD COLUMN working_dir TEXT")


def _v4_sweeps_and_schedules(db: sqlite3.Connection) -> None:
    # A sweep is a search over a frozen pipeline's parameters; each trial is one run (run_id). A schedule
    # is a frozen pipeline with arguments fired on a cron; `schedule_fires` holds one row per due time it
    # fired, whose primary key is what lets only one of several schedulers fire a given time.
    _statements(
        db,
        """
        CREATE TABLE sweeps (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            pipeline_name TEXT NOT NULL DEFAULT '',
            settings TEXT NOT NULL DEFAULT '{}',
            spec_path TEXT NOT NULL,
            working_dir TEXT,
            state TEXT NOT NULL,
            created_at REAL NOT NULL,
            finished_at REAL,
            owner_pid INTEGER,
            owner_host TEXT,
            heartbeat REAL,
            error TEXT
        );
        CREATE TABLE sweep_trials (
            sweep_id TEXT NOT NULL REFERENCES sweeps(id) ON DELETE CASCADE,
            number INTEGER NOT NULL,
            params TEXT NOT NULL DEFAULT '{}',
            run_id TEXT,
            state TEXT NOT NULL,
            value REAL,
            error TEXT,
            finished_at REAL,
            PRIMARY KEY (sweep_id, number)
        );
        CREATE INDEX sweep_trials_by_run ON sweep_trials(run_id);
        CREATE TABLE schedules (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            cron TEXT NOT NULL,
            timezone TEXT NOT NULL,
            catch_up TEXT NOT NULL,
            pipeline_name TEXT NOT NULL DEFAULT '',
            spec_path TEXT NOT NULL,
            arguments TEXT NOT NULL DEFAULT '{}',
            experiment TEXT,
            working_dir TEXT,
            backend TEXT NOT NULL DEFAULT 'local',
            cache INTEGER NOT NULL DEFAULT 0,
            paused INTEGER NOT NULL DEFAULT 0,
            created_at REAL NOT NULL,
            last_due REAL NOT NULL
        );
        CREATE TABLE schedule_fires (
            schedule_id TEXT NOT NULL REFERENCES schedules(id) ON DELETE CASCADE,
            due REAL NOT NULL,
            fired_at REAL NOT NULL,
            fired_by TEXT NOT NULL,
            run_id TEXT,
            error TEXT,
            PRIMARY KEY (schedule_id, due)
        );
        CREATE INDEX schedule_fires_by_run ON schedule_fires(run_id);
        """,
    )


def _v5_runners_apart(db: sqlite3.Connection) -> None:
    # The runner's coordination (pid, host, heartbeat) leaves the run's history for a table of its own
    # (store/runner_records.py), with the process's start time (a runner forked by the runner service
    # is known by it, not by its command line) and the service it belongs to. Unfinished runs keep
    # their runner; the columns are dropped from `runs` where SQLite can (3.35+), else left unused.
    _statements(
        db,
        """
        CREATE TABLE runners (
            run_id TEXT PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
            pid INTEGER,
            host TEXT,
            started REAL,
            heartbeat REAL,
            service TEXT
        );
        INSERT INTO runners (run_id, pid, host, heartbeat)
            SELECT id, pid, host, heartbeat FROM runs
            WHERE state IN ('PENDING', 'RUNNING', 'CANCELING') AND (pid IS NOT NULL OR heartbeat IS NOT NULL)
        """,
    )
    if sqlite3.sqlite_version_info >= (3, 35):
        for column in ("pid", "host", "heartbeat"):
            db.execute(f"ALTER TABLE runs DROP COLUMN {column}")


Migration = Callable[[sqlite3.Connection], None]

MIGRATIONS: list[Migration] = [
    _v1_initial,
    _v2_summaries_and_sessions,
    _v3_working_dir,
    _v4_sweeps_and_schedules,
    _v5_runners_apart,
]
SCHEMA_VERSION = len(MIGRATIONS)


def current_version(db: sqlite3.Connection) -> int:
    row = db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
    ).fetchone()
    if row is None:
        return 0
    version = db.execute("SELECT version FROM schema_version").fetchone()
    return int(version[0]) if version else 0


def migrate(db: sqlite3.Connection, *, target: int = SCHEMA_VERSION, where: str = "store") -> int:
    """Bring `db` (opened in autocommit mode) to schema version `target`; return the version found."""
    if target > SCHEMA_VERSION:
        raise ValueError(f"no schema version {target}; the newest is {SCHEMA_VERSION}")
    db.execute("BEGIN IMMEDIATE")
    try:
        found = current_version(db)
        if found > SCHEMA_VERSION:
            raise StoreError(
                f"the run store {where} has schema version {found}, newer than this jupyter-mlops "
                f"understands ({SCHEMA_VERSION}): upgrade jupyter-mlops, or point JUPYTER_MLOPS_HOME "
                "at another directory"
            )
        if found == 0:
            db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            db.execute("DELETE FROM schema_version")
            db.execute("INSERT INTO schema_version (version) VALUES (0)")
        for version in range(found + 1, target + 1):
            MIGRATIONS[version - 1](db)
            db.execute("UPDATE schema_version SET version = ?", (version,))
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return found
