"""Recurring runs on the stand-in: the v2beta1 routes `kfp.Client` uses for them, and the part of
Kubeflow's ScheduledWorkflow controller that starts their runs.

Routes: POST recurringruns, GET recurringruns (experiment_id, namespace, page_size, page_token),
GET recurringruns/{id}, POST recurringruns/{id}:enable and :disable, DELETE recurringruns/{id}.

Firing: a real cluster's controller wakes on its own; here a test calls `fire_due(now)` with the time
it wants (no waiting for minutes). As the controller does, a cron trigger is six robfig/cron fields
(seconds first) read in UTC (the controller's default zone); each run copies the recurring run's
pipeline spec and runtime config (the snapshot taken when it was created), is named
`<display name>-<UTC stamp>` and carries `recurring_run_id` (and its due time as `scheduled_at`); a
disabled recurring run starts nothing; times missed meanwhile, or while no controller ran, are caught up
when it next fires (as KFP documents `no_catchup`): only the latest of them with `no_catchup`, otherwise
every one (backfill); nothing before the recurring run's creation (or its cron `start_time`) is due.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Callable
from typing import Any

import kfp_server_api as k

from .cluster import ApiError, Cluster

PREFIX = "recurringruns"


class RecurringRuns:
    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.items: dict[str, k.V2beta1RecurringRun] = {}
        self.fired_until: dict[str, float] = {}  # recurring run id -> the last time considered
        self.lock = threading.RLock()

    # -- routes ---------------------------------------------------------------------------------------

    def route(
        self,
        method: str,
        rest: str,
        query: dict[str, str],
        body: bytes,
        check_ns: Callable[[str | None], None],
        parse: Callable[[bytes, str], Any],
        page: Callable[..., tuple[list[Any], str, int]],
    ) -> Any:
        """The answer to a `recurringruns` request, or None when the path is not one of them."""
        if rest == PREFIX and method == "POST":
            made = self.create(parse(body, "V2beta1RecurringRun"), check_ns)
            return made
        if rest == PREFIX and method == "GET":
            experiment_id = query.get("experiment_id")
            if experiment_id:
                check_ns(self.cluster.experiment(experiment_id).namespace)
            else:
                check_ns(query.get("namespace"))
            with self.lock:
                items = [
                    r for r in self.items.values() if not experiment_id or r.experiment_id == experiment_id
                ]
            items.sort(key=lambda r: (r.created_at, r.recurring_run_id))
            found, token, total = page(items, query, lambda r: [r.created_at.timestamp(), r.recurring_run_id],
                                       asc=True)  # fmt: skip
            return k.V2beta1ListRecurringRunsResponse(
                recurring_runs=found, total_size=total, next_page_token=token
            )
        if not rest.startswith(PREFIX + "/"):
            return None
        ref, _, verb = rest[len(PREFIX) + 1 :].partition(":")
        item = self.get(ref)
        check_ns(item.namespace)
        if method == "GET" and not verb:
            return item
        if method == "POST" and verb in ("enable", "disable"):
            with self.lock:
                enable = verb == "enable"
                item.mode = "ENABLE" if enable else "DISABLE"
                item.status = "ENABLED" if enable else "DISABLED"
                item.updated_at = dt.datetime.now(dt.timezone.utc)
            return {}
        if method == "DELETE" and not verb:
            with self.lock:
                self.items.pop(ref, None)
            return {}
        raise ApiError(404, f"Not Found: {method} {rest}")

    def create(self, body: k.V2beta1RecurringRun, check_ns: Callable[[str | None], None]) -> Any:
        if not body.display_name:
            raise ApiError(400, "Invalid input error: a recurring run needs a display name")
        if not isinstance(body.pipeline_spec, dict):
            raise ApiError(400, "Invalid input error: a recurring run needs a pipeline_spec")
        cron = body.trigger.cron_schedule if body.trigger else None
        if cron is None or not cron.cron:
            raise ApiError(400, "Invalid input error: only cron triggers are served by the stand-in")
        _five_fields(cron.cron)  # an expression the controller would refuse is refused now
        experiment_id = body.experiment_id or self.cluster.default_experiment(None)
        experiment = self.cluster.experiment(experiment_id)
        check_ns(experiment.namespace)
        now = dt.datetime.now(dt.timezone.utc)
        enabled = str(body.mode or "ENABLE") != "DISABLE"
        made = k.V2beta1RecurringRun(
            recurring_run_id=str(uuid.uuid4()),
            display_name=body.display_name,
            description=body.description,
            pipeline_spec=body.pipeline_spec,
            runtime_config=body.runtime_config or k.V2beta1RuntimeConfig(parameters={}),
            service_account="pipeline-runner",
            max_concurrency=body.max_concurrency or "1",
            trigger=body.trigger,
            mode="ENABLE" if enabled else "DISABLE",
            created_at=now,
            updated_at=now,
            status="ENABLED" if enabled else "DISABLED",
            no_catchup=bool(body.no_catchup),
            namespace=experiment.namespace,
            experiment_id=experiment_id,
        )
        start = cron.start_time.timestamp() if cron.start_time else now.timestamp()
        with self.lock:
            self.items[made.recurring_run_id] = made
            self.fired_until[made.recurring_run_id] = max(start, now.timestamp())
        return made

    def get(self, ref: str) -> k.V2beta1RecurringRun:
        with self.lock:
            found = self.items.get(ref)
        if found is None:
            raise ApiError(404, f"NotFoundError: RecurringRun {ref} not found")
        return found

    # -- the controller -------------------------------------------------------------------------------

    def fire_due(self, now: float) -> list[str]:
        """Start the runs of every enabled recurring run that fell due up to `now`; their run ids."""
        from croniter import croniter

        started: list[str] = []
        with self.lock:
            items = list(self.items.values())
        for item in items:
            if item.mode == "DISABLE":
                continue
            since = self.fired_until.get(item.recurring_run_id, now)
            it = croniter(
                _five_fields(item.trigger.cron_schedule.cron),
                dt.datetime.fromtimestamp(since, dt.timezone.utc),
            )
            dues = []
            while (t := float(it.get_next(float))) <= now:
                dues.append(t)
            self.fired_until[item.recurring_run_id] = now
            if item.no_catchup:
                dues = dues[-1:]
            for due in dues:
                stamp = dt.datetime.fromtimestamp(due, dt.timezone.utc).strftime("%Y%m%d%H%M%S")
                body = k.V2beta1Run(
                    experiment_id=item.experiment_id,
                    display_name=f"{item.display_name}-{stamp}",
                    pipeline_spec=item.pipeline_spec,
                    runtime_config=item.runtime_config,
                )
                record = self.cluster.create_run(body)
                record.recurring_run_id = item.recurring_run_id
                record.scheduled_at = due
                started.append(record.run_id)
        return started


def _five_fields(cron: str) -> str:
    """A robfig/cron expression (seconds first, as KFP takes it) as the five fields croniter reads."""
    from croniter import croniter

    fields = cron.split()
    if len(fields) != 6 or fields[0] != "0" or not croniter.is_valid(" ".join(fields[1:])):
        raise ApiError(
            400, f"Invalid input error: {cron!r} is not a cron expression of six fields with seconds 0"
        )
    return " ".join(fields[1:])
