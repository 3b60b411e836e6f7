"""Execute compiled KFP IR on this machine with kfp's own executor: the seam the local backend calls.

`execute` runs a pipeline to the end (see `scheduler.py`); each container step runs in a process
forked from a pre-warmed worker (`worker.py`), or in a plain subprocess for a venv or where there is
no fork. Step names are described in `graph.py`.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import MlopsError
from ..ir.graph import plan_of
from ..ir.spec import PipelineIR
from ..ir.values import pipeline_arguments
from ..models import RunState
from . import processes
from .cache import StepCache
from .prelude import Environments
from .run_files import RunFiles
from .scheduler import Scheduler
from .scratch import Scratch
from .steps import Listener, StepContext

ExecutionListener = Listener


@dataclass
class ExecutionOptions:
    # this run's directory: artifacts under workdir/artifacts/<step>/<output>, temp files under workdir/tmp
    workdir: Path
    cache_dir: Path | None  # the shared cache root (step cache and venvs); None: no step cache
    cache: bool = True  # False: a --no-cache run neither reads nor writes the step cache
    max_workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    python: str = sys.executable  # interpreter for steps whose packages it satisfies
    run_id: str = ""  # copied into ArtifactInfo.run_id and MetricPoint.run_id
    fork: bool = True  # use the pre-warmed forking worker where the OS has fork (Linux)
    # every step's working directory (the notebook's folder: relative paths in the step's code are
    # found there, as in its kernel); None: the directory `execute` is called from. Part of the cache key.
    step_cwd: Path | None = None
    # a step worker already started (forked from the warm runner service: warm_worker.py), closed by the
    # caller once it has done with the run (backends/local_runner.py); None: start one, closed at the end
    worker: processes.ForkWorker | None = None
    # True: only look steps up in the cache, start no process; the first step that would have to run
    # (a miss, or caching off for it) cancels the rest. What the submitting process tries before it hands
    # a run to a runner (backends/cached_runs.py): a run found whole in the cache needs none.
    cache_only: bool = False
    # steps running at once, those waiting (sleep, I/O, a child process) included: None for
    # core_slots.WAITING_FACTOR x max_workers; max_workers (or less) lets no step overlap a waiting one
    max_running: int | None = None
    # where the run's clean-up of its steps' working files goes (the scratch folder's removal) when the
    # caller does it once it has recorded the run's end (backends/local_runner.py: a 1,000-step run's
    # folder took ~10 ms to delete, between its last step and its final state); None: `execute` does it
    cleanups: list[Callable[[], None]] | None = None


def plan(
    spec: Sequence[Mapping[str, Any]], *, ir: PipelineIR | None = None
) -> tuple[list[str], list[tuple[str, str]]]:
    """Steps and edges (upstream, downstream) known before the run, with the names `execute` reports
    (`ir`: `spec` read already, as `PipelineIR(spec)`)."""
    return plan_of(ir or PipelineIR(spec))


def execute(
    spec: Sequence[Mapping[str, Any]],
    arguments: Mapping[str, Any],
    options: ExecutionOptions,
    listener: ExecutionListener,
    cancel: threading.Event,
    *,
    ir: PipelineIR | None = None,
) -> tuple[RunState, str | None]:
    """Run the pipeline to the end; the final run state and, unless it succeeded, why (`ir`: `spec`
    read already, as `PipelineIR(spec)`)."""
    try:
        ir = ir or PipelineIR(spec)
        values = pipeline_arguments(ir.root, arguments)
    except MlopsError as e:
        return RunState.FAILED, str(e)
    workdir = options.workdir.absolute()  # steps work elsewhere (step_cwd): their paths must not be relative
    worker = options.worker or (
        processes.ForkWorker(options.python, workdir / "tmp" / "worker.log")
        if options.fork and not options.cache_only and processes.fork_supported()
        else None
    )
    if worker is not None:
        try:
            worker.expected_steps = len(plan_of(ir)[0])
        except MlopsError:  # a plan too big to list: the scheduler says so; spares as before meanwhile
            worker.expected_steps = None
        worker.start()  # its kfp import overlaps with the cache lookups of the first steps
    cache_root = options.cache_dir
    # the steps' modules, outputs and metrics files (a lookup in the cache only writes none)
    scratch = Scratch(workdir / "tmp", owned=False) if options.cache_only else Scratch.for_run(workdir)
    step_cwd = Path(options.step_cwd if options.step_cwd is not None else os.getcwd()).absolute()
    ctx = StepContext(
        ir=ir,
        workdir=workdir,
        run_id=options.run_id,
        python=options.python,
        cwd=step_cwd,
        listener=listener,
        cancel=cancel,
        environments=Environments(options.python, (cache_root or workdir / "tmp") / "venvs"),
        cache=StepCache(cache_root) if cache_root is not None and options.cache else None,
        worker=worker,
        cache_only=options.cache_only,
        files=RunFiles(scratch.folder),
    )
    try:
        return Scheduler(ctx, max(1, options.max_workers), options.max_running).run(values)
    finally:
        if worker is not None and options.worker is None:
            worker.close()
        if options.cleanups is not None:
            options.cleanups.append(scratch.remove)
        else:
            scratch.remove()
