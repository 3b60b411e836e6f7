"""Early stopping of a sweep: no new trial starts once the search stops paying off.

- `patience=N`: N trials in a row finished (in the order they finished) without beating the best so far;
- `target=V`: the best value reached V (at least V for `goal="max"`, at most V for `"min"`).

Trials still running when it triggers finish and count (they are paid for already); the sweep then ends
FINISHED, and its record says why it stopped early. Written `patience=5`, `target=0.95`, both
`patience=5,target=0.95`, or a bare `5` (a patience); from Python a dict `{"patience": 5}` or the string.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import UsageError

_HOW = "give patience=N (trials without gain), target=V (a metric value), or both: patience=5,target=0.9"


@dataclass(frozen=True)
class EarlyStop:
    patience: int | None = None
    target: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in (("patience", self.patience), ("target", self.target)) if v is not None}

    def reason(self, values: Sequence[float | None], goal: str) -> str | None:
        """Why to stop, given the finished trials' values in the order they finished (None: failed)."""

        def better(a: float, b: float) -> bool:
            return a > b if goal == "max" else a < b

        best: float | None = None
        since = 0
        for value in values:
            if value is not None and (best is None or better(value, best)):
                best, since = value, 0
            else:
                since += 1
        reached = best is not None and self.target is not None and not better(self.target, best)
        if reached and self.target is not None and best is not None:
            return f"stopped early: the best value {best:g} reached the target {self.target:g}"
        if self.patience is not None and since >= self.patience:
            trials = "1 trial" if since == 1 else f"{since} trials"
            return f"stopped early: {trials} in a row without a better value (patience {self.patience})"
        return None


def parse_early_stop(given: Any) -> EarlyStop | None:
    if given is None or given == "" or isinstance(given, EarlyStop):
        return given or None
    if isinstance(given, (int, float)) and not isinstance(given, bool):
        given = {"patience": given}
    if isinstance(given, str):
        items: dict[str, Any] = {}
        for part in given.replace(" ", "").split(","):
            key, sep, raw = part.partition("=")
            if not sep:
                key, raw = "patience", key
            items[key] = raw
        given = items
    if not isinstance(given, Mapping):
        raise UsageError(f"early_stop: {given!r} is not understood; {_HOW}")
    unknown = sorted(set(given) - {"patience", "target"})
    if unknown:
        raise UsageError(f"early_stop: unknown setting {', '.join(unknown)}; {_HOW}")
    try:
        patience = None if given.get("patience") is None else int(given["patience"])
        target = None if given.get("target") is None else float(given["target"])
    except (TypeError, ValueError):
        raise UsageError(f"early_stop: {dict(given)} has a value that is not a number; {_HOW}") from None
    if patience is not None and patience < 1:
        raise UsageError(f"early_stop: patience must be 1 or more, not {patience}")
    if patience is None and target is None:
        raise UsageError(f"early_stop: nothing to stop on; {_HOW}")
    return EarlyStop(patience, target)


def from_settings(settings: Mapping[str, Any]) -> EarlyStop | None:
    raw = settings.get("early_stop")
    return EarlyStop(raw.get("patience"), raw.get("target")) if isinstance(raw, Mapping) and raw else None
