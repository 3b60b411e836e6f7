"""The detached runner of one local run: `python -m jupyter_mlops.backends.local_runner RUN_ID --home H`.

Started by `LocalBackend.submit` in a session of its own. It marks the run RUNNING with its pid,
heartbeats every second, executes the IR with the engine while writing what happens into the store,
turns a cancel request (state CANCELING, set by any process) into the engine's cancel event, and
records the final state. Its own stdout and stderr go to the run directory's runner.log.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from ..executor.leftovers import become_subreaper, only_children
from ..models import ArtifactInfo, MetricPoint, RunState, StepInfo
from ..store import RunStore
from ..store.logs import step_log_path
from ..store.step_batches import record_steps
from .last_words import LastWords
from .runner_liveness import kill_leftovers, process_start_time, this_host
from .thread_ahead import ThreadAhead

if TYPE_CHECKING:
    from ..executor.processes import ForkWorker
from .runner_writes import RetryGivenUp, patience, persist, say, say_traceback

HEARTBEAT_EVERY_S = 1.0
CANCEL_POLL_S = 0.2
FINAL_WRITE_FACTOR = 2.5  # the run's final state is waited for longer than a step's record


class StoreListener:
    """The engine's ExecutionListener: every report becomes a store write (thread-safe via the store),
    tried again while the store is busy or the disk full (runner_writes.persist); one that still fails
    raises, and the step it was for ends FAILED with the cause."""

    def __init__(self, store: RunStore, run_id: str, run_dir: Path, stopping: threading.Event) -> None:
        self.store = store
        self.run_id = run_id
        self.run_dir = run_dir
        self.stopping = stopping
        self._logs_made: Path | None = None  # the logs folder, once made

    def on_step(self, step: StepInfo) -> None:
        persist(lambda: self.store.record_step(self.run_id, step), f"record step {step.name!r}",
                stopping=self.stopping)  # fmt: skip

    def on_steps(self, steps: list[StepInfo]) -> None:
        """Many reports at once (the steps of a DAG as it opens): one store transaction."""
        persist(lambda: record_steps(self.store, self.run_id, steps), f"record {len(steps)} steps",
                stopping=self.stopping)  # fmt: skip

    def on_artifact(self, artifact: ArtifactInfo) -> None:
        artifact.run_id = self.run_id
        persist(lambda: self.store.record_artifact(artifact), f"record artifact {artifact.name!r}",
                stopping=self.stopping)  # fmt: skip

    def on_metric(self, metric: MetricPoint) -> None:
        metric.run_id = self.run_id
        persist(lambda: self.store.record_metric(metric), f"record metric {metric.name!r}",
                stopping=self.stopping)  # fmt: skip

    def on_metrics(self, metrics: list[MetricPoint]) -> None:
        """A batch read from a step's metrics file: one store transaction."""
        for metric in metrics:
            metric.run_id = self.run_id
        persist(lambda: self.store.record_metrics(metrics), f"record {len(metrics)} metric point(s)",
                stopping=self.stopping)  # fmt: skip

    def log_path(self, step: str) -> Path:
        path = step_log_path(self.run_dir, step)
        if path.parent != self._logs_made:  # (once a run: the step makes its log's folder again if gone)
            path.parent.mkdir(parents=True, exist_ok=True)
            self._logs_made = path.parent
        return path


def watch(store: RunStore, run_id: str, cancel: threading.Event, done: threading.Event) -> None:
    """Heartbeat, and set `cancel` once the run is CANCELING (or was finalized by someone else)."""
    last_beat = 0.0
    while not done.wait(CANCEL_POLL_S):
        try:
            now = time.monotonic()
            if now - last_beat >= HEARTBEAT_EVERY_S:
                store.heartbeat(run_id)
                last_beat = now
            state = store.run_state(run_id)
        except Exception:  # a busy or briefly unavailable store: try again next tick, keep running
            say_traceback()  # never raises: a full disk must not end the heartbeat thread
            continue
        if state is RunState.CANCELING or state.terminal:
            cancel.set()


class Stop:
    """Why the run must stop early: a cancel request, or SIGTERM to this process (a shutdown, `kill`)."""

    def __init__(self) -> None:
        self.cancel = threading.Event()
        self.terminated = threading.Event()

    def on_sigterm(self, signum: int, frame: FrameType | None) -> None:
        self.terminated.set()
        self.cancel.set()


def execute_run(
    store: RunStore,
    run_id: str,
    home: Path,
    max_workers: int | None,
    stop: Stop,
    handed: Handed | None = None,
    cleanups: list[Callable[[], None]] | None = None,
) -> tuple[RunState, str | None]:
    """Run the run's pipeline; its final state and error. `cleanups`: where the engine leaves what it
    would delete at its end (the steps' scratch folder), for after the final state is recorded."""
    record = store.runner_record(run_id)
    spec_path = Path(record["spec_path"])
    run_dir = spec_path.parent
    cancel = stop.cancel
    done = threading.Event()
    watcher = handed.heartbeat if handed and handed.heartbeat else ThreadAhead("heartbeat")
    watcher.give(lambda: watch(store, run_id, cancel, done))
    try:
        from ..executor.engine import ExecutionOptions, execute
        from ..ir.documents import read_spec

        documents = handed.documents if handed and handed.documents is not None else read_spec(spec_path)
        options = ExecutionOptions(
            workdir=run_dir,
            cache_dir=home / "cache",
            cache=bool(record["cache"]),
            max_workers=max_workers or os.cpu_count() or 1,
            run_id=run_id,
            # runs recorded before working directories were kept worked in their run directory
            step_cwd=Path(record["working_dir"]) if record.get("working_dir") else run_dir,
            worker=handed.worker if handed else None,
            cleanups=cleanups,
        )
        listener = StoreListener(store, run_id, run_dir, stop.terminated)
        state, error = execute(documents, record["parameters"], options, listener, cancel)
        if stop.terminated.is_set() and state is RunState.CANCELED:
            error = f"runner process {os.getpid()} received SIGTERM; its running steps were stopped"
        return RunState(state), error
    except Exception as exc:
        say_traceback()
        return (
            RunState.FAILED,
            f"the local runner failed: {type(exc).__name__}: {exc} (see {run_dir}/runner.log)",
        )
    finally:
        done.set()
        watcher.join()


