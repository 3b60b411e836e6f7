"""`jupyter-mlops sweep` and `jupyter-mlops sweeps`: a sweep from the shell, driven in the foreground.

jupyter-mlops sweep NOTEBOOK.ipynb|PIPELINE.yaml lr=0.01,0.1 depth=2..8 --metric acc [--goal max]
                    [--parallel N] [--random K | --search tpe --trials K] [--name N]
                    [--early-stop patience=N,target=V]
jupyter-mlops sweep --resume NAME      go on with an interrupted sweep (Ctrl+C stops one)
jupyter-mlops sweep --best NAME        the best trial's parameters, as JSON
jupyter-mlops sweep --stop NAME        stop a sweep driven elsewhere
jupyter-mlops sweeps                   list the sweeps
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ..errors import UsageError


def _backend(args: argparse.Namespace) -> Any:
    from ..backends.registry import get_backend

    return get_backend(args.backend)


def cmd_sweep(args: argparse.Namespace) -> int:
    from ..sweeps import options
    from ..sweeps.handle import get_sweep

    backend = _backend(args)
    if args.best or args.stop:
        name = args.best or args.stop
        handle = get_sweep(name, backend=backend)
        if args.stop:
            handle.stop()
            print(f"Sweep {handle.name!r} is {handle.state}.")
            return 0
        print(json.dumps(handle.best_params, sort_keys=True))
        return 0
    if args.resume:
        handle = options.resume(args, args.resume, backend=backend)
    else:
        if not args.source:
            raise UsageError(
                "jupyter-mlops sweep: give a notebook or a compiled pipeline YAML (or --resume NAME)"
            )
        from .runs import _pipeline

        source = Path(args.source)
        pipeline = _pipeline(args.source, args.pipeline)
        folder = source.absolute().parent if source.suffix == ".ipynb" else Path.cwd()
        handle = options.start(args, pipeline, args.ranges, backend=backend, working_dir=folder)
    printed: set[int] = set()

    def progress() -> None:
        for t in handle.trials:
            if t.number not in printed and t.state in ("SUCCEEDED", "FAILED"):
                printed.add(t.number)
                shown = ", ".join(f"{k}={v}" for k, v in t.params.items())
                outcome = f"{handle.metric}={t.value:g}" if t.value is not None else f"failed: {t.error}"
                print(f"  trial {t.number}  {shown}  {outcome}", flush=True)

    handle._listeners.append(progress)
    print(f"Sweep {handle.name!r}: trials are runs in experiment {handle.name!r}", flush=True)
    try:
        handle.wait()
    except KeyboardInterrupt:
        handle.stop()
        print(f"Stopped; resume with: jupyter-mlops sweep --resume {handle.name}")
        return 130
    print(handle.summary())
    return 0 if handle.best is not None else 1


def cmd_sweeps(args: argparse.Namespace) -> int:
    from ..sweeps.handle import _records
    from ..sweeps.view import sweeps_table

    print(repr(sweeps_table(_records(_backend(args)))))
    return 0


def add_commands(sub: Any) -> None:
    p = sub.add_parser("sweep", help="run a pipeline over a grid, random or TPE search of its parameters")
    p.add_argument("source", nargs="?", help="a notebook (.ipynb) or a compiled pipeline YAML")
    p.add_argument("ranges", nargs="*", help="NAME=a,b,c  NAME=LOW..HIGH[:STEP|:log]  NAME=value")
    from ..sweeps.options import add_arguments

    add_arguments(p)
    p.add_argument("--resume", metavar="NAME")
    p.add_argument("--best", metavar="NAME")
    p.add_argument("--stop", metavar="NAME")
    p.add_argument("--backend", default="local")
    p.set_defaults(func=cmd_sweep)
    p = sub.add_parser("sweeps", help="list the sweeps")
    p.add_argument("--backend", default="local")
    p.set_defaults(func=cmd_sweeps)
