"""The embedded local backend: runs compiled KFP IR on this machine, in detached runner processes.

`submit` records the run and its planned steps, writes the IR to the run's directory and starts
`python -m jupyter_mlops.backends.local_runner RUN_ID` in a session of its own, then returns: the run
goes on if the kernel that started it restarts or dies. Every read checks that the runners of
unfinished runs are alive, so a runner killed with SIGKILL leaves its run FAILED with a reason.

On disk (`home` defaults to `$JUPYTER_MLOPS_HOME`, else `<jupyter data dir>/mlops`):

    home/store.db                     runs, steps, edges, metrics, artifacts, events (SQLite, WAL)
    home/cache/                       the executor's step cache and venvs, shared by all runs
    <artifact root = home/runs>/<id>/ pipeline.yaml (the IR text as submitted) or pipeline.json (the
                                      IR submitted as documents), runner.log,
                                      logs/<step>.log, artifacts/<step>/<output>/..., tmp/

Steps work in the run's working directory (`submit(working_dir=...)`, stored with the run): the
notebook's folder, so `pd.read_csv('data/train.csv')` finds what it finds in the kernel. What the
engine writes (artifacts, logs) still goes under the run's directory.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import BackendError, StepNotFound, StoreError, UsageError
from ..home import mlops_home
from ..ir.documents import Documents, bind_arguments, pipeline_name, spec_documents, write_spec
from ..ir.kept_documents import recall, settle
from ..ir.spec import PipelineIR
from ..models import (
    ArtifactFile,
    ArtifactInfo,
    BackendStatus,
    Capabilities,
    Experiment,
    LogChunk,
    MetricPoint,
    RunEvent,
    RunInfo,
    RunPage,
    RunState,
)
from ..store import RunStore, new_run_id
from ..store.logs import cached_log_chunk, log_gone, made_from_record, read_log, step_log_path
from ..store.run_notify import RunWatch
from ..this_process import pid
from . import last_words, runner_liveness, service_client, session_points
from .cached_runs import resolve_from_cache
from .local_artifacts import open_artifact_file

# Metrics logged in plain notebook cells go to a pseudo-run of kind "session" in this experiment: one per
# Python process (kernel) and backend, named after the notebook (`JPY_SESSION_NAME`, which Jupyter sets
# for kernels) and its start time, recorded as SUCCEEDED (a record, not something running), so it
# lists, compares and charts like any run.
SESSION_EXPERIMENT = "Notebook sessions"

STALE_AFTER_S = 10.0  # a runner heartbeats every second; this much silence means it is gone


def _runner_pythonpath() -> str | None:
    """PYTHONPATH for the runner, so it imports the same jupyter_mlops as this process.

    Only when this copy is not installed in site-packages (a checkout on sys.path): putting
    site-packages itself on PYTHONPATH would let its modules shadow the standard library.
    """
    import site

    root = Path(__file__).resolve().parents[2]
    installed = {Path(p).resolve() for p in [*site.getsitepackages(), site.getusersitepackages()]}
    current = os.environ.get("PYTHONPATH")
    if root in installed:
        return current
    return os.pathsep.join(p for p in (str(root), current) if p)


def _reap(proc: subprocess.Popen[bytes], log: Path) -> None:
    """Wait for a runner this process started; note in its log how it ended if not cleanly (a
    runner killed by a signal cannot say so itself)."""
    code = proc.wait()
    if code != 0:
        how = f"killed by signal {-code}" if code < 0 else f"exited with code {code}"
        try:
            with open(log, "a") as f:
                f.write(f"runner process {proc.pid} {how} at {time.ctime()}\n")
        except OSError:
            pass


class LocalBackend:
    name = "local"
    capabilities = Capabilities(
        logs=True, artifact_download=True, cancel=True, session_metrics=True, working_dir=True, schedules=True
    )

    def __init__(
        self,
        home: Path | None = None,
        max_workers: int | None = None,
        *,
        artifact_root: Path | None = None,
        stale_after: float = STALE_AFTER_S,
    ) -> None:
        self.home = Path(home) if home is not None else mlops_home()
        self.max_workers = max_workers
        self.stale_after = stale_after
        self.store = RunStore(self.home, artifact_root=artifact_root)
        self._session: tuple[int, str] | None = None  # (pid, run id) of this process's notebook session
        self._session_lock = threading.Lock()

    def close(self) -> None:
        self.store.close()

    # -- submit -------------------------------------------------------------------------------------

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
        from ..executor.engine import plan

        cwd = Path(os.getcwd() if working_dir is None else working_dir).expanduser().absolute()
        if not cwd.is_dir():
            raise UsageError(
                f"the run's working directory {str(working_dir)!r} is not a directory: give the folder "
                "whose files the steps read by relative paths (the notebook's folder)"
            )
        documents = spec_documents(pipeline_spec)
        kept = None if isinstance(pipeline_spec, str) else recall(documents)  # a recent run's documents
        ir = kept.ir() if kept else PipelineIR(documents)  # read once: the arguments, the plan, the cache
        parameters = bind_arguments(documents, arguments, ir=ir)  # bad arguments fail here, before any record
        steps, edges = plan(documents, ir=ir)
        pipeline = pipeline_name(documents)
        run_id = new_run_id()
        run_dir = self.store.run_dir(run_id)
        try:
            run_dir.mkdir(parents=True)  # its logs folder comes with a runner: a cached run has no log files
            # the compiler's text exactly as it was, or the documents as JSON (no YAML round trip)
            spec_path, spec_json = write_spec(
                documents, run_dir, pipeline_spec if isinstance(pipeline_spec, str) else None, kept
            )
        except OSError as exc:
            raise StoreError(
                f"cannot write the run directory {run_dir}: {exc.strerror or exc}. Free some space or "
                "choose another artifact root (JUPYTER_MLOPS_HOME)."
            ) from exc
        record: dict[str, Any] = {
            "run_id": run_id,
            "name": name or f"{pipeline}-{time.strftime('%Y%m%d-%H%M%S')}",
            "experiment": experiment,
            "pipeline_name": pipeline,
            "parameters": parameters,
            "steps": steps,
            "edges": edges,
            "spec_path": spec_path,
            "cache": cache,
            "working_dir": cwd,
        }
        try:
            if cache and self._resolve_from_cache(record, documents, run_dir, ir):
                return self.store.get_run(run_id)  # every step was cached: finished, no runner needed
            (run_dir / "logs").mkdir(exist_ok=True)
            self.store.create_run(**record)
        except BaseException:
            shutil.rmtree(run_dir, ignore_errors=True)  # no directory without its record
            raise
        self._start_runner(run_id, run_dir, documents, spec_json)
        settle()  # the remembered copy of new documents, decoded now that the runner has them
        return self.store.get_run(run_id)

    def _resolve_from_cache(
        self, record: dict[str, Any], documents: Documents, run_dir: Path, ir: PipelineIR | None = None
    ) -> bool:
        """Record the run finished here if the step cache holds all of it (cached_runs.py)."""
        cache_dir = self.home / "cache"
        return resolve_from_cache(self.store, record, documents, run_dir, cache_dir, self.max_workers, ir)

    def _start_runner(
        self,
        run_id: str,
        run_dir: Path,
        documents: Sequence[Mapping[str, Any]] | None = None,
        documents_json: str | None = None,
    ) -> None:
        """Hand the run to the warm runner service (service_client.py), or else start a runner process
        of its own for it. `documents_json`: the documents' JSON just written to its pipeline.json,
        handed over as it is (not encoded again)."""
        command = [
            sys.executable,
            "-m",
            "jupyter_mlops.backends.local_runner",
            run_id,
            "--home",
            str(self.home),
        ]
        if self.store.runs_root != self.home / "runs":
            command += ["--artifact-root", str(self.store.runs_root)]
        if self.max_workers is not None:
            command += ["--max-workers", str(self.max_workers)]
        env = dict(os.environ)
        pythonpath = _runner_pythonpath()
        if pythonpath:
            env["PYTHONPATH"] = pythonpath
        env[runner_liveness.RUN_MARKER_ENV] = run_id  # finds its steps if the runner is killed
        root = self.store.runs_root if self.store.runs_root != self.home / "runs" else None
        handed = service_client.hand_over(
            self.home, run_id, run_dir, artifact_root=root, max_workers=self.max_workers, env=env,
            documents=documents, documents_json=documents_json,
        )  # fmt: skip
        if handed is not None:
            self.store.set_runner(run_id, handed.pid, runner_liveness.this_host(), started=handed.started,
                                  service=handed.socket)  # fmt: skip
            return
        try:
            with open(run_dir / "runner.log", "ab") as log:
                proc = subprocess.Popen(
                    command,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # outlives the kernel; no terminal signals reach it
                    close_fds=True,
                    cwd=run_dir,
                    env=env,
                )
        except OSError as exc:
            message = f"could not start the runner process: {exc}"
            self.store.finish_run(run_id, RunState.FAILED, message)
            raise BackendError(f"run {run_id}: {message}") from exc
        started = runner_liveness.process_start_time(proc.pid)
        self.store.set_runner(run_id, proc.pid, runner_liveness.this_host(), started=started)
        # Reap the child when it ends so it does not linger as a zombie of a long-lived kernel.
        threading.Thread(target=_reap, args=(proc, run_dir / "runner.log"), daemon=True).start()

    # -- liveness -----------------------------------------------------------------------------------

    def _check_runner(self, ref: str) -> str:
        """The run's full id (`ref` may be a unique prefix), after finalizing the run if its runner is
        gone (FAILED, or CANCELED when a cancel was pending). RunNotFound for an unknown run."""
        run_id = self.store.resolve_run_id(ref)
        record = self.store.runner_record(run_id)
        state = RunState(record["state"])
        if state.terminal:
            return run_id
        reason = runner_liveness.death_reason(record, stale_after=self.stale_after)
        if reason is None:
            return run_id
        if state is RunState.CANCELING:
            self.store.finish_run(run_id, RunState.CANCELED, None)
        else:
            run_dir = Path(record["spec_path"]).parent if record.get("spec_path") else None
            words = last_words.heard(run_dir) if run_dir is not None else None
            reason += f"; its last words: {words}" if words else ""
            log = f"; its output: {run_dir / 'runner.log'}" if run_dir is not None else ""
            self.store.finish_run(run_id, RunState.FAILED, reason + log)
        # Only a runner that got going (it records its pid) can have left steps; one that never reported a
        # pid may still be starting, and must not be killed by a reader that gave up on it.
        if record.get("pid") and record.get("host") == runner_liveness.this_host():
            runner_liveness.kill_leftovers(run_id)
        return run_id

    # -- reads --------------------------------------------------------------------------------------

    def watch(self, run_id: str | None = None, *, states_only: bool = False) -> RunWatch:
        """Woken when run `run_id` (None: any run) changes, by whichever process changed it (run_notify);
        `states_only`: only when the run's own state does."""
        return RunWatch(self.home, run_id, states_only=states_only)

    def get(self, run_id: str) -> RunInfo:
        session_points.flush_for(self.home)  # this process reads what it logged
        return self.store.get_run(self._check_runner(run_id))

    def reread_steps(self, previous: RunInfo, steps: Collection[str]) -> RunInfo:
        """`previous` (from `get`) with the run's own row and the named steps read again, the others
        kept (store/run_refresh.py): what a live view reads per burst of changes."""
        from ..store.run_refresh import refreshed_run

        self._check_runner(previous.id)
        return refreshed_run(self.store, previous, steps)

    def run_state(self, run_id: str) -> RunState:
        """The run's state alone (what `Run.wait` checks while it waits): one row, not its steps."""
        return self.store.run_state(self._check_runner(run_id))

    def list_runs(
        self,
        *,
        experiment: str | None = None,
        state: RunState | None = None,
        limit: int = 50,
        offset: int = 0,
        cursor: str | None = None,
    ) -> RunPage:
        session_points.flush_for(self.home)
        page = self.store.list_runs(
            experiment=experiment, state=state, limit=limit, offset=offset, cursor=cursor
        )
        unfinished = [r.id for r in page.runs if not r.state.terminal]
        if not unfinished:
            return page
        for run_id in unfinished:
            self._check_runner(run_id)
        return self.store.list_runs(
            experiment=experiment, state=state, limit=limit, offset=offset, cursor=cursor
        )

    def cancel(self, run_id: str) -> RunInfo:
        run_id = self.store.resolve_run_id(run_id)
        self.store.request_cancel(run_id)
        self._check_runner(run_id)  # a dead runner cannot finish the cancel: do it here
        return self.store.get_run(run_id)

    def run_dir(self, run_id: str) -> Path:
        spec_path = self.store.runner_record(self.store.resolve_run_id(run_id))["spec_path"]
        return Path(spec_path).parent if spec_path else self.store.run_dir(run_id)

    def logs(self, run_id: str, step: str, offset: int = 0) -> LogChunk:
        run = self.get(run_id)
        run_id = run.id
        names = [s.name for s in run.steps]
        if step not in names:
            raise StepNotFound(f"run {run_id} has no step {step!r} (steps: {', '.join(names) or 'none'})")
        state = run.step(step).state
        finished = state.terminal
        path = step_log_path(self.run_dir(run_id), step)
        if made_from_record(path, state):  # a run resolved from the cache in the submitting process
            return cached_log_chunk(run.step(step).cache_key, offset)
        if log_gone(path, state):
            text = (
                f"[jupyter-mlops] the log of step {step!r} is gone: its file no longer exists "
                "(was the run's folder removed?)\n"
            )
            return LogChunk(text=text, offset=offset, next_offset=offset, complete=True, missing=True)
        text, next_offset = read_log(path, offset, final=finished)
        size = path.stat().st_size if path.exists() else 0
        return LogChunk(
            text=text, offset=offset, next_offset=next_offset, complete=finished and next_offset >= size
        )

    def artifacts(self, run_id: str, step: str | None = None) -> list[ArtifactInfo]:
        return self.store.artifacts(self.store.resolve_run_id(run_id), step)

    def experiments(self) -> list[Experiment]:
        return self.store.experiments()

    def events(self, run_id: str, after: int = 0) -> list[RunEvent]:
        session_points.flush_for(self.home)
        return self.store.events(self._check_runner(run_id), after)

    def open_artifact(self, run_id: str, step: str, name: str, path: str | None = None) -> ArtifactFile:
        run = self.store.resolve_run_id(run_id)
        return open_artifact_file(
            self.store.artifacts(run, step), self.store.runs_root, run, step, name, path
        )

    def log_session_metric(self, name: str, value: float, step: int | None, at: float) -> str:
        run_id = self._session_run_id()
        point = MetricPoint(run_id, None, name, value, index=step, time=at)
        session_points.for_home(self.home).add(point)  # written in batches, read back at once here
        return run_id

    def _session_run_id(self) -> str:
        """This process's notebook-session pseudo-run (kind "session"), made on first use; a forked
        child (a step forked from a kernel) starts its own."""
        with self._session_lock:
            if self._session is None or self._session[0] != pid():
                notebook = Path(os.environ.get("JPY_SESSION_NAME") or "python").stem or "python"
                run_id = new_run_id()
                self.store.create_run(
                    run_id=run_id,
                    name=f"session-{notebook}-{time.strftime('%Y%m%d-%H%M%S')}",
                    experiment=SESSION_EXPERIMENT,
                    pipeline_name="",
                    parameters={},
                    kind="session",
                    state=RunState.SUCCEEDED,
                )
                self._session = (pid(), run_id)
            return self._session[1]

    def status(self) -> BackendStatus:
        for record in self.store.active_runner_records():
            self._check_runner(record["id"])
        counts = self.store.counts()
        active = sum(counts.get(s.value, 0) for s in RunState if not s.terminal)
        return BackendStatus(
            backend=self.name,
            reachable=True,
            location=str(self.home),
            runs=sum(counts.values()),
            active_runs=active,
            max_workers=self.max_workers or os.cpu_count() or 1,
            runner=service_client.describe(self.home),
        )
