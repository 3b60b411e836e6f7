"""Backends by name: `get_backend("local")`, later `get_backend("kfp", host=...)`.

A table of import paths, not instances: nothing is imported or opened until a backend is asked for,
and each call returns a new object (no process-wide singleton).
"""

from __future__ import annotations

import importlib
from typing import Any, cast

from ..errors import BackendError, UsageError
from .base import Backend

BACKENDS: dict[str, str] = {
    "local": "jupyter_mlops.backends.local:LocalBackend",
    "kfp": "jupyter_mlops.backends.kfp:KfpBackend",
}


def get_backend(name: str, **options: Any) -> Backend:
    """A new backend `name` built with `options` (LocalBackend: home=, max_workers=, artifact_root=)."""
    target = BACKENDS.get(name)
    if target is None:
        raise UsageError(f"unknown backend {name!r} (choose one of: {', '.join(BACKENDS)})")
    module_name, _, class_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        raise BackendError(f"the {name!r} backend is not available in this version of jupyter-mlops") from exc
    return cast(Backend, getattr(module, class_name)(**options))
