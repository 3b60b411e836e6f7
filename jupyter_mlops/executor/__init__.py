"""Runs compiled KFP IR on this machine with kfp's own executor: parallel, cached, cancellable.

The seam for the local backend: `plan`, `execute`, `ExecutionOptions`, `ExecutionListener` (arguments are
checked before a run by `jupyter_mlops.ir.documents.bind_arguments`).
Importing this package does not import kfp.
"""

from __future__ import annotations

from .engine import ExecutionListener, ExecutionOptions, execute, plan

__all__ = ["ExecutionListener", "ExecutionOptions", "execute", "plan"]
