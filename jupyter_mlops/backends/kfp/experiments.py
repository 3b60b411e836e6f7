"""KFP experiments for the kfp backend: found by name, made on demand, names of ids remembered (also
between kernels: experiment_names.py), and listed with their run counts (one request per experiment:
the API has no count of its own)."""

from __future__ import annotations

import functools
import json
import threading
from typing import Any, NamedTuple

from ...models import Experiment
from . import connection, experiment_names
from .api_reader import ApiReader, Sent
from .convert import seconds
from .filters import runs_filter

DEFAULT_EXPERIMENT = "Default"  # KFP's own default experiment's name


class _Named(NamedTuple):
    experiment_id: str
    display_name: str


class KfpExperiments:
    def __init__(self, conn: connection.Connection, client: Any, reader: ApiReader) -> None:
        self.conn = conn
        self.reader = reader  # the names' listing: plain JSON over kept connections
        self.api = client._experiment_api
        self.runs_api = client._run_api
        self._file = experiment_names.names_file(conn)
        self._names: dict[str, str] = experiment_names.load(self._file)  # as earlier kernels read them
        self._lock = threading.Lock()

    @property
    def _timeout(self) -> tuple[float, float]:
        return (self.conn.timeout, self.conn.timeout)  # kfp_server_api ignores a single float

    def namespace_kwargs(self) -> dict[str, Any]:
        return {"namespace": self.conn.namespace} if self.conn.namespace else {}

    def _remember(self, *experiments: Any) -> None:
        with self._lock:
            learned = {str(e.experiment_id): str(e.display_name) for e in experiments}
            if all(self._names.get(k) == v for k, v in learned.items()):
                return
            self._names.update(learned)
        experiment_names.save_soon(self._file, self._known_names)  # for the next kernel

    def _known_names(self) -> dict[str, str]:
        with self._lock:
            return dict(self._names)

    def find(self, name: str) -> Any | None:
        flt = json.dumps(
            {"predicates": [{"key": "display_name", "operation": "EQUALS", "string_value": name}]}
        )
        answer = connection.call(
            self.conn,
            f"looking up experiment {name!r}",
            lambda: self.api.experiment_service_list_experiments(
                filter=flt, page_size=2, _request_timeout=self._timeout, **self.namespace_kwargs()
            ),
        )
        found = list(answer.experiments or [])
        return found[0] if found else None

    def id_of(self, name: str, *, create: bool) -> str | None:
        """The id of experiment `name`, made on the server (in our namespace) when `create` and it
        does not exist; None when it does not and `create` is False."""
        import kfp_server_api

        experiment = self.find(name)
        if experiment is None and create:
            body = kfp_server_api.V2beta1Experiment(display_name=name, namespace=self.conn.namespace)
            experiment = connection.call(
                self.conn,
                f"creating experiment {name!r}",
                lambda: self.api.experiment_service_create_experiment(body, _request_timeout=self._timeout),
            )
        if experiment is None:
            return None
        self._remember(experiment)
        return str(experiment.experiment_id)

    def name_of(self, experiment_id: str | None) -> str:
        if not experiment_id:
            return DEFAULT_EXPERIMENT
        with self._lock:
            known = self._names.get(experiment_id)
        if known is not None:
            return known
        experiment = connection.call(
            self.conn,
            "reading an experiment",
            lambda: self.api.experiment_service_get_experiment(experiment_id, _request_timeout=self._timeout),
        )
        self._remember(experiment)
        return str(experiment.display_name)

    def knows_none(self) -> bool:
        with self._lock:
            return not self._names

    def learn_names(self, experiment_ids: set[str], listing: Sent | None = None) -> None:
        """Know the names of these experiments with at most one request (one page of experiments), so a
        page of runs from many experiments costs one request more, not one per experiment. `listing`:
        a listing sent beforehand (`send_names_listing`), read now; one still missing after it (an
        experiment made since) is read by id."""
        if listing is not None:
            self._learn(self.reader.answer(listing))
            with self._lock:
                missing = [i for i in experiment_ids if i and i not in self._names]
            for experiment_id in missing:
                self.name_of(experiment_id)
            return
        with self._lock:
            unknown = {i for i in experiment_ids if i and i not in self._names}
        if unknown:
            self._learn(self.reader.get("experiments", self._names_query(), "listing experiments"))

    def send_names_listing(self) -> Sent:
        """Ask for the experiments' names now, beside another request (a page of runs whose experiments
        this kernel has not met yet): the two requests overlap instead of following each other. Its
        answer is read by `learn_names` (or abandoned with `reader.drop`)."""
        return self.reader.send("experiments", self._names_query(), "listing experiments")

    def _names_query(self) -> dict[str, Any]:
        return {"page_size": 200, "sort_by": "created_at desc", **self.namespace_kwargs()}

    def _learn(self, page: dict[str, Any]) -> None:
        """Remember the ids and names of a page of experiments (plain JSON: no models, no dates)."""
        listed = [e for e in page.get("experiments") or () if isinstance(e, dict) and e.get("experiment_id")]
        self._remember(*(_Named(str(e["experiment_id"]), str(e.get("display_name"))) for e in listed))

    def all(self) -> list[Experiment]:
        found: list[Experiment] = []
        token = ""
        while True:
            page = connection.call(self.conn, "listing experiments", functools.partial(self._page, token))
            for e in page.experiments or []:
                self._remember(e)
                found.append(
                    Experiment(
                        id=str(e.experiment_id),
                        name=str(e.display_name),
                        created_at=seconds(e.created_at) or 0.0,
                        run_count=self._run_count(str(e.experiment_id)),
                    )
                )
            token = page.next_page_token or ""
            if not token:
                return found

    def _page(self, token: str) -> Any:
        return self.api.experiment_service_list_experiments(
            page_token=token, page_size=100, _request_timeout=self._timeout, **self.namespace_kwargs()
        )

    def _run_count(self, experiment_id: str) -> int:
        counted = connection.call(
            self.conn,
            "counting runs",
            lambda: self.runs_api.run_service_list_runs(
                experiment_id=experiment_id,
                page_size=1,
                filter=runs_filter(),  # as listed: archived runs are hidden
                _request_timeout=self._timeout,
            ),
        )
        return int(counted.total_size or 0)
