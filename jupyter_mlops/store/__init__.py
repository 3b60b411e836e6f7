"""The run store: SQLite (WAL) and files under the jupyter-mlops home. Imports nothing heavy."""

from .run_store import RunStore, ensure_writable_dir, new_run_id

__all__ = ["RunStore", "ensure_writable_dir", "new_run_id"]
