"""Run one container step: cache lookup, the executor input, attempts with retries and a deadline,
then its outputs, artifacts and metrics, all reported through the listener as they happen."""

from __future__ import annotations

import functools
import json
import os
import shutil
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from ..errors import MlopsError, PipelineError
from ..ir.spec import PipelineIR, PythonStep
from ..ir.values import Artifact, cast_parameter, read_output_parameter
from ..models import ArtifactInfo, MetricPoint, StepInfo, StepState
from . import leftovers, processes
from .cache import StepCache, cache_key, cached_log_line, materialize, output_identity
from .core_slots import Activity, CoreSlots
from .prelude import Environments
from .run_files import RunFiles
from .step_files import MetricsTail, Point, disk_full_note, last_error_line
from .step_folders import folder_name

POLL_SECONDS = 0.2
LOOK_SECONDS = 0.03  # how often a step's process is looked at, to give its core up while it waits
FIRST_LOOK_SECONDS, FIRST_LOOKS_S = 0.01, 0.05  # more often in its first moments
# While a step is logging metrics fast (a read found FLOWING_POINTS or more), its metrics file is read
# this often: the points are recorded as they come (on another core), not all at once after a fast
# training loop ends. A step logging now and then is read every POLL_SECONDS (a transaction a read).
FLOWING_SECONDS, FLOWING_POINTS = 0.02, 256


class Listener(Protocol):
    def on_step(self, step: StepInfo) -> None: ...
    def on_artifact(self, artifact: ArtifactInfo) -> None: ...
    def on_metric(self, metric: MetricPoint) -> None: ...
    def log_path(self, step: str) -> Path: ...


def snapshot(info: StepInfo) -> StepInfo:
    """A copy the listener may keep while this step goes on changing (its fields copied as they are,
    without __init__: two per step of every run)."""
    copy = object.__new__(StepInfo)
    copy.__dict__.update(info.__dict__)
    copy.inputs, copy.outputs, copy.metrics = dict(info.inputs), dict(info.outputs), dict(info.metrics)
    return copy


def uris(group: list[Artifact], is_list: bool) -> Any:
    return [a.uri for a in group] if is_list or len(group) != 1 else group[0].uri


@dataclass
class StepContext:
    """What every step of one run shares."""

    ir: PipelineIR
    workdir: Path
    run_id: str
    python: str
    cwd: Path  # the steps' working directory
    listener: Listener
    cancel: threading.Event
    environments: Environments
    cache: StepCache | None
    worker: processes.ForkWorker | None
    cache_only: bool = False  # a step not found in the cache does not run: it cancels the run (engine.py)
    slots: CoreSlots | None = None  # set by the scheduler: a step seen waiting gives its core up
    files: RunFiles | None = None  # the steps' modules, outputs and metrics files (default: in workdir/tmp)

    def __post_init__(self) -> None:
        if self.files is None:
            self.files = RunFiles(self.workdir / "tmp")

    @property
    def run_files(self) -> RunFiles:
        assert self.files is not None  # (set in __post_init__)
        return self.files


@dataclass
class StepOutcome:
    state: StepState
    params: dict[str, Any]
    artifacts: dict[str, list[Artifact]]
    error: str | None = None


