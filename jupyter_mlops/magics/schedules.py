"""`%pipeline schedule "CRON" [--name N] [--tz ZONE] [--catch-up P] [k=v ...]`, `%pipeline schedule
pause|resume|delete NAME` and `%pipeline schedules`: thin parsing over `jupyter_mlops.schedules`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import UsageError
from ..notebook.options import _Parser

if TYPE_CHECKING:
    from .runs import SessionState

VERBS = ("pause", "resume", "delete")


def subcommands(m: SessionState) -> dict[str, Callable[[list[str]], Any]]:
    def backend() -> Any:
        from ..backends.registry import shared_backend

        return shared_backend(m.backend_name, **m.backend_options)  # the kernel's one backend

    def schedule_command(args: list[str]) -> Any:
        from ..schedules import handle

        if args and args[0] in VERBS:
            if len(args) != 2:
                raise UsageError(f"%pipeline schedule {args[0]} takes one schedule name")
            change = {
                "pause": handle.pause_schedule,
                "resume": handle.resume_schedule,
                "delete": handle.delete_schedule,
            }[args[0]]
            changed = change(args[1], backend=backend())
            state = {"pause": "paused", "resume": "active", "delete": "deleted"}[args[0]]
            print(f"Schedule {changed.name!r} is {state}.")
            return None
        p = _Parser(prog="%pipeline schedule", add_help=False)
        p.add_argument("cron")
        p.add_argument("assignments", nargs="*")
        p.add_argument("--name")
        p.add_argument("--tz", default="UTC")
        p.add_argument("--catch-up", default="latest", choices=["latest", "all", "none"])
        p.add_argument("--experiment")
        p.add_argument("--cache", action="store_true", help="let unchanged steps come from the cache")
        p.add_argument("--pipeline")
        opts = p.parse_intermixed_args(args)
        from ..notebook.pipeline import parse_assignments

        pipeline = m.workspace.get(opts.pipeline)
        arguments = parse_assignments(opts.assignments, pipeline)
        unknown = sorted(set(arguments) - set(pipeline.params))
        if unknown:
            known = ", ".join(pipeline.params) or "none"
            raise UsageError(
                f"pipeline {pipeline.name!r} has no parameter {', '.join(unknown)} (parameters: {known})"
            )
        made = handle.schedule(
            pipeline,
            opts.cron,
            name=opts.name,
            arguments=arguments,
            timezone=opts.tz,
            catch_up=opts.catch_up,
            experiment=opts.experiment,
            cache=opts.cache,
            backend=backend(),
        )
        print(
            f"Scheduled a snapshot of pipeline {pipeline.name!r} as {made.name!r}: {made.record.cron} "
            f"({made.record.timezone}). It runs while Jupyter runs, or under `jupyter-mlops scheduler`; "
            "editing the notebook does not change it."
        )
        return made

    def schedules_command(args: list[str]) -> Any:
        from ..schedules.handle import schedules
        from ..schedules.view import SchedulesTable

        if args:
            raise UsageError("%pipeline schedules takes no arguments")
        return SchedulesTable(schedules(backend()))

    return {"schedule": schedule_command, "schedules": schedules_command}
