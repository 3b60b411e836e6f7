"""The `kfp` backend: the same compiled pipeline, run on a Kubeflow Pipelines v2 server.

It speaks to the server through the kfp SDK's own `kfp.Client` and its generated v2beta1 API
(`kfp_server_api`), and returns the project's dataclasses like every backend. What the v2beta1 REST
API does not give, it reads where the KFP UI reads it, when the host is the UI's server: step logs from
its pod-log endpoint (pod_logs.py), output values, metrics and artifact metadata from ML Metadata
through its gRPC-web proxy (mlmd.py), artifact bytes through its artifact endpoint (artifact_files.py);
they are probed once at connect and declared in `capabilities`. What it cannot reach (logs, values and
artifacts on the API server alone) is declared too, and the calls that need it say where to look
instead: the run's KFP UI page (`run_url`).
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ...errors import ArtifactNotFound, BackendError, RunNotFound, StepNotFound, Unsupported, UsageError
from ...ir.documents import bind_arguments, pipeline_name, spec_documents
from ...models import (
    ArtifactFile,
    ArtifactInfo,
    BackendStatus,
    Capabilities,
    Experiment,
    LogChunk,
    RunEvent,
    RunInfo,
    RunPage,
    RunState,
)
from ..local_artifacts import open_artifact_file
from . import connection, mlmd
from .api_reader import ApiReader
from .artifact_files import ArtifactDownloads
from .convert import (
    documents_of,
    events_of,
    output_types,
    tasks_by_name,
    to_run_info,
    typed,
)
from .experiments import DEFAULT_EXPERIMENT, KfpExperiments
from .filters import runs_filter
from .first_requests import health_and_logs
from .listing import RunListing
from .pod_logs import PodLogs

REFRESH_S = 2.0  # a run's record is read from the server at most this often, however many views poll
# The experiments with their run counts cost 1 + one request per experiment (the API has no counts):
# sidebars ask every 2 s, so the list is kept this long (a run submitted here refreshes it at once).
EXPERIMENTS_REFRESH_S = 10.0


class KfpBackend:
    name = "kfp"
    cheap_get = False  # a run's record (and its ML Metadata) costs the server requests: lists do not read it
    capabilities = Capabilities(
        logs=False,  # True per connection when the host is the KFP UI's server (pod_logs.py)
        artifact_download=False,  # True per connection with the KFP UI's server (artifact_files.py)
        cancel=True,
        retry=True,
        schedules=True,  # KFP recurring runs (recurring.py)
        session_metrics=False,  # a notebook cell's log_metric has no run on the server
        working_dir=False,  # steps run in pods: the notebook's folder is not there
        outputs=False,  # True per connection when the UI's server proxies ML Metadata (mlmd.py)
    )

    def __init__(
        self,
        host: str | None = None,
        namespace: str | None = None,
        existing_token: str | None = None,
        cookies: str | None = None,
        *,
        ui_host: str | None = None,
        timeout: float | None = None,
        refresh: float = REFRESH_S,
    ) -> None:
        self.conn = connection.resolve(host, namespace, existing_token, cookies, ui_host, timeout)
        # Views poll `events` and `get` often (the local store answers in microseconds); each KFP run is
        # fetched at most once per `refresh` seconds and shared by every reader of this backend.
        self.refresh = float(refresh)
        self._clock = time.monotonic
        self._recent: dict[str, tuple[float, Any]] = {}
        self._experiments: tuple[float, list[Experiment]] | None = None
        # The listings' pages: plain JSON over kept connections; the health check's is the first.
        self.reader = ApiReader(self.conn)
        # A server we cannot use is refused now, in one line; beside the health check, the probe of
        # step logs through the KFP UI's own endpoint, where `ui_host` is the UI's server (pod_logs.py).
        self.health, has_logs = health_and_logs(self.conn, self.reader)
        self.pod_logs = PodLogs(self.conn, self.refresh)
        if has_logs:
            self.capabilities = dataclasses.replace(self.capabilities, logs=True)
        # Output values, metrics and artifact metadata from ML Metadata, through the same server (mlmd.py).
        self.metadata = mlmd.probe(self.conn)
        if self.metadata:  # the KFP UI's server: its artifact endpoint too (artifact_files.py)
            self.capabilities = dataclasses.replace(self.capabilities, outputs=True, artifact_download=True)
        self.downloads = ArtifactDownloads(self.conn, f"{self.conn.ui_host}/#/runs/details/{{}}")
        # Of finished runs, by (run id, end): a run finished no longer changes until it is retried.
        self._values: dict[tuple[str, float | None], dict[str, mlmd.StepValues]] = {}
        self.client = connection.make_client(self.conn)
        self.experiment_book = KfpExperiments(self.conn, self.client, self.reader)
        self.listing = RunListing(self)
        self._lock = threading.Lock()

    def close(self) -> None:
        self.reader.close()
        api_client = getattr(getattr(self.client, "_run_api", None), "api_client", None)
        if api_client is not None:
            try:
                api_client.close()
            except Exception:
                pass

    # -- helpers ------------------------------------------------------------------------------------

    def _call(self, what: str, fn: Any, *, run_id: str | None = None) -> Any:
        return connection.call(self.conn, what, fn, run_id=run_id)

    @property
    def _timeout(self) -> tuple[float, float]:
        # (connect, read): kfp_server_api silently ignores a single float (it only takes an int)
        return (self.conn.timeout, self.conn.timeout)

    @property
    def ui_url(self) -> str:
        """The KFP UI's runs page."""
        return f"{self.conn.ui_host}/#/runs"

    def run_url(self, run_id: str) -> str:
        """The run's page in the KFP UI (logs, artifacts, visualizations)."""
        return f"{self.conn.ui_host}/#/runs/details/{run_id}"

    def _namespace_kwargs(self) -> dict[str, Any]:
        return self.experiment_book.namespace_kwargs()

    def _get_raw(self, run_id: str) -> Any:
        if not run_id or "/" in run_id:
            raise RunNotFound(f"no run {run_id!r} on the KFP server at {self.conn.host}")
        now = self._clock()
        with self._lock:
            recent = self._recent.get(run_id)
        if recent is not None and now - recent[0] < self.refresh:
            return recent[1]
        api = self.client._run_api
        run = self._call(
            f"reading run {run_id}",
            lambda: api.run_service_get_run(run_id, _request_timeout=self._timeout),
            run_id=run_id,
        )
        with self._lock:
            if len(self._recent) > 1000:
                self._recent.clear()
            self._recent[run_id] = (now, run)
        return run

    def _forget(self, run_id: str) -> None:
        with self._lock:
            self._recent.pop(run_id, None)

    # -- the protocol -------------------------------------------------------------------------------

    def submit(
        self,
        pipeline_spec: Mapping[str, Any] | Sequence[Mapping[str, Any]] | str,
        arguments: Mapping[str, Any] | None = None,
        *,
        experiment: str | None = None,
        name: str | None = None,
        cache: bool = True,
        working_dir: str | os.PathLike[str] | None = None,
    ) -> RunInfo:
        import kfp_server_api
        import yaml

        documents = spec_documents(pipeline_spec)
        bind_arguments(documents, arguments)  # bad arguments fail here, before the server hears of it
        if isinstance(pipeline_spec, str):  # the compiler's text exactly as the local backend runs it
            text = pipeline_spec
        else:
            text = yaml.safe_dump_all(documents, sort_keys=False)
        experiment_id = self.experiment_book.id_of(experiment or DEFAULT_EXPERIMENT, create=True)
        with tempfile.TemporaryDirectory(prefix="mlops-kfp-") as folder:
            path = Path(folder) / "pipeline.yaml"
            path.write_text(text)
            job = self.client._create_job_config(  # the kfp SDK reads the package as `kfp run` does
                params=dict(arguments or {}),
                pipeline_package_path=str(path),
                pipeline_id=None,
                version_id=None,
                enable_caching=None if cache else False,
                cache_key=None,
                pipeline_root=None,
            )
        body = kfp_server_api.V2beta1Run(
            experiment_id=experiment_id,
            display_name=name or f"{pipeline_name(documents)}-{time.strftime('%Y%m%d-%H%M%S')}",
            pipeline_spec=job.pipeline_spec,
            runtime_config=job.runtime_config,
        )
        api = self.client._run_api
        created = self._call(
            "creating the run", lambda: api.run_service_create_run(body, _request_timeout=self._timeout)
        )
        self._experiments = None  # a run count changed
        if not created.pipeline_spec:  # an answer without the spec still shows the planned DAG
            created.pipeline_spec = job.pipeline_spec
        return to_run_info(created, self.experiment_book.name_of(created.experiment_id))

    def get(self, run_id: str) -> RunInfo:
        run = self._get_raw(run_id)
        info = to_run_info(run, self.experiment_book.name_of(run.experiment_id))
        values = self._step_values(info)
        if values:
            types = output_types(documents_of(run))
            for step in info.steps:
                found = values.get(step.name)
                if found is None:
                    continue
                step.outputs = {k: typed(v, types.get((step.name, k))) for k, v in found.outputs.items()}
                # its artifacts by name, as on the local backend (there: a path; here: the object's URI)
                step.outputs.update({k: uri for k, (_, uri, _) in found.artifacts.items()})
                step.metrics = dict(found.metrics)
                info.metrics.update({f"{step.name}.{k}": v for k, v in found.metrics.items()})
        if run.recurring_run_id:  # started by a schedule: a KFP recurring run (its name asked once)
            from .recurring import KfpRecurringRuns

            names: dict[str, str] = self.__dict__.setdefault("_schedule_names", {})
            rid = str(run.recurring_run_id)
            if rid not in names:
                names[rid] = KfpRecurringRuns(self).name_of(rid)
            info.schedule = names[rid]
        return info

    def _step_values(self, info: RunInfo) -> dict[str, mlmd.StepValues]:
        """What ML Metadata holds for a finished run's steps, read once (four requests) each time the
        run finishes: a failed run retried to its end (here or elsewhere) is read anew."""
        if not self.metadata or not info.state.terminal:
            return {}
        key = (info.id, info.finished_at)
        with self._lock:
            known = self._values.get(key)
        if known is None:
            known = self._call(
                f"reading run {info.id}'s outputs", lambda: mlmd.step_values(self.conn, info.id)
            )
            with self._lock:
                if len(self._values) > 500:
                    self._values.clear()
                self._values[key] = known
        return known

    def list_runs(
        self,
        *,
        experiment: str | None = None,
        state: RunState | None = None,
        limit: int = 50,
        offset: int = 0,
        cursor: str | None = None,
    ) -> RunPage:
        """Newest first, through the API's own paging (listing.py)."""
        return self.listing.page(
            experiment=experiment, state=state, limit=limit, offset=offset, cursor=cursor
        )

    def cancel(self, run_id: str) -> RunInfo:
        run = self._get_raw(run_id)
        if not to_run_info(run, "", with_steps=False).state.terminal:
            api = self.client._run_api
            self._call(
                f"cancelling run {run_id}",
                lambda: api.run_service_terminate_run(run_id, _request_timeout=self._timeout),
                run_id=run_id,
            )
            self._forget(run_id)
        return self.get(run_id)

    def retry(self, run_id: str) -> RunInfo:
        """Run a failed or cancelled run's unfinished steps again, in place (KFP's retry)."""
        info = self.get(run_id)
        if info.state not in (RunState.FAILED, RunState.CANCELED):
            raise UsageError(
                f"run {run_id} is {info.state.value}: only a failed or cancelled run can be retried"
            )
        api = self.client._run_api
        self._call(
            f"retrying run {run_id}",
            lambda: api.run_service_retry_run(run_id, _request_timeout=self._timeout),
            run_id=run_id,
        )
        self._forget(run_id)
        return self.get(run_id)

    def _check_step(self, run_id: str, step: str) -> RunInfo:
        info = self.get(run_id)
        names = [s.name for s in info.steps]
        if step not in names:
            raise StepNotFound(f"run {run_id} has no step {step!r} (steps: {', '.join(names) or 'none'})")
        return info

    def logs(self, run_id: str, step: str, offset: int = 0) -> LogChunk:
        """The step's pod log through the KFP UI's log endpoint (whole, cut at `offset` bytes here),
        where the deployment has one; else Unsupported with the run's page in the KFP UI."""
        info = self._check_step(run_id, step)
        if not self.capabilities.logs:
            raise Unsupported(
                f"step logs of runs on the KFP server are not readable through its API: see step "
                f"{step!r} in the KFP UI, {self.run_url(run_id)} (or point --host at the KFP UI's "
                "server, e.g. a port-forward of svc/ml-pipeline-ui, whose log endpoint this reads)"
            )
        done = info.step(step).state.terminal
        task = tasks_by_name(self._get_raw(run_id)).get(step)
        if task is None:  # not scheduled yet: no pod
            return LogChunk(text="", offset=offset, next_offset=offset, complete=done)
        detail = task.executor_detail
        pod = task.pod_name or (detail.main_job if detail is not None else "") or ""
        if not pod:
            note = (
                f"[jupyter-mlops] step {step!r} was taken from the cache: it ran no pod this time, "
                "so it has no log of its own\n"
            ).encode()
            return _cut(note, offset, final=True)
        try:
            data = self.pod_logs.read(run_id, pod, info.created_at, final=done)
        except BackendError as exc:
            if "404" not in str(exc):
                raise
            raise Unsupported(
                f"the log of step {step!r} is gone (its pod was removed and the deployment keeps no "
                f"log archive): see the run in the KFP UI, {self.run_url(run_id)}"
            ) from None
        return _cut(data, offset, final=done)

    def artifacts(self, run_id: str, step: str | None = None) -> list[ArtifactInfo]:
        """Each task's artifacts: from ML Metadata where it is readable (type, object-store URI,
        metadata; `local_artifact` downloads the bytes), else as the server lists them (names and
        KFP artifact ids only)."""
        run = self._get_raw(run_id)
        found: list[ArtifactInfo] = []
        values = self._step_values(to_run_info(run, "", with_steps=False))
        if values:  # from ML Metadata: types, object-store URIs, metadata
            for name, step_values in values.items():
                if step is not None and name != step:
                    continue
                for output, (kind, uri, metadata) in sorted(step_values.artifacts.items()):
                    artifact = ArtifactInfo(run_id, name, output, uri, kind, dict(metadata))
                    found.append(
                        self.downloads.for_views(artifact)
                        if self.capabilities.artifact_download
                        else artifact
                    )
            return found
        for name, task in tasks_by_name(run).items():
            if step is not None and name != step:
                continue
            for output, listed in sorted((task.outputs or {}).items()):
                for artifact_id in listed.artifact_ids or []:
                    uri = f"{self.conn.ui_host}/#/artifacts/{artifact_id}"
                    found.append(ArtifactInfo(run_id=run_id, step=name, name=output, uri=uri))
        return found

    def open_artifact(self, run_id: str, step: str, name: str, path: str | None = None) -> ArtifactFile:
        """The artifact's bytes (a file of it with `path`), from its local copy (artifact_files.py)."""
        self._check_step(run_id, step)
        if not self.capabilities.artifact_download:
            raise Unsupported(
                f"artifact {name!r} of step {step!r} is in the cluster's object store, which this backend "
                f"reads through the KFP UI's server only (--host is the API server alone): download it "
                f"from the KFP UI, {self.run_url(run_id)}"
            )
        listed = [a for a in self.artifacts(run_id, step) if a.name == name]
        if not listed:
            raise ArtifactNotFound(f"run {run_id} step {step!r} has no artifact {name!r}")
        copy = self.local_artifact(listed[-1])
        root = self.downloads.folder()
        return open_artifact_file([copy], root, run_id, step, name, path)

    def local_artifact(self, artifact: ArtifactInfo) -> ArtifactInfo:
        """`artifact` with `uri` a local copy of its bytes (downloaded once through the KFP UI's
        server); Unsupported naming it and the run's KFP UI page where that cannot be done."""
        if not self.capabilities.artifact_download:
            raise Unsupported(
                f"artifact {artifact.name!r} of step {artifact.step!r} is in the cluster's object store, "
                f"which this backend reads through the KFP UI's server only (--host is the API server "
                f"alone): download it from the KFP UI, {self.run_url(artifact.run_id)}"
            )
        return self.downloads.local_copy(artifact)

    def log_session_metric(self, name: str, value: float, step: int | None, at: float) -> str:
        raise Unsupported(
            f"log_metric({name!r}) in a plain notebook cell is not recorded on the kfp backend (the "
            "server keeps metrics of steps only): call it inside a %%component step, or switch to "
            "`%pipeline backend local` for notebook-session metrics"
        )

    def experiments(self) -> list[Experiment]:
        now = self._clock()
        kept = self._experiments
        if kept is not None and now - kept[0] < EXPERIMENTS_REFRESH_S:
            return list(kept[1])
        found = self.experiment_book.all()
        self._experiments = (now, found)
        return list(found)

    def events(self, run_id: str, after: int = 0) -> list[RunEvent]:
        return [e for e in events_of(self._get_raw(run_id)) if e.seq > after]

    def status(self) -> BackendStatus:
        try:
            health = self.reader.health()
            api = self.client._run_api
            kwargs: dict[str, Any] = {"page_size": 1, "_request_timeout": self._timeout}
            kwargs.update(self._namespace_kwargs())
            total = self._call(
                "counting runs", lambda: api.run_service_list_runs(filter=runs_filter(), **kwargs)
            )
            active = self._call(
                "counting active runs",
                lambda: api.run_service_list_runs(
                    filter=runs_filter(["PENDING", "RUNNING", "CANCELING"]), **kwargs
                ),
            )
        except BackendError as exc:
            return BackendStatus(
                backend=self.name,
                reachable=False,
                message=str(exc),
                location=self.conn.host,
                ui_url=self.ui_url,
            )
        mode = "multi-user" if health.get("multi_user") else "single-user"
        where = f", namespace {self.conn.namespace}" if self.conn.namespace else ""
        return BackendStatus(
            backend=self.name,
            reachable=True,
            message=f"Kubeflow Pipelines ({mode}{where}); UI: {self.conn.ui_host}",
            location=self.conn.host,
            runs=int(total.total_size or 0),
            active_runs=int(active.total_size or 0),
            ui_url=self.ui_url,
        )


def _cut(data: bytes, offset: int, *, final: bool) -> LogChunk:
    """The log from byte `offset`; while the step runs, only whole lines (no split UTF-8 character)."""
    tail = data[offset:]
    if not final and not tail.endswith(b"\n"):
        tail = tail[: tail.rfind(b"\n") + 1]
    end = offset + len(tail)
    return LogChunk(
        text=tail.decode("utf-8", "replace"),
        offset=offset,
        next_offset=end,
        complete=final and end >= len(data),
    )
