"""Runs compiled KFP IR on this machine with kfp's own executor: parallel, cached, cancellable.

The seam for the local backend: `plan`, `validate`, `execute`, `ExecutionOptions`, `ExecutionListener`.
Importing this package does not import kfp.
"""

from __future__ import annotations

from .engine import ExecutionListener, ExecutionOptions, execute, plan, validate

__all__ = ["ExecutionListener", "ExecutionOptions", "execute", "plan", "validate"]
