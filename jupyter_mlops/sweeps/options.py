"""One reading of a sweep's options for both front ends: `%pipeline sweep ...` (magics/sweeps.py) and
`jupyter-mlops sweep ...` (cli/sweeps.py) add the same arguments to their parsers and turn the parsed
options into the same `sweep(...)` call here, so the two cannot drift apart.

    NAME=SPEC ...  --metric M  --goal max|min  --parallel N  --random K | --search tpe --trials K
    --seed S  --name N  --pipeline P  --early-stop patience=N,target=V
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from ..errors import UsageError


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options that start a sweep (the ranges are the front end's own positional arguments)."""
    p.add_argument("--metric", help="the metric to optimize: NAME or STEP.NAME")
    p.add_argument("--goal", choices=["max", "min"], default="max")
    p.add_argument("--parallel", type=int, help="trials running at once (default 2)")
    p.add_argument("--random", type=int, metavar="K", help="K random trials (Optuna)")
    p.add_argument("--search", choices=["grid", "random", "tpe"])
    p.add_argument("--trials", type=int, help="how many trials (TPE: default 20; a grid: a cap)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--name", help="the sweep's name (and its experiment's)")
    p.add_argument("--pipeline", help="which pipeline, when the notebook defines several")
    p.add_argument(
        "--early-stop",
        metavar="patience=N,target=V",
        help="start no more trials after N finished trials without a better one, or once the metric "
        "reaches V (running trials finish)",
    )


def search_of(opts: argparse.Namespace) -> str:
    if opts.random and opts.search not in (None, "random"):
        raise UsageError("sweep: --random K is a random search; drop --search")
    return str(opts.search or ("random" if opts.random else "grid"))


def start(
    opts: argparse.Namespace,
    pipeline: Any,
    ranges: list[str],
    *,
    backend: Any,
    working_dir: str | os.PathLike[str] | None = None,
    wait: bool = False,
) -> Any:
    """`sweep(...)` as the parsed options ask (a new sweep; `--resume` is `resume`)."""
    from .early_stop import parse_early_stop
    from .handle import sweep
    from .space import parse_items

    return sweep(
        pipeline,
        parse_items(ranges),
        metric=opts.metric,
        goal=opts.goal,
        search=search_of(opts),
        trials=opts.random or opts.trials,
        parallel=opts.parallel,
        name=opts.name,
        seed=opts.seed,
        backend=backend,
        working_dir=working_dir,
        early_stop=parse_early_stop(opts.early_stop),
        text_space=True,
        wait=wait,
    )


def resume(opts: argparse.Namespace, name: str, *, backend: Any, wait: bool = False) -> Any:
    from .handle import sweep

    return sweep(name=name, resume=True, trials=opts.trials, parallel=opts.parallel, backend=backend,
                 wait=wait)  # fmt: skip
