"""The store's SQLite connection: opened in WAL mode and migrated, shared by threads under a lock,
used through short transactions (`BEGIN IMMEDIATE` for writes, so writers queue instead of failing)."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TypeVar

from ..errors import RunNotFound, StoreError, StoreUnavailable
from .run_notify import publish
from .schema import SCHEMA_VERSION, current_version, migrate

Self = TypeVar("Self", bound="StoreDatabase")

BUSY_TIMEOUT_S = 60.0
BUSY_TIMEOUT_ENV = "JUPYTER_MLOPS_STORE_BUSY_TIMEOUT_S"  # how long a call waits for another's lock


def busy_timeout() -> float:
    try:
        return max(0.0, float(os.environ.get(BUSY_TIMEOUT_ENV, BUSY_TIMEOUT_S)))
    except ValueError:
        return BUSY_TIMEOUT_S


def ensure_writable_dir(path: Path, role: str) -> None:
    """Create `path` if needed and prove a file can be written in it, or raise a StoreError that says
    which directory, why, and what to do (checked up front so a run never half-starts)."""
    probe = path / f".write-probe-{os.getpid()}-{threading.get_ident()}"
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise StoreError(
            f"cannot write the {role} {path}: {reason}. Choose a writable directory "
            "(set JUPYTER_MLOPS_HOME, or pass home=/artifact_root= to LocalBackend)."
        ) from exc


class StoreDatabase:
    """Creates the home and artifact root (or says why it cannot), opens and migrates store.db."""

    def __init__(self, home: Path, *, artifact_root: Path | None = None, probe: bool = True) -> None:
        """`probe=False`: the folders were proven writable by whoever handed the work over (a runner
        opening the store its run was recorded in skips the two probe files)."""
        self.home = Path(home)
        self.runs_root = Path(artifact_root) if artifact_root is not None else self.home / "runs"
        if probe:
            ensure_writable_dir(self.home, "jupyter-mlops home")
            ensure_writable_dir(self.runs_root, "artifact root")
        self.db_path = self.home / "store.db"
        self._lock = threading.RLock()
        self._broken = False
        self.busy_timeout = busy_timeout()
        self._changed: set[str] = set()  # runs whose events the open transaction wrote: announced after it
        self._state_changed: set[str] = set()  # those of them whose own state changed ("run" events)
        self._batched = False  # True while `batch()` holds one transaction for many writes
        self._db = self._open()

    def _open(self) -> sqlite3.Connection:
        try:
            db = sqlite3.connect(
                str(self.db_path), timeout=self.busy_timeout, isolation_level=None, check_same_thread=False
            )
            db.row_factory = sqlite3.Row
            db.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")  # durable at checkpoints; a crash loses no commit order
            db.execute("PRAGMA foreign_keys = ON")
            if current_version(db) != SCHEMA_VERSION:  # a read first: most opens find it current
                migrate(db, where=str(self.db_path))
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"cannot open the run store {self.db_path}: {exc}. If the file is damaged, move it "
                "aside (runs' files stay in the runs/ directory) or set JUPYTER_MLOPS_HOME elsewhere."
            ) from exc
        return db

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self: Self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self, begin: str) -> Iterator[sqlite3.Connection]:
        """One transaction. A database error (disk full, I/O error, damaged pages, a lock held past the
        busy timeout) is a StoreError that names the store and the cause, and the next call opens a
        fresh connection: a store that is repaired or has space again works without a restart."""
        with self._lock:
            if self._batched:  # inside `batch()`: part of its transaction
                yield self._db
                return
            try:
                if self._broken:
                    self._reopen()
                self._db.execute(begin)
            except sqlite3.Error as exc:
                self._broken = True
                raise self._unavailable(exc) from exc
            try:
                yield self._db
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._changed.clear()
                self._state_changed.clear()
                self._rollback()
                raise self._unavailable(exc) from exc
            except BaseException:
                self._changed.clear()
                self._state_changed.clear()
                self._rollback()
                raise
            changed, self._changed = self._changed, set()
            state_changed, self._state_changed = self._state_changed, set()
        if changed:  # committed: wake whoever waits on these runs (run_notify)
            publish(self.home, changed, state_changed)

    def _rollback(self) -> None:
        """Undo what is left of the transaction; after an I/O error SQLite may have undone it itself
        (then ROLLBACK raises "no transaction is active", which must not hide the cause)."""
        try:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
        except sqlite3.Error:
            self._broken = True

    def _reopen(self) -> None:
        try:
            self._db.close()
        except sqlite3.Error:
            pass
        self._db = self._open()
        self._broken = False

    def _unavailable(self, exc: sqlite3.Error) -> StoreError:
        busy = "locked" in str(exc) or "busy" in str(exc)
        if not busy:
            self._broken = True
        hint = (
            f"another process held it for more than {self.busy_timeout:g} s; try again"
            if busy
            else "free some disk space or repair the file; the store is opened again on the next call"
        )
        return StoreUnavailable(f"the run store {self.db_path} is unavailable: {exc} ({hint})", busy=busy)

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Many writes of this thread as one transaction: all of them or none, one commit (a run
        resolved from the cache is recorded whole, at once: readers never see half of it). Other
        threads' calls wait until it ends."""
        with self._write():
            self._batched = True
            try:
                yield
            finally:
                self._batched = False

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        return self._transaction("BEGIN IMMEDIATE")

    def _read(self) -> AbstractContextManager[sqlite3.Connection]:
        return self._transaction("BEGIN")  # one snapshot for a multi-query read

    def _not_found(self, run_id: str) -> RunNotFound:
        return RunNotFound(
            f"no run {run_id!r} in the run store {self.db_path} (list runs with `%pipeline runs` "
            "or `jupyter-mlops runs`)"
        )

    def _require_run(self, db: sqlite3.Connection, run_id: str) -> None:
        if db.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone() is None:
            raise self._not_found(run_id)
