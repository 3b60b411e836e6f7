"""The run commands of `jupyter-mlops`: run, runs, status, logs, cancel."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from ..errors import CompileInterrupted, SubmitInterrupted
from ..models import RunState
from ..notebook.options import positive_int

_POLL_S = 0.2


def _backend(args: argparse.Namespace) -> Any:
    from ..backends.registry import get_backend

    given = (("host", getattr(args, "host", None)), ("namespace", getattr(args, "namespace", None)))
    return get_backend(args.backend, **{k: v for k, v in given if v})


def _pipeline(source: str, name: str | None) -> Any:
    if source.endswith(".ipynb"):
        from ..notebook.reader import pipeline_from_notebook

        return pipeline_from_notebook(source, name)
    return source  # a compiled YAML path: the API reads and checks it


def _follow(backend: Any, run_id: str) -> Any:
    """Print each step's state changes until the run ends; return the final RunInfo."""
    seq = 0
    while True:
        for event in backend.events(run_id, after=seq):
            seq = max(seq, event.seq)
            if event.kind == "step" and event.state not in ("PENDING",):
                print(
                    f"  {time.strftime('%H:%M:%S', time.localtime(event.time))}  {event.step}  {event.state}"
                )
        info = backend.get(run_id)
        if info.state.terminal:
            return info
        time.sleep(_POLL_S)


def cmd_run(args: argparse.Namespace) -> int:
    from .. import api
    from ..notebook.pipeline import parse_assignments

    pipeline = _pipeline(args.pipeline_source, args.pipeline)
    arguments = parse_assignments(args.param, getattr(pipeline, "params", None) and pipeline)
    backend = _backend(args)
    # Steps read relative paths from the notebook's folder, as its kernel does; a YAML's from here.
    source = Path(args.pipeline_source)
    working_dir = source.absolute().parent if source.suffix == ".ipynb" else Path.cwd()
    try:
        run = api.run(
            pipeline,
            arguments,
            backend=backend,
            experiment=args.experiment,
            name=args.name,
            cache=not args.no_cache,
            working_dir=working_dir,
            files=[f for given in args.files for f in given.split(",") if f] or None,
        )
    except SubmitInterrupted as exc:  # Ctrl+C while submitting: the submit was finished first
        print(
            f"\nInterrupted; run {exc.run_id} was submitted first and goes on. Follow it: jupyter-mlops "
            f"status {exc.run_id}; stop it: jupyter-mlops cancel {exc.run_id}",
            flush=True,
        )
        return 130
    except CompileInterrupted as exc:
        print(f"\n{exc.args[0]}", flush=True)
        return 130
    print(f"Run {run.id} ({run.info.name}) submitted to the {args.backend} backend.")
    if not args.wait:
        print(f"Follow it with: jupyter-mlops status {run.id}")
        return 0
    try:
        info = _follow(backend, run.id)
    except KeyboardInterrupt:  # Ctrl+C stops the waiting, not the run: say so, and how to go on
        print(
            f"\nStopped waiting; run {run.id} goes on. Follow it: jupyter-mlops status {run.id}; "
            f"stop it: jupyter-mlops cancel {run.id}",
            flush=True,
        )
        return 130
    from ..ir.step_sources import run_step_sources
    from ..render.svg import render_run_text
    from .run_report import run_report

    sources = run_step_sources(backend, run.id)
    print(render_run_text(info))
    print(run_report(info, backend.artifacts(run.id), {n: s.variables for n, s in sources.items()}))
    return 0 if info.state.value == "SUCCEEDED" else 1


def cmd_runs(args: argparse.Namespace) -> int:
    state = RunState(args.state) if args.state else None
    page = _backend(args).list_runs(experiment=args.experiment, state=state, limit=args.limit)
    if not page.runs:
        print("No runs yet." if args.experiment is None and state is None else "No runs match.")
        return 0
    from ..render.runs_text import runs_text

    print(runs_text(page.runs))
    if page.total > len(page.runs):
        print(f"({len(page.runs)} of {page.total} runs; --limit N for more)")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from ..render.svg import render_run_text

    backend = _backend(args)
    if args.run is None:  # the newest run, as `%pipeline status` in a new kernel
        newest = backend.list_runs(limit=1).runs
        if not newest:
            print("No runs yet.")
            return 0
        args.run = newest[0].id
    print(render_run_text(backend.get(args.run)))
    return 0


def cmd_logs(args: argparse.Namespace) -> int:
    from ..run_follow import print_logs

    print_logs(
        _backend(args),
        args.run,
        args.step,
        follow=args.follow,
        out=sys.stdout,
        executor_lines=args.executor_lines,
        note=sys.stderr,  # "printed nothing": not part of the log a script reads
    )
    return 0


def cmd_cancel(args: argparse.Namespace) -> int:
    info = _backend(args).cancel(args.run)
    print(f"Run {info.id} is {info.state.value}.")
    return 0


def add_commands(sub: Any) -> None:
    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--backend", default="local", help="a registered backend (local, or one a package adds)"
        )
        p.add_argument("--host", help="Kubeflow Pipelines API host (kfp backend; or KFP_HOST)")
        p.add_argument("--namespace", help="Kubeflow profile namespace (kfp backend, multi-user)")

    p = sub.add_parser("run", help="run a notebook's pipeline or a compiled YAML")
    p.add_argument("pipeline_source", metavar="NOTEBOOK.ipynb|PIPELINE.yaml")
    p.add_argument("-p", "--param", action="append", default=[], metavar="K=V")
    p.add_argument("--pipeline", help="which pipeline, when the notebook defines several")
    p.add_argument("--experiment")
    p.add_argument("--name")
    p.add_argument("--no-cache", action="store_true")
    p.add_argument(
        "--files", action="append", default=[], metavar="PATH", help="data files the steps read (kfp)"
    )
    p.add_argument("--wait", action="store_true", help="follow the run and print its DAG and metrics")
    common(p)
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("runs", help="list runs, newest first")
    p.add_argument("--experiment")
    p.add_argument(
        "--state", type=str.upper, choices=[s.value for s in RunState], help="only runs in this state"
    )
    p.add_argument("--limit", type=positive_int, default=20)
    common(p)
    p.set_defaults(func=cmd_runs)
    for name, func, helptext in (
        ("status", cmd_status, "a run's steps and metrics"),
        ("cancel", cmd_cancel, "cancel a run"),
    ):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("run", nargs="?" if name == "status" else None, help="id, unique id prefix or name")
        common(p)
        p.set_defaults(func=func)
    p = sub.add_parser("logs", help="a step's log")
    p.add_argument("run")
    p.add_argument("step")
    p.add_argument("--follow", action="store_true")
    p.add_argument("--executor-lines", action="store_true", help="also kfp's executor bookkeeping lines")
    common(p)
    p.set_defaults(func=cmd_logs)
