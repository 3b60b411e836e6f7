"""KFP recurring runs: what a schedule is on the kfp backend (`mlops.schedule(..., backend=kfp)`).

A recurring run keeps the compiled pipeline spec and its arguments on the server (the frozen snapshot)
and Kubeflow's ScheduledWorkflow controller starts its runs, so nothing of ours has to be up. How our
schedule's settings become KFP's:

- cron: our five fields get KFP's leading seconds field ("0 3 * * *" -> "0 0 3 * * *");
- time zone: the controller reads cron times in its own zone, UTC unless the cluster was set up
  otherwise, and the API has no zone field: only `timezone="UTC"` is taken (say 01:00 UTC for 03:00
  in Paris in winter), anything else is refused rather than fired at another hour;
- catch-up: "latest" is KFP's `no_catchup=True` (only the latest missed time), "all" is backfill
  (`no_catchup=False`); KFP has no "none";
- pause / resume / delete: disable / enable / delete; exactly once is the controller's job. Unlike a
  local schedule, a resumed recurring run catches up the times it missed while paused, by the same
  policy (KFP's controller does): "latest" starts one run for the latest of them.
"""

from __future__ import annotations

import datetime as dt
import functools
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ...errors import NotFound, UsageError
from . import connection
from .convert import seconds

CATCH_UP = {"latest": True, "all": False}  # our policy -> KFP's no_catchup


def kfp_cron(expression: str) -> str:
    return "0 " + expression


def our_cron(expression: str) -> str:
    fields = expression.split()
    return " ".join(fields[1:]) if len(fields) == 6 else expression


class KfpRecurringRuns:
    def __init__(self, backend: Any) -> None:
        self.conn = backend.conn
        self.client = backend.client
        self.experiments = backend.experiment_book

    @property
    def _timeout(self) -> tuple[float, float]:
        return (self.conn.timeout, self.conn.timeout)

    def create(
        self,
        documents: Sequence[Mapping[str, Any]],
        arguments: Mapping[str, Any],
        *,
        name: str,
        cron: str,
        timezone: str,
        catch_up: str,
        experiment: str | None,
        cache: bool,
    ) -> Any:
        import yaml

        if timezone != "UTC":
            raise UsageError(
                f"schedule {name!r}: KFP fires recurring runs on the cluster controller's clock (UTC unless "
                f"set up otherwise) and its API takes no time zone: give the cron in UTC (--tz UTC), not "
                f"{timezone!r}"
            )
        if catch_up not in CATCH_UP:
            raise UsageError(
                f"schedule {name!r}: KFP recurring runs catch up 'latest' (one run for the latest missed "
                f"time) or 'all' (backfill); there is no {catch_up!r}"
            )
        if self.find(name) is not None:
            raise UsageError(f"a schedule named {name!r} already exists on the KFP server: delete it first")
        experiment_id = self.experiments.id_of(experiment or name, create=True)
        with tempfile.TemporaryDirectory(prefix="mlops-kfp-") as folder:
            path = Path(folder) / "pipeline.yaml"
            path.write_text(yaml.safe_dump_all(list(documents), sort_keys=False))
            return connection.call(
                self.conn,
                f"creating the recurring run {name!r}",
                lambda: self.client.create_recurring_run(
                    experiment_id=experiment_id,
                    job_name=name,
                    cron_expression=kfp_cron(cron),
                    no_catchup=CATCH_UP[catch_up],
                    params=dict(arguments),
                    pipeline_package_path=str(path),
                    enable_caching=None if cache else False,
                    max_concurrency=1,
                ),
            )

    def all(self) -> list[Any]:
        found: list[Any] = []
        token = ""
        api = self.client._recurring_run_api
        kwargs = {"page_size": 100, "_request_timeout": self._timeout, **self.experiments.namespace_kwargs()}

        def page_at(token: str) -> Any:
            return api.recurring_run_service_list_recurring_runs(page_token=token, **kwargs)

        while True:
            page = connection.call(self.conn, "listing recurring runs", functools.partial(page_at, token))
            found += list(page.recurring_runs or [])
            token = page.next_page_token or ""
            if not token:
                return found

    def find(self, name: str) -> Any | None:
        return next((r for r in self.all() if r.display_name == name or r.recurring_run_id == name), None)

    def get(self, name: str) -> Any:
        found = self.find(name)
        if found is None:
            known = ", ".join(sorted(str(r.display_name) for r in self.all())) or "none"
            raise NotFound(f"no schedule {name!r} on the KFP server {self.conn.host} (schedules: {known})")
        return found

    def name_of(self, recurring_run_id: str) -> str:
        api = self.client._recurring_run_api
        timeout = self._timeout
        found = connection.call(
            self.conn,
            "reading a recurring run",
            lambda: api.recurring_run_service_get_recurring_run(recurring_run_id, _request_timeout=timeout),
        )
        return str(found.display_name)

    def change(self, verb: str, name: str) -> Any:
        item = self.get(name)
        api = self.client._recurring_run_api
        calls = {
            "pause": api.recurring_run_service_disable_recurring_run,
            "resume": api.recurring_run_service_enable_recurring_run,
            "delete": api.recurring_run_service_delete_recurring_run,
        }
        rid = item.recurring_run_id
        connection.call(self.conn, f"{verb} schedule {name!r}",
                        lambda: calls[verb](rid, _request_timeout=self._timeout))  # fmt: skip
        return item if verb == "delete" else self.get(rid)

    def last_runs(self, item: Any, limit: int = 5) -> list[Any]:
        """The newest runs this recurring run started (in its experiment), newest first."""
        api = self.client._run_api
        page = connection.call(
            self.conn,
            "listing a schedule's runs",
            lambda: api.run_service_list_runs(
                experiment_id=item.experiment_id, page_size=50, sort_by="created_at desc",
                _request_timeout=self._timeout,
            ),
        )  # fmt: skip
        return [r for r in page.runs or [] if r.recurring_run_id == item.recurring_run_id][:limit]


def created_at(item: Any) -> float:
    return seconds(item.created_at) or dt.datetime.now(dt.timezone.utc).timestamp()
