"""`jupyter-mlops sweep` and `jupyter-mlops sweeps`: a sweep from the shell, driven in the foreground.

jupyter-mlops sweep NOTEBOOK.ipynb|PIPELINE.yaml lr=0.01,0.1 depth=2..8 --metric acc [--goal max]
                    [--parallel N] [--random K | --search tpe --trials K] [--name N]
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
    from ..sweeps.handle import get_sweep, sweep

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
        handle = sweep(name=args.resume, resume=True, trials=args.trials, parallel=args.parallel,
                       backend=backend, wait=False)  # fmt: skip
    else:
        if not args.source:
            raise UsageError(
                "jupyter-mlops sweep: give a notebook or a compiled pipeline YAML (or --resume NAME)"
            )
        from ..sweeps.space import parse_items
        from .runs import _pipeline

        source = Path(args.source)
        pipeline = _pipeline(args.source, args.pipeline)
        search = args.search or ("random" if args.random else "grid")
        handle = sweep(
            pipeline,
            parse_items(args.ranges),
            metric=args.metric,
            goal=args.goal,
            search=search,
            trials=args.random or args.trials,
            parallel=args.parallel,
            name=args.name,
            seed=args.seed,
            backend=backend,
            working_dir=source.absolute().parent if source.suffix == ".ipynb" else Path.cwd(),
            text_space=True,
            wait=False,
        )
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
    p.add_argument("--metric", help="the metric to optimize: NAME or STEP.NAME")
    p.add_argument("--goal", choices=["max", "min"], default="max")
    p.add_argument("--parallel", type=int, help="trials running at once (default 2)")
    p.add_argument("--random", type=int, metavar="K", help="K random trials (Optuna)")
    p.add_argument("--search", choices=["grid", "random", "tpe"])
    p.add_argument("--trials", type=int, help="how many trials (TPE: default 20; a grid: a cap)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--name", help="the sweep's name (and its experiment's)")
    p.add_argument("--pipeline", help="which pipeline, when the notebook defines several")
    p.add_argument("--resume", metavar="NAME")
    p.add_argument("--best", metavar="NAME")
    p.add_argument("--stop", metavar="NAME")
    p.add_argument("--backend", default="local")
    p.set_defaults(func=cmd_sweep)
    p = sub.add_parser("sweeps", help="list the sweeps")
    p.add_argument("--backend", default="local")
    p.set_defaults(func=cmd_sweeps)
