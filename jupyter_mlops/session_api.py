"""`log_metric`, `logdir` and `log_embedding` as a plain notebook cell sees them (the kernel's namespace).

Cheap to import: the run store loads on the first call. Inside a compiled step the same names come from
the inlined step runtime instead, so a cell behaves alike in the kernel and as a step.
"""

from __future__ import annotations

from typing import Any


def log_metric(name: str, value: float, step: int | None = None) -> None:
    """Record a metric: in a step, as its KFP Metrics output; in a plain cell, against the session."""
    from . import api

    api.log_metric(name, value, step=step)


def logdir() -> str:
    """A TensorBoard log directory: the step's (collected as an artifact) or the notebook session's."""
    from .tensorboards.files import current_logdir

    return current_logdir()


def log_embedding(vectors: Any, metadata: Any = None, **options: Any) -> str:
    """TensorBoard projector files for `vectors` in `logdir()` (see `mlops.log_embedding`)."""
    from .tensorboards.files import log_embedding as write

    return write(vectors, metadata, **options)
