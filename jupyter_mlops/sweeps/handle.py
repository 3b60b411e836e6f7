"""`mlops.sweep(...)`: start (or resume) a sweep and get a `Sweep` handle on it (not `sweep.py`: a
submodule named `sweep` would shadow the function `jupyter_mlops.sweeps.sweep`).

The compiled pipeline is frozen when the sweep starts (`<home>/sweeps/<id>/pipeline.yaml`), so every
trial, and a resume days later, runs the same steps whatever happened to the notebook since. The
driver runs in a thread of this process (`wait=False`, the default: the handle returns at once and its
view shows trials as they finish) or in the caller's thread (`wait=True`, the command line).
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ..backends.base import Backend
from ..errors import UsageError
from ..store import RunStore
from ..store.sweep_records import (
    FINISHED,
    RUNNING,
    STOPPING,
    T_SUCCEEDED,
    SweepRecord,
    SweepRecords,
    TrialRecord,
    owner_alive,
)
from .driver import SweepDriver
from .search import SEARCHES, make_search
from .space import Space, build_space, pipeline_param_types
from .trial import Trial

DEFAULT_TPE_TRIALS = 20
# The sweeps this process drives now: a second driver of one of them (a resume while it runs) is refused.
_driving: set[str] = set()
_driving_lock = threading.Lock()


def _records(backend: Backend) -> SweepRecords:
    store = getattr(backend, "store", None)
    if not isinstance(store, RunStore):  # a backend without a local store: sweeps are kept in the home's
        from ..home import mlops_home

        store = RunStore(mlops_home())
    return SweepRecords(store)


class Sweep:
    """A handle on one sweep: its trials, the best one, stop, wait; displayed, its live view."""

    def __init__(self, backend: Backend, records: SweepRecords, sweep_id: str) -> None:
        self.backend = backend
        self.records = records
        self.id = sweep_id
        self._thread: threading.Thread | None = None
        self._driver: SweepDriver | None = None
        self._listeners: list[Callable[[], None]] = []
        self.exception: BaseException | None = None
        self._quiet: Callable[[], bool] = lambda: False  # True: echo as one line (its view is shown)

    @property
    def record(self) -> SweepRecord:
        return self.records.get(self.id)

    @property
    def name(self) -> str:
        return self.record.name

    @property
    def state(self) -> str:
        """RUNNING, STOPPING, STOPPED, FINISHED, FAILED; INTERRUPTED when its driver is gone mid-way."""
        record = self.record
        if (
            record.state in (RUNNING, STOPPING)
            and not self._driving()
            and not owner_alive(record, host=_host())
        ):
            return "INTERRUPTED"
        return record.state

    @property
    def metric(self) -> str:
        return str(self.record.settings["metric"])

    @property
    def goal(self) -> str:
        return str(self.record.settings["goal"])

    @property
    def trials(self) -> list[Trial]:
        record = self.record
        fixed = dict(record.settings.get("space", {}).get("fixed", {}))
        order = list(record.settings.get("order", []))
        return [_trial(t, fixed, order) for t in self.records.trials(self.id)]

    def ranked(self) -> list[Trial]:
        """Finished trials best first, then the others by number."""
        done = [t for t in self.trials if t.state == T_SUCCEEDED and t.value is not None]
        done.sort(key=lambda t: (-(t.value or 0.0) if self.goal == "max" else (t.value or 0.0), t.number))
        rest = [t for t in self.trials if t not in done]
        return done + rest

    @property
    def best(self) -> Trial | None:
        """The best finished trial so far (its `.params` run the pipeline as it ran), or None."""
        ranked = self.ranked()
        return ranked[0] if ranked and ranked[0].state == T_SUCCEEDED else None

    @property
    def best_params(self) -> dict[str, Any]:
        best = self.best
        if best is None:
            raise UsageError(f"sweep {self.name!r} has no finished trial yet")
        return dict(best.params)

    def stop(self, wait: bool = True) -> Sweep:
        """Stop: running trials are canceled (and run again on resume); no new trial starts."""
        self.records.request_stop(self.id)
        if self._driver is not None:
            self._driver.request_stop()
        if wait and self._thread is not None:
            self._thread.join()
        elif not self._driving() and not owner_alive(self.record, host=_host()):
            _stop_orphan(self.backend, self.records, self.id)  # nobody drives it: stop its trials here
        return self

    def wait(self, timeout: float | None = None) -> Sweep:
        """Block until the driver of this process is done; TimeoutError after `timeout` seconds."""
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                raise TimeoutError(f"sweep {self.name!r} is still running after {timeout} s")
        if self.exception is not None:
            raise self.exception
        return self

    def _driving(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _changed(self) -> None:
        for listener in list(self._listeners):
            try:
                listener()
            except Exception:  # a view that cannot redraw must not stop the sweep
                pass

    def summary(self) -> str:
        from .view import sweep_text

        return sweep_text(self)

    def __repr__(self) -> str:
        return f"Sweep(name={self.name!r}, state={self.state}, trials={len(self.trials)})"

    def _repr_html_(self) -> str | None:
        if self._quiet():
            return None
        from .view import sweep_html

        return sweep_html(self)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(repr(self) if cycle or self._quiet() else self.summary())


def _trial(t: TrialRecord, fixed: dict[str, Any], order: list[str]) -> Trial:
    params = {**fixed, **t.params}
    ordered = {k: params[k] for k in order if k in params}  # as the pipeline lists its parameters
    return Trial(t.number, {**ordered, **params}, t.value, t.state, t.run_id, t.error)


def _host() -> str:
    from ..backends.runner_liveness import this_host

    return this_host()


def _stop_orphan(backend: Backend, records: SweepRecords, sweep_id: str) -> None:
    from ..store.sweep_records import STOPPED, T_CANCELED, T_RUNNING
    from .driver import find_trial_run

    name = records.get(sweep_id).name
    for trial in records.trials(sweep_id):
        if trial.state != T_RUNNING:
            continue
        run_id = trial.run_id or find_trial_run(backend, name, trial.number)
        if run_id:
            backend.cancel(run_id)
        records.finish_trial(sweep_id, trial.number, T_CANCELED, None, "stopped")
    records.finish(sweep_id, STOPPED)


def sweep(
    pipeline: Any = None,
    space: Mapping[str, Any] | None = None,
    *,
    metric: str | None = None,
    goal: str = "max",
    search: str = "grid",
    trials: int | None = None,
    parallel: int | None = None,
    name: str | None = None,
    seed: int | None = 0,
    backend: str | Backend = "local",
    working_dir: str | os.PathLike[str] | None = None,
    resume: bool = False,
    wait: bool = False,
    early_stop: Any = None,
    metrics: Callable[[Any], Mapping[str, float]] | None = None,
    text_space: bool = False,
) -> Sweep:
    """Run the pipeline over `space` and keep score of `metric` (`step.name`, or a name one step logs).

    `search`: "grid" (every combination; `trials` caps it), "random" or "tpe" (Optuna; `trials` runs).
    `resume=True` with the `name` of an interrupted or stopped sweep goes on where it stopped: finished
    trials are kept, runs still going are waited for, stopped trials run again (pipeline and space are
    the frozen ones; `trials` and `parallel` may be raised). `early_stop`: start no new trial after
    `{"patience": N}` finished trials without a better one, or once the best reaches `{"target": V}`
    (or the string "patience=N,target=V"; see `jupyter_mlops.sweeps.early_stop`). `metrics`: a function
    of a finished trial's RunInfo giving its metrics, for a backend whose runs do not carry them (kfp
    connected to the API server alone, without the ML Metadata the KFP UI's server proxies); pass it
    again on resume."""
    from ..backends.registry import get_backend

    target = get_backend(backend) if isinstance(backend, str) else backend
    if metrics is None and not target.capabilities.outputs:
        raise UsageError(
            f"sweep: the {target.name!r} backend does not read its runs' metrics back (on kfp: connected to "
            "the API server alone, it cannot reach ML Metadata; connect through the KFP UI's server), so "
            "trials could not be scored: pass metrics=a function of a finished trial's RunInfo that returns "
            "its metrics, or sweep on the local backend"
        )
    records = _records(target)
    pid, host = os.getpid(), _host()
    if resume:
        if not name:
            raise UsageError("sweep: resume=True needs the sweep's name (see %pipeline sweeps)")
        found = records.get(name)
        with _driving_lock:
            if found.id in _driving:
                raise UsageError(
                    f"sweep {found.name!r} is still being run by this process: wait for it, or stop it "
                    f"first (`%pipeline sweep --stop {found.name}`)"
                )
        record = records.claim(found.id, pid, host)
        settings = dict(record.settings)
        if trials is not None:
            settings["trials"] = trials
        if parallel is not None:
            settings["parallel"] = parallel
        record.settings = settings
    else:
        record = _create(target, records, pipeline, space, metric=metric, goal=goal, search=search,
                         trials=trials, parallel=parallel or 2, name=name, seed=seed, working_dir=working_dir,
                         early_stop=early_stop, text_space=text_space, pid=pid, host=host)  # fmt: skip
    return _drive(target, records, record, wait=wait, metrics=metrics)


def _create(
    backend: Backend,
    records: SweepRecords,
    pipeline: Any,
    space: Mapping[str, Any] | None,
    *,
    metric: str | None,
    goal: str,
    search: str,
    trials: int | None,
    parallel: int,
    name: str | None,
    seed: int | None,
    working_dir: str | os.PathLike[str] | None,
    early_stop: Any,
    text_space: bool,
    pid: int,
    host: str,
) -> SweepRecord:
    from ..ir.documents import bind_arguments, load_pipeline, pipeline_name
    from .early_stop import parse_early_stop

    stopping = parse_early_stop(early_stop)  # a bad setting fails before anything is made

    if pipeline is None:
        raise UsageError(
            "sweep: give the pipeline to sweep (a notebook Pipeline, a YAML path, a kfp pipeline)"
        )
    if not metric:
        raise UsageError("sweep: name the metric to optimize (metric='accuracy' or 'step.accuracy')")
    if goal not in ("max", "min"):
        raise UsageError(f"sweep: goal must be 'max' or 'min', not {goal!r}")
    if search not in SEARCHES:
        raise UsageError(f"sweep: unknown search {search!r} (known: {', '.join(SEARCHES)})")
    if parallel < 1 or (trials is not None and trials < 1):
        raise UsageError("sweep: parallel and trials must be 1 or more")
    documents = load_pipeline(pipeline)
    types = pipeline_param_types(documents)
    built = build_space(space or {}, types, text=text_space)
    if search == "grid":
        first = built.grid()[0]
    else:
        first = {n: _any_value(d) for n, d in built.dimensions.items()}
        trials = trials or DEFAULT_TPE_TRIALS
    bind_arguments(documents, {**built.fixed, **first})  # arguments the pipeline refuses fail now
    make_search(built, method=search, goal=goal, seed=seed)  # Optuna missing: said now, not mid-sweep
    pname = pipeline_name(documents)
    made_up = not name
    name = name or f"sweep-{pname}-{time.strftime('%Y%m%d-%H%M%S')}"
    folder = records.store.home / "sweeps" / secrets.token_hex(6)
    folder.mkdir(parents=True, exist_ok=True)
    import yaml

    spec_path = folder / "pipeline.yaml"
    spec_path.write_text(yaml.safe_dump_all(documents, sort_keys=False))
    cwd = Path(os.getcwd() if working_dir is None else working_dir).absolute()
    settings = {
        "space": built.to_json(),
        "metric": metric,
        "goal": goal,
        "search": search,
        "trials": trials,
        "parallel": parallel,
        "seed": seed,
        "order": list(types),
        "early_stop": stopping.to_json() if stopping else None,
    }
    return records.create(name=name, pipeline_name=pname, settings=settings, spec_path=str(spec_path),
                          working_dir=str(cwd), owner_pid=pid, owner_host=host, unique=made_up)  # fmt: skip


def _any_value(dim: Any) -> Any:
    return dim.values[0] if hasattr(dim, "values") else dim.low


def _drive(
    backend: Backend,
    records: SweepRecords,
    record: SweepRecord,
    *,
    wait: bool,
    metrics: Callable[[Any], Mapping[str, float]] | None = None,
) -> Sweep:
    from ..ir.documents import spec_documents

    settings = record.settings
    space = Space.from_json(settings["space"])
    tried = [t.params for t in records.trials(record.id)]  # stopped ones too: the driver re-runs those
    search = make_search(space, method=settings["search"], goal=settings["goal"], seed=settings.get("seed"),
                         tried=tried)  # fmt: skip
    documents = spec_documents(Path(record.spec_path).read_text())
    handle = Sweep(backend, records, record.id)
    driver = SweepDriver(backend=backend, records=records, record=record, documents=documents, search=search,
                         on_change=handle._changed, metrics=metrics)  # fmt: skip
    for t in records.trials(record.id):  # a resumed TPE search learns from the trials before
        if t.state in (T_SUCCEEDED, "FAILED"):
            search.tell(t.params, t.value if t.state == T_SUCCEEDED else None)
    handle._driver = driver
    with _driving_lock:
        _driving.add(record.id)
    if wait:
        try:
            driver.run()
        finally:
            with _driving_lock:
                _driving.discard(record.id)
        return handle

    def body() -> None:
        try:
            driver.run()
        except BaseException as exc:
            handle.exception = exc
        finally:
            with _driving_lock:
                _driving.discard(record.id)

    handle._thread = threading.Thread(target=body, name=f"mlops-sweep-{record.name}", daemon=True)
    handle._thread.start()
    return handle


def get_sweep(name: str, backend: str | Backend = "local") -> Sweep:
    """A handle on an existing sweep (by name or id), e.g. to read `.best` or `.stop()` it."""
    from ..backends.registry import get_backend

    target = get_backend(backend) if isinstance(backend, str) else backend
    records = _records(target)
    return Sweep(target, records, records.get(name).id)


__all__ = ["FINISHED", "Sweep", "Trial", "get_sweep", "sweep"]
