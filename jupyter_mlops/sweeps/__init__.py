"""Hyperparameter sweeps: many runs of one pipeline over a search space, best first.

Cheap to import: Optuna loads only when a random or TPE search starts.
"""

from .handle import Sweep, get_sweep, sweep
from .space import choice, int_range, loguniform, uniform
from .trial import Trial

__all__ = ["Sweep", "Trial", "choice", "get_sweep", "int_range", "loguniform", "sweep", "uniform"]
