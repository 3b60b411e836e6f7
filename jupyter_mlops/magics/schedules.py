"""`%pipeline schedule "CRON" [--name N] [--tz ZONE] [--catch-up P] [k=v ...]`, `%pipeline schedule
pause|resume|delete NAME` and `%pipeline schedules`: thin parsing over `jupyter_mlops.schedules`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import UsageError
from ..notebook.options import _Parser
from ..schedules import options

if TYPE_CHECKING:
    from .runs import SessionState


def subcommands(m: SessionState) -> dict[str, Callable[[list[str]], Any]]:
    def backend() -> Any:
        from ..backends.registry import shared_backend

        return shared_backend(m.backend_name, **m.backend_options)  # the kernel's one backend

    def schedule_command(args: list[str]) -> Any:
        if args and args[0] in options.VERBS:
            if len(args) != 2:
                raise UsageError(f"%pipeline schedule {args[0]} takes one schedule name")
            print(options.change(args[0], args[1], backend=backend()))
            return None
        p = _Parser(prog="%pipeline schedule", add_help=False)
        p.add_argument("cron")
        p.add_argument("assignments", nargs="*", default=[])
        options.add_arguments(p)
        opts = p.parse_intermixed_args(args)
        pipeline = m.workspace.get(opts.pipeline)
        made = options.start(
            opts, pipeline, opts.cron, opts.assignments, backend=backend(), working_dir=m.notebook_folder
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
