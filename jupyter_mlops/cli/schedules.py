"""`jupyter-mlops schedule add|list|pause|resume|delete` and `jupyter-mlops scheduler`.

jupyter-mlops schedule add NOTEBOOK.ipynb|PIPELINE.yaml "0 3 * * *" [--name N] [--tz ZONE]
                           [--catch-up latest|all|none] [-p k=v ...] [--experiment E]
jupyter-mlops schedule list | pause NAME | resume NAME | delete NAME
jupyter-mlops scheduler [--once]     fire due schedules (headless; Jupyter's server does it too)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any


def cmd_schedule(args: argparse.Namespace) -> int:
    from ..backends.registry import get_backend
    from ..schedules import handle, options
    from ..schedules.view import schedules_text

    if args.verb == "add":
        from .runs import _pipeline

        source = Path(args.source)
        folder = source.absolute().parent if source.suffix == ".ipynb" else Path.cwd()
        pipeline = _pipeline(args.source, args.pipeline)
        made = options.start(
            args, pipeline, args.cron, args.param, backend=get_backend("local"), working_dir=folder
        )
        print(schedules_text([made]))
        return 0
    if args.verb == "list":
        print(schedules_text(handle.schedules()))
        return 0
    if not args.name_arg:
        print(f"jupyter-mlops schedule {args.verb}: name the schedule", file=sys.stderr)
        return 2
    print(options.change(args.verb, args.name_arg, backend="local"))
    return 0


def cmd_scheduler(args: argparse.Namespace) -> int:
    from ..backends.registry import get_backend
    from ..schedules.handle import schedule_records
    from ..schedules.scheduler import SchedulerLoop, tick

    backend = get_backend("local")
    records = schedule_records(backend)

    def report(fired: Any) -> None:
        outcome = f"run {fired.run_id}" if fired.run_id else fired.error
        stamp = time.strftime("%Y-%m-%d %H:%M", time.gmtime(fired.due))
        print(f"{stamp} UTC  {fired.schedule}  {outcome}", flush=True)

    if args.once:
        for fired in tick(records, backend, time.time(), "jupyter-mlops scheduler"):
            report(fired)
        return 0
    print(f"Scheduler watching {records.store.db_path} (Ctrl+C to stop)", flush=True)
    loop = SchedulerLoop(
        records,
        backend,
        fired_by="jupyter-mlops scheduler",
        on_fire=report,
        on_error=lambda e: print(f"scheduler: {e}", file=sys.stderr, flush=True),
    )
    try:
        loop.run()
    except KeyboardInterrupt:
        return 0
    return 0


def add_commands(sub: Any) -> None:
    p = sub.add_parser("schedule", help="run a frozen pipeline on a cron schedule: add, list, pause, ...")
    verbs = p.add_subparsers(dest="verb", required=True)
    add = verbs.add_parser("add", help="schedule a notebook's pipeline (frozen now) or a compiled YAML")
    add.add_argument("source")
    add.add_argument("cron", help='five cron fields, quoted: "0 3 * * *"')
    add.add_argument("-p", "--param", action="append", default=[], metavar="K=V")
    from ..schedules.options import add_arguments

    add_arguments(add)
    verbs.add_parser("list", help="schedules with their next and last run")
    for verb in ("pause", "resume", "delete"):
        v = verbs.add_parser(verb, help=f"{verb} a schedule")
        v.add_argument("name_arg", metavar="NAME")
    p.set_defaults(func=cmd_schedule, name_arg=None)
    s = sub.add_parser("scheduler", help="fire due schedules until stopped (headless)")
    s.add_argument("--once", action="store_true", help="fire what is due now, then exit")
    s.set_defaults(func=cmd_scheduler)
