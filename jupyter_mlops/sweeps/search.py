"""How a sweep picks its next trial: the grid in order, or Optuna's random or TPE sampler.

The run store is the record of a sweep, not Optuna: an Optuna study lives only in the driver's memory
and is rebuilt from the stored trials when a sweep resumes (`tell` of each finished trial), so a resumed
TPE search learns from everything tried before and a grid skips every point already tried.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any, Protocol

from ..errors import UsageError
from .space import Choice, Dimension, FloatRange, IntRange, Space

SEARCHES = ("grid", "random", "tpe")
OPTUNA_HINT = (
    "random and TPE search use Optuna: pip install 'jupyter-mlops[sweep]' (or pip install optuna); "
    "a grid search needs nothing more"
)


def point_key(params: dict[str, Any]) -> str:
    return json.dumps(params, sort_keys=True, default=repr)


class Search(Protocol):
    def ask(self) -> tuple[dict[str, Any], Any] | None:
        """The next trial's parameters and a token for `tell`, or None when there is nothing left."""
        ...

    def tell(self, params: dict[str, Any], value: float | None, token: Any = None) -> None:
        """The result of a trial (value None: it failed); `token` from `ask`, or None for a trial
        that another driver asked for (a resumed sweep's history)."""
        ...


class GridSearch:
    """Every point of the grid once, in order, skipping points already tried."""

    def __init__(self, space: Space) -> None:
        self._points = space.grid()
        self._tried: set[str] = set()
        self._next = 0

    @property
    def size(self) -> int:
        return len(self._points)

    def mark_tried(self, params: dict[str, Any]) -> None:
        self._tried.add(point_key(params))

    def ask(self) -> tuple[dict[str, Any], Any] | None:
        while self._next < len(self._points):
            point = self._points[self._next]
            self._next += 1
            if point_key(point) not in self._tried:
                self._tried.add(point_key(point))
                return point, None
        return None

    def tell(self, params: dict[str, Any], value: float | None, token: Any = None) -> None:
        self._tried.add(point_key(params))


def _distribution(dim: Dimension) -> Any:
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    if isinstance(dim, Choice):
        return CategoricalDistribution(list(dim.values))
    if isinstance(dim, IntRange):
        return IntDistribution(dim.low, dim.high, log=dim.log, step=1 if dim.log else dim.step)
    assert isinstance(dim, FloatRange)
    return FloatDistribution(dim.low, dim.high, log=dim.log, step=None if dim.log else dim.step)


class OptunaSearch:
    """Optuna's ask-and-tell interface over an in-memory study (random or TPE sampler)."""

    def __init__(self, space: Space, *, goal: str, method: str, seed: int | None, history: int = 0) -> None:
        try:
            import optuna
        except ImportError:
            raise UsageError(OPTUNA_HINT) from None
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self._optuna = optuna
        # A resumed random search must not draw the same points again: its seed moves on by the number
        # of trials already tried (a TPE sampler learns from the history it is told instead).
        seeded = None if seed is None else seed + history
        sampler: Any
        if method == "random":
            sampler = optuna.samplers.RandomSampler(seed=seeded)
        else:
            sampler = optuna.samplers.TPESampler(seed=seeded, n_startup_trials=5)
        self._distributions = {name: _distribution(dim) for name, dim in space.dimensions.items()}
        self.study = optuna.create_study(
            direction="maximize" if goal == "max" else "minimize", sampler=sampler
        )

    def ask(self) -> tuple[dict[str, Any], Any] | None:
        trial = self.study.ask(self._distributions)
        return dict(trial.params), trial.number

    def tell(self, params: dict[str, Any], value: float | None, token: Any = None) -> None:
        states = self._optuna.trial.TrialState
        ok = value is not None and math.isfinite(value)
        if token is not None:
            self.study.tell(token, value if ok else None, state=states.COMPLETE if ok else states.FAIL)
            return
        known = {k: v for k, v in params.items() if k in self._distributions}
        if len(known) != len(self._distributions):
            return  # a trial of another space (the sweep was resumed with other ranges): not evidence here
        try:
            trial = self._optuna.trial.create_trial(
                params=known,
                distributions=self._distributions,
                value=value if ok else None,
                state=states.COMPLETE if ok else states.FAIL,
            )
        except ValueError:
            return  # a value outside the current ranges
        self.study.add_trial(trial)


def make_search(
    space: Space, *, method: str, goal: str, seed: int | None, tried: Iterable[dict[str, Any]] = ()
) -> Search:
    tried = list(tried)
    if method == "grid":
        grid = GridSearch(space)
        for params in tried:
            grid.mark_tried(params)
        return grid
    if method in ("random", "tpe"):
        return OptunaSearch(space, goal=goal, method=method, seed=seed, history=len(tried))
    raise UsageError(f"sweep: unknown search {method!r} (known: {', '.join(SEARCHES)})")
