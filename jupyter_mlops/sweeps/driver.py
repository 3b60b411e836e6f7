"""The sweep driver: keeps up to `parallel` trial runs going, reads each finished run's metric, tells
the search, and records every trial in the run store as it goes.

Backend-agnostic: it only submits, reads and cancels runs through the `Backend` protocol, so the same
loop drives trials on the local backend now and on a Kubeflow backend later (trials are then KFP runs in
the sweep's experiment). Whatever stops it (the kernel killed, Ctrl+C, `stop`) leaves a store from which
`resume` goes on: finished trials are kept, runs still going are adopted, stopped trials run again.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..backends.base import Backend
from ..errors import MlopsError, UsageError
from ..models import RunInfo, RunState
from ..store.sweep_records import (
    FAILED,
    FINISHED,
    STOPPED,
    STOPPING,
    T_CANCELED,
    T_FAILED,
    T_RUNNING,
    T_SUCCEEDED,
    SweepRecord,
    SweepRecords,
    TrialRecord,
)
from .early_stop import from_settings
from .search import Search

POLL_S = 0.05  # without pushed changes, a finished trial is seen and the next one started this soon
WATCH_CHECK_S = 0.25  # with them, the runs are still read this often (a killed runner announces nothing)
HEARTBEAT_S = 1.0


def metric_value(info: RunInfo, metric: str) -> tuple[float | None, str | None]:
    """(the run's value of `metric`, None) or (None, why there is none).

    `metric` is `step.name` or a name logged by exactly one step."""
    metrics = info.metrics
    if metric in metrics:
        key = metric
    else:
        keys = [k for k in metrics if k.endswith("." + metric) or k == metric]
        if len(keys) > 1:
            return None, f"metric {metric!r} is logged by several steps ({', '.join(keys)}): name one"
        if not keys:
            known = ", ".join(sorted(metrics)) or "none"
            return None, f"run {info.id} logged no metric {metric!r} (its metrics: {known})"
        key = keys[0]
    value = metrics[key]
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value), None
    return None, f"metric {key} is {value!r}, not a finite number"


def trial_run_name(sweep_name: str, number: int) -> str:
    return f"{sweep_name}-trial-{number}"


def find_trial_run(backend: Backend, sweep_name: str, number: int) -> str | None:
    """The run of trial `number` if it was submitted (found by its name in the sweep's experiment): for
    a trial noted as started whose driver stopped before it could note which run it was."""
    wanted = trial_run_name(sweep_name, number)
    cursor: str | None = None
    while True:
        page = backend.list_runs(experiment=sweep_name, limit=100, cursor=cursor)
        for run in page.runs:
            if run.name == wanted:
                return run.id
        cursor = page.next_cursor
        if not cursor or not page.runs:
            return None


def _finish_order(trial: TrialRecord) -> float:
    return trial.finished_at or 0.0


@dataclass
class _InFlight:
    number: int
    params: dict[str, Any]
    run_id: str
    token: Any


class SweepDriver:
    def __init__(
        self,
        *,
        backend: Backend,
        records: SweepRecords,
        record: SweepRecord,
        documents: Sequence[Mapping[str, Any]],
        search: Search,
        on_change: Callable[[], None] | None = None,
        metrics: Callable[[RunInfo], Mapping[str, float]] | None = None,
    ) -> None:
        self.backend = backend
        self.records = records
        self.record = record
        self.documents = list(documents)
        self.search = search
        self.on_change = on_change or (lambda: None)
        self.read_metrics = metrics  # for runs that do not carry their metrics (kfp)
        # A remote backend answers from its own cache (kfp: each run read at most every `refresh` s):
        # asking it more often only loads its server.
        self.poll_s = max(POLL_S, float(getattr(backend, "refresh", 0.0)))
        settings = record.settings
        self.metric: str = settings["metric"]
        self.parallel: int = max(1, int(settings.get("parallel") or 1))
        self.budget: int | None = settings.get("trials")
        self.fixed: dict[str, Any] = dict(settings.get("space", {}).get("fixed", {}))
        self.early_stop = from_settings(settings)
        self.stopped_early: str | None = None  # why no new trial starts (early stopping), once it is so
        self._values: list[float | None] = []  # finished trials' values, in the order they finished
        self.stop_requested = threading.Event()
        self._watch: Any = None  # the backend's change notification while `run` goes on, if it has one
        self._in_flight: dict[int, _InFlight] = {}
        # Trials that run again first: (parameters, None) for a stopped trial (it runs under a new number),
        # (parameters, its number) for one noted but never submitted (it runs under its own).
        self._retry: list[tuple[dict[str, Any], int | None]] = []
        self._counted = 0  # trials that count against the budget (all but stopped ones)
        self._next_number = 0
        self._beat = 0.0

    # -- start from what the store holds ------------------------------------------------------------

    def _adopt_history(self) -> None:
        trials = self.records.trials(self.record.id)
        ended = sorted((t for t in trials if t.state in (T_SUCCEEDED, T_FAILED)), key=_finish_order)
        self._values = [t.value if t.state == T_SUCCEEDED else None for t in ended]
        for trial in trials:
            self._next_number = max(self._next_number, trial.number + 1)
            if trial.state == T_CANCELED:
                self._retry.append((trial.params, None))
                continue
            if trial.state != T_RUNNING:
                self._counted += 1
                continue
            run_id = trial.run_id or self._unrecorded_run(trial.number)
            if run_id is None:  # the driver stopped before submitting it: it starts now, under its number
                self._retry.append((trial.params, trial.number))
                continue
            self._counted += 1
            if not trial.run_id:  # submitted, but the driver stopped before noting which run it was
                self.records.set_trial_run(self.record.id, trial.number, run_id)
            self._in_flight[trial.number] = _InFlight(trial.number, trial.params, run_id, None)

    def _unrecorded_run(self, number: int) -> str | None:
        return find_trial_run(self.backend, self.record.name, number)

    def _run_name(self, number: int) -> str:
        return trial_run_name(self.record.name, number)

    # -- the loop -----------------------------------------------------------------------------------

    def request_stop(self) -> None:
        """Stop soon (from another thread): no trial starts, running ones are canceled."""
        self.stop_requested.set()
        watch = self._watch
        if watch is not None:
            watch.wake()

    def _pause(self) -> None:
        """Until something may have changed: a run's change pushed by the backend (local: run_notify),
        re-checked every WATCH_CHECK_S for what nobody announces (a runner killed); else a poll."""
        if self._watch is not None and self._watch.pushed:
            self._watch.wait(WATCH_CHECK_S)
        else:
            self.stop_requested.wait(self.poll_s)

    def run(self) -> str:
        """Drive the sweep to its end (FINISHED), a stop (STOPPED) or an error (FAILED); return that state."""
        make_watch = getattr(self.backend, "watch", None)  # made before the first read: no change missed
        self._watch = make_watch(None) if callable(make_watch) else None
        try:
            return self._run()
        finally:
            watch, self._watch = self._watch, None
            if watch is not None:
                watch.close()

    def _run(self) -> str:
        try:
            self._adopt_history()
            while True:
                changed = self._collect()
                if self._should_stop():
                    self._stop_trials()
                    self.records.finish(self.record.id, STOPPED)
                    self.on_change()
                    return STOPPED
                changed |= self._launch()
                if changed:
                    self.on_change()
                if not self._in_flight:
                    self.records.finish(self.record.id, FINISHED, self.stopped_early)
                    self.on_change()
                    return FINISHED
                self._pause()
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                self._stop_trials()
                self.records.finish(self.record.id, STOPPED, "interrupted (Ctrl+C)")
            else:
                self.records.finish(self.record.id, FAILED, str(exc))
            self.on_change()
            raise

    def _should_stop(self) -> bool:
        now = time.monotonic()
        if now - self._beat >= HEARTBEAT_S:
            self._beat = now
            if self.records.heartbeat(self.record.id) == STOPPING:
                self.stop_requested.set()
        return self.stop_requested.is_set()

    def _collect(self) -> bool:
        changed = False
        if not self._in_flight:
            return False
        # One listing of the sweep's experiment tells which trials ended (however many are in flight);
        # a finished one is then read whole, once, for its metrics.
        page = self.backend.list_runs(experiment=self.record.name, limit=len(self._in_flight) + 20)
        ended = {r.id: r.state.terminal for r in page.runs}
        for number, flight in list(self._in_flight.items()):
            if ended.get(flight.run_id) is False:
                continue
            info = self.backend.get(flight.run_id)  # a run not on the page (adopted, older) is read here
            if not info.state.terminal:
                continue
            del self._in_flight[number]
            changed = True
            if info.state is RunState.SUCCEEDED:
                if self.read_metrics is not None:
                    info.metrics = dict(self.read_metrics(info))
                value, why = metric_value(info, self.metric)
            else:
                value, why = (
                    None,
                    f"run {info.id} {info.state.value.lower()}" + (f": {info.error}" if info.error else ""),
                )
            if info.state is RunState.CANCELED and self.stop_requested.is_set():
                self.records.finish_trial(self.record.id, number, T_CANCELED, None, "stopped")
                continue
            state = T_SUCCEEDED if value is not None else T_FAILED
            self.records.finish_trial(self.record.id, number, state, value, why)
            self.search.tell(flight.params, value, flight.token)
            self._values.append(value)
        return changed

    def _launch(self) -> bool:
        launched = False
        if self.early_stop is not None and self.stopped_early is None:
            self.stopped_early = self.early_stop.reason(self._values, self.record.settings["goal"])
        while len(self._in_flight) < self.parallel and self.stopped_early is None:
            number: int | None = None
            if self._retry:
                (params, number), token = self._retry.pop(0), None
                if number is not None:  # it counts against the budget (a stopped trial's rerun does not)
                    self._counted += 1
            else:
                if self.budget is not None and self._counted >= self.budget:
                    break
                proposal = self.search.ask()
                if proposal is None:
                    break
                params, token = proposal
                self._counted += 1
            self._submit(params, token, number)
            launched = True
        return launched

    def _submit(self, params: dict[str, Any], token: Any, number: int | None = None) -> None:
        """Start a trial: noted first, then submitted, then its run noted, so that a driver stopped at
        any point leaves a store from which a resume neither loses nor doubles it."""
        if number is None:
            number = self._next_number
            self._next_number += 1
        name = self.record.name
        self.records.add_trial(self.record.id, number, params)
        try:
            info = self.backend.submit(
                self.documents,
                {**self.fixed, **params},
                experiment=name,
                name=self._run_name(number),
                cache=True,
                working_dir=Path(self.record.working_dir) if self.record.working_dir else None,
            )
        except MlopsError as exc:
            self.records.finish_trial(self.record.id, number, T_FAILED, None, f"could not start: {exc}")
            raise UsageError(f"sweep {name!r}: trial {number} ({params}) could not start: {exc}") from exc
        self.records.set_trial_run(self.record.id, number, info.id)
        self._in_flight[number] = _InFlight(number, params, info.id, token)

    def _stop_trials(self) -> None:
        for number, flight in list(self._in_flight.items()):
            try:
                self.backend.cancel(flight.run_id)
            except MlopsError:
                pass
            self.records.finish_trial(self.record.id, number, T_CANCELED, None, "stopped")
        self._in_flight.clear()
