"""Hyperparameter sweeps: many runs of one pipeline over a search space, best first.

Cheap to import: the names below load on first use (so the command line can read `sweeps.options`
without the driver and the store), and Optuna only when a random or TPE search starts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .handle import Sweep, get_sweep, sweep
    from .space import choice, int_range, loguniform, uniform
    from .trial import Trial

_LAZY = {
    "Sweep": "handle",
    "get_sweep": "handle",
    "sweep": "handle",
    "choice": "space",
    "int_range": "space",
    "loguniform": "space",
    "uniform": "space",
    "Trial": "trial",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'jupyter_mlops.sweeps' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


__all__ = ["Sweep", "Trial", "choice", "get_sweep", "int_range", "loguniform", "sweep", "uniform"]