class ContainerStep:
    """One lightweight Python component task, run with kfp's own executor."""

    def __init__(
        self,
        ctx: StepContext,
        info: StepInfo,
        task: Mapping[str, Any],
        component: Mapping[str, Any],
        params: dict[str, Any],
        artifacts: dict[str, list[Artifact]],
    ) -> None:
        self.ctx = ctx
        self.info = info
        self.task = task
        self.component = component
        self.params = params
        self.artifacts = artifacts
        self.outputs_def: Mapping[str, Any] = component.get("outputDefinitions", {}) or {}
        self.logged_metrics: set[str] = set()  # names that came through JUPYTER_MLOPS_METRICS_FILE
        # its end held by the listener, to be written with the next report (held_ends.py): set by the
        # scheduler for a step it runs on its own thread, whose end it follows at once
        self.hold_end = False
        # (task name, component) of the step the scheduler expects to run next, alone, once this one
        # ends (a chain): its module is written before this step starts, and the worker's spare for
        # it compiles that module meanwhile (worker.py: `_Compiled.ahead`)
        self.next_step: tuple[str, Mapping[str, Any]] | None = None

    # Where the step's own files go (an OutputPath parameter's, a fresh interpreter's request): made only
    # when one is written. Its module, output and metrics files are the run's (run_files.py).
    @functools.cached_property
    def root(self) -> Path:
        return self.ctx.workdir / "tmp" / folder_name(self.info.name)

    @functools.cached_property
    def output_file(self) -> Path:
        return self.ctx.run_files.output_file(folder_name(self.info.name))

    @functools.cached_property
    def logdir(self) -> Path:
        return self.ctx.workdir / "artifacts" / folder_name(self.info.name) / "tensorboard"

    def report(self) -> None:
        self.ctx.listener.on_step(snapshot(self.info))

    def run(self) -> StepOutcome:
        try:
            return self._run()
        except (MlopsError, processes.StepLaunchError) as e:
            return self._finish(StepState.FAILED, {}, {}, str(e))
        except OSError as e:
            return self._finish(
                StepState.FAILED,
                {},
                {},
                f"cannot write the step's files at {e.filename or self.ctx.workdir}: {e.strerror or e}; "
                f"the run directory {self.ctx.workdir} must be a writable directory",
            )

    def _run(self) -> StepOutcome:
        self.info.inputs = dict(self.params)
        in_defs = (self.component.get("inputDefinitions", {}) or {}).get("artifacts", {}) or {}
        for name, group in self.artifacts.items():
            self.info.inputs[name] = uris(group, bool(in_defs.get(name, {}).get("isArtifactList")))
        step = self.ctx.ir.python_step(self.info.name, self.component)
        enabled = bool((self.task.get("cachingOptions") or {}).get("enableCache", False))
        key = None
        if self.ctx.cache is not None and enabled:
            key = cache_key(self.component, step, self.params, self.artifacts, str(self.ctx.cwd))
            self.info.cache_key = key
            hit = self.ctx.cache.lookup(key)
            if hit is None and self.ctx.cache_only:
                return self._not_cached()
            if hit is None:  # an identical step running in another run now: wait for it (single flight)
                owner = f"run {self.ctx.run_id} step {self.info.name}"
                with self.ctx.cache.single_flight(key, self.ctx.cancel, owner, self._note_wait):
                    return self._run_or_reuse(step, key, self.ctx.cache)
            outcome = self._from_cache((hit.parameters, hit.artifacts))
            self.ctx.cache.add_copies(hit, outcome.artifacts)
            return outcome
        if self.ctx.cache_only:
            return self._not_cached()
        return self._attempts(step)

    def _not_cached(self) -> StepOutcome:
        """Cache-only: this step would have to run. Nothing is reported; the run stops here."""
        self.ctx.cancel.set()
        return StepOutcome(StepState.FAILED, {}, {}, "not in the step cache")

    def _run_or_reuse(self, step: PythonStep, key: str, cache: StepCache) -> StepOutcome:
        hit = cache.lookup(key)  # what the step we waited for left
        if hit is not None:
            outcome = self._from_cache((hit.parameters, hit.artifacts))
            cache.add_copies(hit, outcome.artifacts)
            return outcome
        outcome = self._attempts(step)
        if outcome.state == StepState.SUCCEEDED:
            for name, group in outcome.artifacts.items():
                for index, artifact in enumerate(group):
                    artifact.digest = output_identity(key, name, index, Path(artifact.uri))
            cache.store(key, outcome.params, outcome.artifacts)
        return outcome

    def _note_wait(self, holder: str) -> None:
        log = self.ctx.listener.log_path(self.info.name)
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("a") as f:
            f.write(
                f"[jupyter-mlops] waiting for the same step, running in {holder} "
                "(its outputs will be reused)\n"
            )

    # -- cache hit ------------------------------------------------------------------------------

    def _from_cache(self, cached: tuple[dict[str, Any], dict[str, list[Artifact]]]) -> StepOutcome:
        params, cached_artifacts = cached
        now = time.time()
        self.info.started_at = now
        artifacts: dict[str, list[Artifact]] = {}
        for name, group in cached_artifacts.items():
            artifacts[name] = []
            for i, a in enumerate(group):
                target = self._artifact_path(name, i, len(group))
                materialize(Path(a.uri), target)
                artifacts[name].append(replace(a, uri=str(target)))
        if not self.ctx.cache_only:  # a run resolved whole from the cache keeps no log files (cached_runs.py)
            _append(self.ctx.listener.log_path(self.info.name), cached_log_line(self.info.cache_key).encode())
        return self._finish(StepState.CACHED, params, artifacts, None)

    # -- attempts -------------------------------------------------------------------------------

    def _attempts(self, step: PythonStep) -> StepOutcome:
        policy = self.task.get("retryPolicy") or {}
        attempts = 1 + max(0, int(policy.get("maxRetryCount", 0) or 0))
        timeout = self.ctx.ir.timeout(step.executor_label)
        log = self.ctx.listener.log_path(self.info.name)
        log.parent.mkdir(parents=True, exist_ok=True)
        module = self.ctx.run_files.module(step.source)
        error: str | None = None
        for attempt in range(1, attempts + 1):
            if self.ctx.cancel.is_set():  # cancelled before its first attempt: it never ran
                return self._finish(StepState.CANCELED if attempt > 1 else StepState.SKIPPED, {}, {}, None)
            self.info.attempts = attempt
            self.info.state = StepState.RUNNING
            self.info.started_at = self.info.started_at or time.time()
            self.info.error = None
            self.report()
            if attempt > 1:
                with log.open("ab") as f:
                    f.write(f"\n[jupyter-mlops] attempt {attempt} of {attempts} (last: {error})\n".encode())
            code, reason, offset = self._attempt(step, module, log, attempt, timeout)
            if reason == "canceled":
                return self._finish(StepState.CANCELED, {}, {}, "canceled")
            if code == 0 and reason is None:
                try:
                    params, artifacts = self._collect()
                except MlopsError as e:
                    error = str(e)
                else:
                    return self._finish(StepState.SUCCEEDED, params, artifacts, None)
            else:
                error = reason or last_error_line(log, offset) or processes.describe_exit(code)
                error += disk_full_note(self.ctx.workdir)
            if attempt < attempts and not self._backoff(policy, attempt):
                return self._finish(StepState.CANCELED, {}, {}, "canceled")
        return self._finish(StepState.FAILED, {}, {}, error)

    def _next_module(self) -> Path | None:
        """The module file of the step expected next (`next_step`), written now; None if there is none
        or it is not a Python component (that step then says why, when it runs)."""
        if self.next_step is None:
            return None
        name, component = self.next_step
        try:
            return self.ctx.run_files.module(self.ctx.ir.python_step(name, component).source, ahead=True)
        except (MlopsError, OSError, KeyError, TypeError, ValueError):
            return None

    def _backoff(self, policy: Mapping[str, Any], attempt: int) -> bool:
        """Sleep the retry policy's backoff; False if the run was cancelled meanwhile."""
        base = _seconds(policy.get("backoffDuration", "0s"))
        factor = float(policy.get("backoffFactor", 2.0) or 2.0)
        ceiling = _seconds(policy.get("backoffMaxDuration", "3600s")) or 3600.0
        return not self.ctx.cancel.wait(min(base * factor ** (attempt - 1), ceiling))

    def _attempt(
        self, step: PythonStep, module: Path, log: Path, attempt: int, timeout: float | None
    ) -> tuple[int, str | None, int]:
        """(exit code, reason if not a plain exit, log offset where this attempt began)."""
        self._clear_outputs()
        executor_input = json.dumps(self._executor_input())
        metrics_file = self.ctx.run_files.metrics_file(folder_name(self.info.name), attempt)
        env = dict(step.env)
        env.update(
            _KFP_RUNTIME="true",
            JUPYTER_MLOPS_METRICS_FILE=str(metrics_file),
            JUPYTER_MLOPS_STEP=self.info.name,
            JUPYTER_MLOPS_RUN_ID=self.ctx.run_id,
            JUPYTER_MLOPS_LOGDIR=str(self.logdir),  # what mlops.logdir() returns inside the step
        )
        tag = env[leftovers.STEP_TAG_ENV] = f"{self.ctx.run_id}/{self.info.name}/{attempt}/{id(self)}"
        try:
            offset = os.stat(log).st_size
        except FileNotFoundError:
            offset = 0
        if not self.ctx.cwd.is_dir():
            raise processes.StepLaunchError(
                f"its working directory {self.ctx.cwd} (where the run was started from: the notebook's "
                "folder) is not a directory any more: relative paths in the step could not be found. "
                "Restore it, or run the pipeline again from where its files are"
            )
        if self.ctx.environments.satisfied(step.requirements):
            python = self.ctx.python
        else:
            with log.open("ab") as f:
                python = self.ctx.environments.venv_python(step.requirements, step.pip_options, f)
        if python == self.ctx.python and self.ctx.worker is not None:
            process = self.ctx.worker.spawn(
                module, step.function, executor_input, log, env, self.ctx.cwd, self._next_module()
            )
        else:
            self.root.mkdir(parents=True, exist_ok=True)
            process = processes.spawn_subprocess(
                python, module, step.function, executor_input, log, env, self.ctx.cwd,
                request_file=self.root / "request.json",
            )  # fmt: skip
        deadline = None if timeout is None else time.monotonic() + timeout
        tail = MetricsTail(metrics_file, self._logged_metrics)
        try:
            return self._watch(process, tail, deadline, timeout, offset)
        except BaseException:  # a metric could not be recorded (the store failed): the step ends here
            processes.stop(process)
            raise
        finally:
            # What it started in sessions of their own (daemons) ends with it, as in a pod; a step whose
            # worker saw it end leaving no process anywhere (worker.py) is not looked for.
            if not process.clean:
                leftovers.kill_tagged(leftovers.STEP_TAG_ENV, tag)

    def _watch(
        self,
        process: processes.StepProcess,
        tail: MetricsTail,
        deadline: float | None,
        timeout: float | None,
        offset: int,
    ) -> tuple[int, str | None, int]:
        slots = self.ctx.slots
        activity = Activity(process.pid) if slots is not None else None
        try:
            return self._watch_until_end(process, tail, deadline, timeout, offset, activity)
        finally:
            if slots is not None:
                slots.mark(self, False)

    def _watch_until_end(
        self,
        process: processes.StepProcess,
        tail: MetricsTail,
        deadline: float | None,
        timeout: float | None,
        offset: int,
        activity: Activity | None,
    ) -> tuple[int, str | None, int]:
        looking = activity is not None and activity.readable
        poll = LOOK_SECONDS if looking else POLL_SECONDS
        started = last_read = time.monotonic()
        flowing = False  # the last read of the metrics file found many points: read it again soon
        while True:
            # a step that starts waiting at once (a sleep, a request) is seen so within ~20 ms
            first = looking and time.monotonic() - started < FIRST_LOOKS_S
            wait = FLOWING_SECONDS if flowing else FIRST_LOOK_SECONDS if first else poll
            code = processes.wait_or_deadline(process, deadline, wait)
            if code is not None or flowing or time.monotonic() - last_read >= POLL_SECONDS:
                flowing = tail.read() >= FLOWING_POINTS
                last_read = time.monotonic()
            if activity is not None and self.ctx.slots is not None and code is None:
                self.ctx.slots.mark(self, activity.waiting())
            if code is not None:
                # What the step left running in its group was killed before it was reaped (processes.py).
                return code, process.error, offset
            if self.ctx.cancel.is_set():
                processes.stop(process)
                return -15, "canceled", offset
            if deadline is not None and time.monotonic() >= deadline:
                processes.stop(process)
                tail.read()
                return -15, f"timed out after {timeout:g} s (the step's timeout)", offset

    def _executor_input(self) -> dict[str, Any]:
        params_def = (self.outputs_def.get("parameters") or {}).keys()
        arts_def: Mapping[str, Any] = self.outputs_def.get("artifacts") or {}
        return {
            "inputs": {
                "parameterValues": self.params,
                "artifacts": {
                    n: {"artifacts": [a.runtime_json() for a in g]} for n, g in self.artifacts.items()
                },
            },
            "outputs": {
                "parameters": {n: {"outputFile": str(self.root / "parameters" / n)} for n in params_def},
                "artifacts": {
                    n: {"artifacts": [self._output_artifact(n, spec).runtime_json()]}
                    for n, spec in arts_def.items()
                },
                "outputFile": str(self.output_file),
            },
        }

    def _output_artifact(self, name: str, spec: Mapping[str, Any]) -> Artifact:
        schema = spec.get("artifactType") or {}
        return Artifact(
            name=name,
            uri=str(self._artifact_path(name, 0, 1)),
            schema_title=str(schema.get("schemaTitle", "system.Artifact")),
            schema_version=str(schema.get("schemaVersion", "0.0.1")),
        )

    def _artifact_path(self, name: str, index: int, count: int) -> Path:
        base = self.ctx.workdir / "artifacts" / folder_name(self.info.name) / folder_name(name)
        return base if count == 1 else base / str(index)

    def _clear_outputs(self) -> None:
        """A retry starts clean: no output of a failed attempt may pass for a result."""
        shutil.rmtree(self.root / "parameters", ignore_errors=True)
        self.output_file.unlink(missing_ok=True)
        for name in self.outputs_def.get("artifacts") or {}:
            path = self._artifact_path(name, 0, 1)
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)

    def _collect(self) -> tuple[dict[str, Any], dict[str, list[Artifact]]]:
        """Outputs from executor_output.json and the OutputPath files, typed like the KFP backend."""
        try:
            with open(self.output_file, "rb") as f:
                written = json.loads(f.read())
            wrote_output = True
        except FileNotFoundError:
            written, wrote_output = {}, False
        params_def: Mapping[str, Any] = self.outputs_def.get("parameters") or {}
        declared = [*params_def, *(self.outputs_def.get("artifacts") or {})]
        if declared and not wrote_output and not (self.root / "parameters").exists():
            # kfp's executor writes this file when the step's code returns: exit code 0 without it is a
            # process that ended early (os._exit() in the cell, or a forked child returning into the step)
            raise PipelineError(
                f"step {self.info.name!r} ended before its code did: its process exited with code 0 "
                f"without storing its outputs ({', '.join(sorted(declared))}). Does the cell call "
                "os._exit(), or fork a child that does not exit?"
            )
        params: dict[str, Any] = {}
        for name, spec in params_def.items():
            ptype = str(spec.get("parameterType", ""))
            where = f"step {self.info.name!r}, output {name!r}"
            path = self.root / "parameters" / name
            if path.exists():
                params[name] = read_output_parameter(path, ptype, where)
            elif name in (written.get("parameterValues") or {}):
                params[name] = cast_parameter(written["parameterValues"][name], ptype, where)
        artifacts: dict[str, list[Artifact]] = {}
        for name, spec in (self.outputs_def.get("artifacts") or {}).items():
            default = self._output_artifact(name, spec)
            listed = ((written.get("artifacts") or {}).get(name) or {}).get("artifacts") or []
            if not listed:
                artifacts[name] = [default]
                continue
            artifacts[name] = [
                replace(default, uri=str(a.get("uri") or default.uri), metadata=dict(a.get("metadata") or {}))
                for a in listed
            ]
        return params, artifacts

    # -- reporting ------------------------------------------------------------------------------

    def _logged_metrics(self, batch: list[Point]) -> None:
        points = []
        for name, value, index, at in batch:
            self.logged_metrics.add(name)
            self.info.metrics[name] = value
            points.append(MetricPoint(self.ctx.run_id, self.info.name, name, value, index=index, time=at))
        record = getattr(self.ctx.listener, "on_metrics", None)  # a listener may take a batch at once
        if record is not None:
            record(points)
        else:
            for point in points:
                self.ctx.listener.on_metric(point)

    def _metric(self, name: str, value: float, index: int | None, at: float) -> None:
        self.info.metrics[name] = value
        self.ctx.listener.on_metric(
            MetricPoint(
                run_id=self.ctx.run_id, step=self.info.name, name=name, value=value, index=index, time=at
            )
        )

    def _finish(
        self,
        state: StepState,
        params: dict[str, Any],
        artifacts: dict[str, list[Artifact]],
        error: str | None,
    ) -> StepOutcome:
        now = time.time()
        arts_def: Mapping[str, Any] = self.outputs_def.get("artifacts") or {}
        for name, group in artifacts.items():
            for a in group:
                if _no_value(a):
                    continue
                self.ctx.listener.on_artifact(
                    ArtifactInfo(
                        run_id=self.ctx.run_id,
                        step=self.info.name,
                        name=name,
                        uri=a.uri,
                        type=a.schema_title,
                        metadata=dict(a.metadata),
                    )
                )
                if a.schema_title == "system.Metrics":
                    for key, value in a.metadata.items():
                        # a series already logged point by point through the metrics file ends with
                        # this same value (the notebook steps' log_metric writes both): not twice
                        if key in self.logged_metrics:
                            continue
                        if isinstance(value, (int, float)) and not isinstance(value, bool):
                            self._metric(key, float(value), None, now)
        if state != StepState.CACHED and self.logdir.is_dir() and any(self.logdir.iterdir()):
            # TensorBoard logs written through mlops.logdir(): kept even when the step failed
            self.ctx.listener.on_artifact(
                ArtifactInfo(
                    run_id=self.ctx.run_id,
                    step=self.info.name,
                    name="tensorboard",
                    uri=str(self.logdir),
                    type="system.Artifact",
                    metadata={"kind": "tensorboard-logdir"},
                )
            )
        self.info.outputs = dict(params)
        for name, group in artifacts.items():
            is_list = bool(arts_def.get(name, {}).get("isArtifactList"))
            self.info.outputs[name] = None if group and all(map(_no_value, group)) else uris(group, is_list)
        self.info.state = state
        self.info.error = error if state == StepState.FAILED else None
        if self.info.started_at is None:
            self.info.started_at = now
        self.info.finished_at = now
        # Only a success goes on at once to the next step: any other end (failed, canceled, a run being
        # stopped) is written here, where the fault paths (a full disk, a SIGTERM) expect it.
        ends_well = state in (StepState.SUCCEEDED, StepState.CACHED) and not self.ctx.cancel.is_set()
        hold = getattr(self.ctx.listener, "hold", None) if self.hold_end and ends_well else None
        if hold is not None:
            hold(snapshot(self.info))
        else:
            self.report()
        return StepOutcome(state=state, params=params, artifacts=artifacts, error=error)


def _append(path: Path, data: bytes) -> None:
    """Append to a log file, making its folder if needed (one open and write: a cached step's line)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags, 0o644)
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, flags, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def _no_value(artifact: Artifact) -> bool:
    """A notebook step's `result` when the cell's last line gave None (as IPython, nothing to show)."""
    return artifact.metadata.get("format") == "none"


def _seconds(value: Any) -> float:
    text = str(value or "0").strip()
    try:
        return float(text[:-1]) if text.endswith("s") else float(text)
    except ValueError:
        return 0.0
