"""The environment a zygote (zygotes.py) imports a run's modules in: the one a fresh step interpreter
would have, so that what modules read at import is what the step asked for.

Modules read some environment variables once, when imported: numpy whether to ask for transparent huge
pages for large arrays (NUMPY_MADVISE_HUGEPAGE), BLAS libraries their thread count (OMP_NUM_THREADS,
OPENBLAS_NUM_THREADS), others their configuration. A fresh step imports them in the submitting
kernel's environment (which the run's runner takes, `runner_service._runner`) with the step's own
variables (`set_env_variable`, the executor's `container.env`) on top. So a zygote imports in exactly
that, and is kept per import set *and* environment: a kernel set up otherwise, or steps with other
variables, get a zygote of their own. Runs whose Python steps set different variables are not
preloaded (one zygote cannot be both). The run marker (a run's id, runner_liveness.RUN_MARKER_ENV) is
left out: it differs per run and no module reads it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from .runner_liveness import RUN_MARKER_ENV


def import_environment(
    submitted: Mapping[str, str], documents: Sequence[Mapping[str, Any]]
) -> dict[str, str] | None:
    """The environment the run's Python steps import their modules in; None if they differ."""
    from ..ir.step_imports import python_containers

    step_envs = [
        {str(e["name"]): str(e.get("value", "")) for e in container.get("env") or []}
        for container in python_containers(documents)
    ]
    if any(env != step_envs[0] for env in step_envs[1:]):
        return None
    environment = {k: v for k, v in submitted.items() if k != RUN_MARKER_ENV}
    environment.update(step_envs[0] if step_envs else {})
    return environment


def digest(environment: Mapping[str, str]) -> str:
    """A short, stable name of an environment (what zygotes are kept by, with their import set)."""
    return hashlib.sha256(json.dumps(sorted(environment.items())).encode()).hexdigest()[:16]
