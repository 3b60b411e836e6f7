"""`%pipeline tensorboard [LOGDIR | --run RUN [--step STEP]]` and `jupyter-mlops tensorboard`."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from collections.abc import Callable
from typing import Any


def magic(m: Any) -> Callable[[list[str]], Any]:
    """The `%pipeline tensorboard` subcommand of the magics `m` (their backend names the runs)."""

    def tensorboard(args: list[str]) -> Any:
        from ..backends.registry import get_backend
        from ..notebook.options import _Parser
        from .display import tensorboard as show

        p = _Parser(prog="%pipeline tensorboard", add_help=False)
        p.add_argument("logdir", nargs="?")
        p.add_argument("--run")
        p.add_argument("--step")
        p.add_argument("--dashboard", help="projector, scalars, timeseries, ...")
        opts = p.parse_args(args)
        backend = get_backend(m.backend_name, **m.backend_options) if opts.run else None
        return show(opts.logdir, run=opts.run, step=opts.step, dashboard=opts.dashboard, backend=backend)

    return tensorboard


def add_command(sub: Any) -> None:
    p = sub.add_parser("tensorboard", help="TensorBoard for a logdir, or for a run's (or step's) logs")
    p.add_argument("target", metavar="RUN|LOGDIR", help="a run (id, id prefix or name) or a folder of logs")
    p.add_argument("--step", help="only this step's logs")
    p.add_argument("--backend", default="local", choices=["local", "kfp"])
    p.set_defaults(func=cmd_tensorboard)


def cmd_tensorboard(args: argparse.Namespace) -> int:
    """Start TensorBoard on 127.0.0.1 for the target and keep it running until Ctrl-C."""
    from ..backends.registry import get_backend
    from .logdirs import run_record
    from .process import LocalInstances
    from .registry import register_logdir

    if os.path.isdir(args.target) and args.step is None:
        record = register_logdir(args.target)
    else:
        record = run_record(get_backend(args.backend), args.target, args.step)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # `kill`: stop TensorBoard too, then exit
    instances = LocalInstances()
    instance, _ = instances.ensure(record)
    print(f"TensorBoard for {record.title} at http://127.0.0.1:{instance.port}/ (Ctrl-C stops it)")
    sys.stdout.flush()
    try:
        while instance.process.poll() is None:
            time.sleep(0.5)
    finally:
        instances.stop_all()
    return 0 if instance.process.returncode in (0, -signal.SIGTERM) else 1
