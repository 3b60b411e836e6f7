"""One reading of a schedule's options for both front ends: `%pipeline schedule "CRON" ... k=v`
(magics/schedules.py) and `jupyter-mlops schedule add SOURCE "CRON" ... -p k=v` (cli/schedules.py) add
the same arguments and turn them into the same `schedule(...)` call here; `change` is their
pause/resume/delete.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from ..errors import UsageError

VERBS = {"pause": "paused", "resume": "active", "delete": "deleted"}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--name", help="the schedule's name (default: the pipeline's)")
    p.add_argument("--tz", default="UTC", help="IANA time zone of the cron times (default UTC)")
    p.add_argument(
        "--catch-up",
        default="latest",
        choices=["latest", "all", "none"],
        help="missed times after downtime: one run for the latest (default), all, none",
    )
    p.add_argument("--experiment", help="where its runs go (default: the schedule's name)")
    p.add_argument("--cache", action="store_true", help="let unchanged steps come from the step cache")
    p.add_argument("--pipeline", help="which pipeline, when the notebook defines several")


def start(
    opts: argparse.Namespace,
    pipeline: Any,
    cron: str,
    assignments: list[str],
    *,
    backend: Any,
    working_dir: str | os.PathLike[str] | None = None,
) -> Any:
    """`schedule(...)` as the parsed options ask; `assignments` are `k=v` words typed by the pipeline."""
    from ..notebook.pipeline import Pipeline, parse_assignments
    from .handle import schedule

    notebook = pipeline if isinstance(pipeline, Pipeline) else None
    arguments = parse_assignments(assignments, notebook)
    if notebook is not None:
        unknown = sorted(set(arguments) - set(notebook.params))
        if unknown:
            known = ", ".join(notebook.params) or "none"
            raise UsageError(
                f"pipeline {notebook.name!r} has no parameter {', '.join(unknown)} (parameters: {known})"
            )
    return schedule(pipeline, cron, name=opts.name, arguments=arguments, timezone=opts.tz,
                    catch_up=opts.catch_up, experiment=opts.experiment, cache=opts.cache,
                    working_dir=working_dir, backend=backend)  # fmt: skip


def change(verb: str, name: str, *, backend: Any) -> str:
    """Pause, resume or delete schedule `name`; the line that says so."""
    from . import handle

    if verb not in VERBS:
        raise UsageError(f"schedule {verb!r}: a schedule can be paused, resumed or deleted")
    act = {"pause": handle.pause_schedule, "resume": handle.resume_schedule, "delete": handle.delete_schedule}
    changed = act[verb](name, backend=backend)
    return f"Schedule {changed.name!r} is {VERBS[verb]}."
