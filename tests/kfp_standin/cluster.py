"""The stand-in's "cluster": experiments and runs as a KFP v2beta1 API server keeps them, with each
submitted pipeline spec actually executed by our local backend (real runner processes, the kfp
executor), and every answer built from kfp_server_api's own model classes.

How a run looks (as a KFP v2 server on Argo reports it, as far as the v2beta1 REST API shows it):
- `state` and `state_history` follow the executing run; a retry appends to the history.
- `run_details.task_details`: a "root" DAG task, then one task per step once it was scheduled (a step
  downstream of a failure never gets a task); a step answered from the cache is reported SKIPPED with
  its cache-check pod (`executor_detail.pre_caching_check_job`) and no main job.
- Output values and metrics are NOT reported (a real server keeps them in ML Metadata); a task's
  `outputs` lists its artifacts by id only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import kfp_server_api as k
import yaml

from jupyter_mlops.backends.local import LocalBackend
from jupyter_mlops.errors import MlopsError, NotFound, UsageError
from jupyter_mlops.models import RunInfo, RunState, StepState


class ApiError(Exception):
    """An error answer: HTTP status, gRPC code and message, as KFP's gateway sends them."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = {400: 3, 401: 16, 403: 7, 404: 5, 409: 6, 500: 13}.get(status, 2)


def when(seconds: float | None) -> dt.datetime | None:
    return None if seconds is None else dt.datetime.fromtimestamp(seconds, tz=dt.timezone.utc)


def _sid(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:10]


@dataclass
class RunRecord:
    run_id: str
    experiment_id: str
    namespace: str | None
    display_name: str
    pipeline_spec: dict[str, Any]  # exactly as the client sent it
    runtime_config: dict[str, Any]
    created_at: float
    attempts: list[str] = field(default_factory=list)  # local run ids, one per (re)try
    recurring_run_id: str | None = None  # the recurring run that started it (recurring.py)
    scheduled_at: float | None = None  # its due time, for a run a recurring run started
    storage_state: str = "AVAILABLE"  # ARCHIVED once archived (runs/{id}:archive); the UI hides those