@dataclass
class Handed:
    """What a runner forked by the runner service is handed besides the run id: the IR as documents
    (no re-read of the run's file) and a step worker already forked from the warm service."""

    documents: list[dict[str, Any]] | None = None
    worker: ForkWorker | None = None
    service: str | None = None  # the service's socket, recorded with the runner
    store: RunStore | None = None  # the store opened ahead (a spare's), if it is the run's
    heartbeat: ThreadAhead | None = None  # the heartbeat's thread, started ahead (a spare's)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jupyter_mlops.backends.local_runner")
    parser.add_argument("run_id")
    parser.add_argument("--home", required=True, type=Path)
    parser.add_argument("--artifact-root", type=Path, default=None)
    parser.add_argument("--max-workers", type=int, default=None)
    args = parser.parse_args(argv)
    return run(args.run_id, args.home, args.artifact_root, args.max_workers)


def run(
    run_id: str,
    home: Path,
    artifact_root: Path | None,
    max_workers: int | None,
    handed: Handed | None = None,
) -> int:
    """Run `run_id` in this process to its end; the process's exit code."""
    stop = Stop()
    signal.signal(signal.SIGTERM, stop.on_sigterm)  # first: a SIGTERM while starting cancels too
    subreaper = become_subreaper()  # what the run starts stays in this process's tree (leftovers.py)
    # a run handed over by the service: its submitter proved the folders writable moments ago
    store = handed.store if handed is not None and handed.store is not None else None
    if store is None or store.home != home or store.runs_root != (artifact_root or home / "runs"):
        store = RunStore(home, artifact_root=artifact_root, probe=handed is None)
    started = process_start_time(os.getpid())
    service = handed.service if handed else None
    state = persist(
        lambda: store.mark_running(run_id, os.getpid(), this_host(), started=started, service=service),
        "mark the run RUNNING",
    )
    if state is RunState.RUNNING and stop.terminated.is_set():
        state = RunState.CANCELING
    if state is not RunState.RUNNING:  # cancelled before this process got going, or already finished
        if state is RunState.CANCELING:
            persist(lambda: store.finish_run(run_id, RunState.CANCELED), "record the cancel")
        return 0
    by = f" (for the runner service {service})" if service else ""
    say(f"runner {os.getpid()}{by} started run {run_id} at {time.ctime()}")
    words = LastWords(store.run_dir(run_id))
    worker = handed.worker if handed else None
    # the steps' scratch folder is deleted after the final state is recorded, off the run's wall (a
    # runner that dies before leaves it to the next run's sweep of dead processes' folders: scratch.py)
    cleanups: list[Callable[[], None]] = []
    try:
        final, error = execute_run(store, run_id, home, max_workers, stop, handed, cleanups)
    except BaseException as exc:
        words.say(f"runner {os.getpid()} crashed: {type(exc).__name__}: {exc}")
        _sweep(run_id, worker, subreaper)
        _clean_up(cleanups)
        raise
    # Nothing of the run runs anywhere when the worker's steps all told that they left nothing and this
    # subreaper's only child is that worker: the final state is then recorded first, and the worker's
    # goodbye and teardown come after it (`finally` below), not before.
    quiet = worker is not None and subreaper and only_children({worker.left_nothing() or -1})
    if not quiet:
        _sweep(run_id, worker, subreaper)
    try:
        if final is not RunState.FAILED and store.run_state(run_id) is RunState.CANCELING:
            final = RunState.CANCELED
        # Space may come back (a disk being cleared): the final state is worth waiting longer for.
        persist(lambda: store.finish_run(run_id, final, error), f"record the run as {final.value}",
                stopping=stop.terminated, wait=FINAL_WRITE_FACTOR * patience())  # fmt: skip
    except RetryGivenUp as exc:
        # Readers see this process gone and finalize the run as died (runner_liveness).
        words.say(f"runner {os.getpid()} gave up: {exc}; the run ended {final.value}: {error}")
        say(f"runner {os.getpid()} gives up on run {run_id}: {exc}; it ended {final.value} {error}")
        return 75  # EX_TEMPFAIL
    finally:
        words.close()
        store.close()
        if quiet and worker is not None:
            worker.close()
        _clean_up(cleanups)
    say(f"runner {os.getpid()} finished run {run_id}: {final.value} {error or ''}")
    return 0


def _clean_up(cleanups: list[Callable[[], None]]) -> None:
    for cleanup in cleanups:
        try:
            cleanup()
        except Exception:
            say_traceback()


def _sweep(run_id: str, worker: ForkWorker | None, subreaper: bool) -> None:
    """Close the step worker, then kill anything a step started that escaped its step's end, looked for in
    every process by the run's tag; unless nothing can have: this subreaper's only children are its worker
    and steps that said they left nothing (processes.ForkWorker.close), and so nothing it started runs."""
    if worker is not None:
        worker.close()
    expected = set() if worker is None else worker.left_only
    if not (subreaper and expected is not None and only_children(expected)):
        kill_leftovers(run_id)


if __name__ == "__main__":
    sys.exit(main())