class Cluster:
    def __init__(self, home: Path) -> None:
        self.home = home
        self.local = LocalBackend(home=home / "cluster", max_workers=2)
        self.experiments: dict[str, k.V2beta1Experiment] = {}
        self.runs: dict[str, RunRecord] = {}
        self.lock = threading.RLock()

    def close(self) -> None:
        self.local.close()

    # -- experiments --------------------------------------------------------------------------------

    def create_experiment(self, body: k.V2beta1Experiment) -> k.V2beta1Experiment:
        if not body.display_name:
            raise ApiError(400, "Invalid input error: Experiment must have a non-empty name")
        with self.lock:
            for e in self.experiments.values():
                if e.display_name == body.display_name and e.namespace == body.namespace:
                    raise ApiError(409, f"Already exist error: experiment {body.display_name!r} exists")
            made = k.V2beta1Experiment(
                experiment_id=str(uuid.uuid4()),
                display_name=body.display_name,
                description=body.description,
                created_at=dt.datetime.now(dt.timezone.utc),
                namespace=body.namespace,
                storage_state="AVAILABLE",
            )
            self.experiments[made.experiment_id] = made
            return made

    def experiment(self, experiment_id: str) -> k.V2beta1Experiment:
        with self.lock:
            found = self.experiments.get(experiment_id)
        if found is None:
            raise ApiError(404, f"NotFoundError: Experiment {experiment_id} not found")
        return found

    def default_experiment(self, namespace: str | None) -> str:
        with self.lock:
            for e in self.experiments.values():
                if e.display_name == "Default" and e.namespace == namespace:
                    return str(e.experiment_id)
            return str(
                self.create_experiment(
                    k.V2beta1Experiment(display_name="Default", namespace=namespace)
                ).experiment_id
            )

    # -- runs -----------------------------------------------------------------------------------------

    def create_run(self, body: k.V2beta1Run) -> RunRecord:
        if not isinstance(body.pipeline_spec, dict):
            raise ApiError(400, "Invalid input error: a run needs a pipeline_spec or a pipeline version")
        experiment_id = body.experiment_id or self.default_experiment(None)
        experiment = self.experiment(experiment_id)
        spec = body.pipeline_spec
        if "pipeline_spec" in spec:
            documents = [
                spec["pipeline_spec"],
                *([spec["platform_spec"]] if spec.get("platform_spec") else []),
            ]
        else:
            documents = [spec]
        config = body.runtime_config
        parameters = dict((config.parameters if config else None) or {})
        record = RunRecord(
            run_id=str(uuid.uuid4()),
            experiment_id=experiment_id,
            namespace=experiment.namespace,
            display_name=body.display_name or "run",
            pipeline_spec=spec,
            runtime_config={"parameters": parameters},
            created_at=dt.datetime.now(dt.timezone.utc).timestamp(),
        )
        record.attempts.append(self._execute(record, documents, parameters, experiment.display_name))
        with self.lock:
            self.runs[record.run_id] = record
        return record

    def _execute(self, record: RunRecord, documents: list[Any], parameters: dict[str, Any], exp: str) -> str:
        pod_dir = self.home / "pod"  # an empty folder: a pod has no notebook folder (and caches match)
        pod_dir.mkdir(exist_ok=True)
        text = yaml.safe_dump_all(documents, sort_keys=False)
        try:
            info = self.local.submit(
                text, parameters, experiment=exp, name=record.display_name, working_dir=pod_dir
            )
        except UsageError as exc:
            raise ApiError(400, f"Invalid input error: {exc}") from None
        except MlopsError as exc:
            raise ApiError(400, f"Invalid input error: the pipeline spec cannot run: {exc}") from None
        return info.id

    def record(self, run_id: str) -> RunRecord:
        with self.lock:
            found = self.runs.get(run_id)
        if found is None:
            raise ApiError(404, f"NotFoundError: Run {run_id} not found")
        return found

    def delete_run(self, run_id: str) -> None:
        with self.lock:
            if self.runs.pop(run_id, None) is None:
                raise ApiError(404, f"NotFoundError: Run {run_id} not found")

    def set_storage_state(self, run_id: str, state: str) -> None:
        """Archive ("ARCHIVED") or restore ("AVAILABLE") a run, as KFP's ArchiveRun and UnarchiveRun."""
        record = self.record(run_id)
        with self.lock:
            record.storage_state = state

    def terminate(self, run_id: str) -> None:
        record = self.record(run_id)
        self.local.cancel(record.attempts[-1])

    def retry(self, run_id: str) -> None:
        record = self.record(run_id)
        state = self.local.get(record.attempts[-1]).state
        if state not in (RunState.FAILED, RunState.CANCELED):
            raise ApiError(
                400, f"FailedPrecondition: run {run_id} is {state.value}; only failed runs are retried"
            )
        spec = record.pipeline_spec
        documents = [spec["pipeline_spec"], spec["platform_spec"]] if "pipeline_spec" in spec else [spec]
        exp = self.experiment(record.experiment_id).display_name
        record.attempts.append(self._execute(record, documents, record.runtime_config["parameters"], exp))

    # -- the run as the API shows it ----------------------------------------------------------------

    def run_model(self, record: RunRecord, *, details: bool = True) -> k.V2beta1Run:
        attempts = [self.local.get(local_id) for local_id in record.attempts]
        current = attempts[-1]
        history = []
        for local_id in record.attempts:
            for e in self.local.events(local_id):
                if e.kind == "run" and (not history or history[-1].state != e.state):
                    history.append(k.V2beta1RuntimeStatus(update_time=when(e.time), state=e.state))
        run = k.V2beta1Run(
            experiment_id=record.experiment_id,
            run_id=record.run_id,
            display_name=record.display_name,
            storage_state=record.storage_state,
            pipeline_spec=record.pipeline_spec,
            runtime_config=k.V2beta1RuntimeConfig(parameters=record.runtime_config["parameters"]),
            service_account="pipeline-runner",
            created_at=when(record.created_at),
            scheduled_at=when(record.scheduled_at or record.created_at),
            finished_at=when(current.finished_at) if current.state.terminal else None,
            state=current.state.value,
            error=k.GoogleRpcStatus(code=2, message=current.error) if current.error else None,
            state_history=history,
            recurring_run_id=record.recurring_run_id,
        )
        if details:
            run.run_details = k.V2beta1RunDetails(
                pipeline_context_id=_sid(record.run_id, "ctx"),
                pipeline_run_context_id=_sid(record.run_id, "run-ctx"),
                task_details=self._tasks(record, current),
            )
        return run

    def _tasks(self, record: RunRecord, current: RunInfo) -> list[k.V2beta1PipelineTaskDetail]:
        local_id = record.attempts[-1]
        root_id = _sid(record.run_id, "root")
        step_events: dict[str, list[Any]] = {}
        for e in self.local.events(local_id):
            if e.kind == "step" and e.step:
                step_events.setdefault(e.step, []).append(e)
        artifacts: dict[str, dict[str, list[str]]] = {}
        for a in self.local.artifacts(local_id):
            artifacts.setdefault(a.step, {}).setdefault(a.name, []).append(str(int(_sid(a.uri), 16) % 10**6))
        tasks = [
            k.V2beta1PipelineTaskDetail(
                run_id=record.run_id,
                task_id=root_id,
                display_name="root",
                create_time=when(record.created_at),
                start_time=when(current.started_at),
                end_time=when(current.finished_at),
                state=current.state.value,
                child_tasks=[],
            )
        ]
        for step in current.steps:
            started = step.started_at is not None or step.state in (StepState.CACHED, StepState.FAILED)
            if not started:  # never scheduled: a real server has no task for it
                continue
            pod = f"{record.display_name[:20]}-{_sid(local_id, step.name)}"
            cached = step.state is StepState.CACHED
            detail = k.V2beta1PipelineTaskExecutorDetail(
                main_job="" if cached else f"{pod}-main",
                pre_caching_check_job=f"{pod}-driver",
            )
            state = "SKIPPED" if cached else step.state.value
            history = [
                k.V2beta1RuntimeStatus(
                    update_time=when(e.time), state="SKIPPED" if e.state == "CACHED" else e.state
                )
                for e in step_events.get(step.name, [])
                if e.state != "PENDING"
            ]
            task_id = _sid(local_id, step.name, "task")
            tasks[0].child_tasks.append(k.PipelineTaskDetailChildTask(task_id=task_id, pod_name=pod))
            tasks.append(
                k.V2beta1PipelineTaskDetail(
                    run_id=record.run_id,
                    task_id=task_id,
                    display_name=step.name,
                    create_time=when(step.started_at or current.created_at),
                    start_time=when(step.started_at),
                    end_time=when(step.finished_at) if step.state.terminal else None,
                    executor_detail=detail,
                    state=state,
                    execution_id=str(int(task_id, 16) % 10**6),
                    error=k.GoogleRpcStatus(code=2, message=step.error) if step.error else None,
                    outputs={
                        name: k.V2beta1ArtifactList(artifact_ids=ids)
                        for name, ids in artifacts.get(step.name, {}).items()
                    },
                    parent_task_id=root_id,
                    state_history=history,
                    pod_name=f"{pod}-main" if not cached else "",
                )
            )
        return tasks

    def pod_log(self, run_id: str, pod_name: str) -> str:
        """The main container's log of the pod `pod_name` of run `run_id`, whole, as the KFP UI's
        `/k8s/pod/logs` answers it (the pod is the step's; a step answered from the cache has none)."""
        record = self.record(run_id)
        local_id = record.attempts[-1]
        for step in self.local.get(local_id).steps:
            if f"{record.display_name[:20]}-{_sid(local_id, step.name)}-main" == pod_name:
                parts, offset = [], 0
                while True:
                    chunk = self.local.logs(local_id, step.name, offset)
                    parts.append(chunk.text)
                    if chunk.next_offset == offset or chunk.complete:
                        return "".join(parts)
                    offset = chunk.next_offset
        raise ApiError(404, "pod not found")

    def local_run(self, run_id: str) -> RunInfo:
        """The executing run behind a KFP run (for tests that look inside the stand-in)."""
        try:
            return self.local.get(self.record(run_id).attempts[-1])
        except NotFound:
            raise ApiError(404, f"NotFoundError: Run {run_id} not found") from None
