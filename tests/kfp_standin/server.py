"""A stand-in Kubeflow Pipelines v2beta1 REST server, in-process on 127.0.0.1, for tests.

NOT a Kubeflow Pipelines server: no Kubernetes, no Argo, no ML Metadata, no object store, no UI. It
answers the routes `kfp.Client` (kfp 2.17) uses, with bodies built from and checked by kfp_server_api's
own model classes (requests are parsed into them, answers serialized from them), and runs each
submitted pipeline spec with our local backend (see cluster.py), so states evolve as they do on a
cluster. It also enforces bearer tokens and namespaces as a multi-user Kubeflow does (401, 403), can
pretend to be a server older than KFP 2.0 (no v2beta1 routes: 404), and injects faults on request:
error answers, slow answers, dropped connections.

With `ui=True` (the default) it is reached as the KFP UI's server is (`kubectl port-forward
svc/ml-pipeline-ui`, or the Kubeflow gateway): besides /apis/v2beta1 (which the UI server proxies to the
API server) it answers the UI's own `GET /k8s/pod/logs?podname=&runid=&podnamespace=&createdat=`
(frontend/server/handlers/pod-logs.ts: the main container's log as plain text; 400 without podname,
422 without podnamespace in multi-user mode, 403 for another's namespace, 404 "pod not found").
It also answers ML Metadata over gRPC-web at `POST /ml_metadata.MetadataStoreService/{method}`, as the
UI's server proxies it (metadata.py says what is recorded), and the UI's artifact endpoint
`GET /artifacts/get?source=&bucket=&key=` (artifacts.py). `ui=False` is the API server alone
(ml-pipeline:8888), which has none of them.

Routes: GET healthz; GET|POST experiments, GET experiments/{id}; POST runs (inline pipeline_spec),
GET runs/{id}, GET runs (experiment_id, namespace, filter, sort_by, page_size, page_token),
POST runs/{id}:terminate, POST runs/{id}:retry, POST runs/{id}:archive and :unarchive, DELETE runs/{id};
recurring runs (recurring.py: create, get, list, enable, disable, delete, and the controller's firing
with an injected clock); the UI's GET /k8s/pod/logs, its ML Metadata proxy (four reads) and its GET
/artifacts/get over the artifacts the local execution wrote (artifacts.py). Not served: pipeline upload
and versions, the v2beta1 artifacts API, visualizations, the UI's other artifact routes
(/artifacts/:source/:bucket/*, the proxy).
"""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import kfp_server_api as k

from .artifacts import Download, ObjectStore
from .cluster import ApiError, Cluster, RunRecord
from .metadata import Metadata
from .recurring import RecurringRuns

PREFIX = "/apis/v2beta1/"
MLMD_PREFIX = "/ml_metadata.MetadataStoreService/"
ARTIFACTS_PATH = "/artifacts/get"
_api = k.ApiClient()

_OPERATIONS = {1: "EQUALS", 2: "NOT_EQUALS", 8: "IN", 9: "IS_SUBSTRING"}


def parse(body: bytes, model: str) -> Any:
    """A request body as a kfp_server_api model (what the real server's gateway decodes)."""

    class _Raw:
        data = body.decode() if body else "{}"

    try:
        return _api.deserialize(_Raw(), model)
    except Exception as exc:
        raise ApiError(400, f"Invalid input error: cannot parse {model}: {exc}") from None


def dump(model: Any) -> bytes:
    return json.dumps(_api.sanitize_for_serialization(model)).encode()


class PlainText(str):
    """An answer that is text, not JSON (the UI's pod logs)."""


class GrpcWeb(bytes):
    """A gRPC-web answer body (ML Metadata through the UI's proxy)."""


@dataclass
class Fault:
    match: str  # a substring of "METHOD /path"
    status: int | None = None  # an error answer
    delay: float = 0.0  # seconds before answering
    drop: bool = False  # close the connection without an answer
    times: int = 1
    # Hold the answer until a request matching this has arrived (at most `delay` seconds): shows whether
    # a client sends two requests side by side (`released` is set) or one after the other (it is not).
    hold_until: str | None = None
    released: threading.Event = field(default_factory=threading.Event)


class StandIn:
    """Start with `start()` (returns its URL), stop with `stop()`.

    tokens: bearer token -> namespaces it may use ("*": any); None: no authentication at all.
    multi_user: listings must name a namespace, experiments carry one (as a multi-user Kubeflow).
    api: "v2beta1", or "v1beta1" for a server older than KFP 2.0.
    """

    def __init__(
        self,
        home: Path,
        *,
        tokens: dict[str, set[str]] | None = None,
        multi_user: bool = False,
        api: str = "v2beta1",
        ui: bool = True,
    ) -> None:
        self.cluster = Cluster(home)
        self.recurring = RecurringRuns(self.cluster)  # recurringruns routes; fire_due(now) starts runs
        self.metadata = Metadata(self.cluster)
        self.objects = ObjectStore(self.cluster)  # the object store behind the UI's /artifacts/get
        self.tokens = tokens
        self.multi_user = multi_user
        self.api = api
        self.ui = ui
        self.faults: list[Fault] = []
        self._held: list[Fault] = []  # faults holding an answer until another request arrives
        self.requests: list[str] = []  # "METHOD /path?query", in order
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._connections: set[Any] = set()  # open keep-alive sockets: cut when the server stops

    # -- lifecycle ----------------------------------------------------------------------------------

    def start(self, port: int = 0) -> str:
        standin = self

        class Handler(_Handler):
            owner = standin

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self.url

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self, *, close_cluster: bool = True) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        with self._lock:
            connections, self._connections = list(self._connections), set()
        for sock in connections:  # a server that goes away drops its clients' connections too
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if close_cluster:
            self.cluster.close()

    def inject(self, fault: Fault) -> None:
        with self._lock:
            self.faults.append(fault)

    def _fault_for(self, line: str) -> Fault | None:
        with self._lock:
            for held in [*self._held, *self.faults]:  # arrived before or while the answer is held
                if held.hold_until is not None and held.hold_until in line:
                    held.released.set()
            for fault in self.faults:
                if fault.match in line:
                    fault.times -= 1
                    if fault.times <= 0:
                        self.faults.remove(fault)
                    if fault.hold_until is not None:
                        self._held.append(fault)
                    return fault
        return None

    # -- auth -----------------------------------------------------------------------------------------

    def allowed(self, headers: Any) -> set[str] | None:
        """The namespaces the caller may use (None: any); ApiError 401 without a valid token."""
        if self.tokens is None:
            return None
        auth = headers.get("Authorization", "")
        token = auth[len("Bearer ") :] if auth.startswith("Bearer ") else None
        if token is None or token not in self.tokens:
            raise ApiError(401, "Unauthenticated: request has no valid bearer token")
        spaces = self.tokens[token]
        return None if "*" in spaces else spaces

    # -- routes ---------------------------------------------------------------------------------------

    def route(self, method: str, path: str, query: dict[str, str], body: bytes, headers: Any) -> Any:
        if self.ui and method == "GET" and path == "/k8s/pod/logs":
            return self._pod_logs(query, headers)
        if self.ui and method == "GET" and path == ARTIFACTS_PATH:  # the UI's artifact endpoint
            found = self.objects.get(query, self.allowed(headers), self.multi_user)
            return PlainText(found) if isinstance(found, str) else found
        if self.ui and method == "POST" and path.startswith(MLMD_PREFIX):
            self.allowed(headers)  # the gateway's authentication, in front of the metadata proxy
            return GrpcWeb(self.metadata.answer(path[len(MLMD_PREFIX) :], body))
        if self.api != "v2beta1" and path.startswith(PREFIX):
            raise ApiError(404, "Not Found")
        if not path.startswith(PREFIX):
            raise ApiError(404, "Not Found")
        allowed = self.allowed(headers)
        rest = path[len(PREFIX) :]

        def check_ns(namespace: str | None) -> None:
            if allowed is not None and (namespace or "") not in allowed:
                raise ApiError(
                    403,
                    f"PermissionDenied: User is not authorized to access namespace {namespace or '(none)'!r}",
                )

        if method == "GET" and rest == "healthz":
            return k.V2beta1GetHealthzResponse(multi_user=self.multi_user, pipeline_store="database")
        if rest == "experiments" and method == "POST":
            experiment = parse(body, "V2beta1Experiment")
            if self.multi_user and not experiment.namespace:
                raise ApiError(400, "Invalid input error: in multi-user mode an experiment needs a namespace")
            check_ns(experiment.namespace)
            return self.cluster.create_experiment(experiment)
        if rest == "experiments" and method == "GET":
            namespace = query.get("namespace")
            if self.multi_user and not namespace:
                raise ApiError(
                    400, "Invalid input error: in multi-user mode ListExperiments needs a namespace"
                )
            check_ns(namespace)
            with self.cluster.lock:
                items = [
                    e
                    for e in self.cluster.experiments.values()
                    if (e.namespace or None) == (namespace or None)
                ]
            items = self._filtered(items, query.get("filter"), {"display_name": lambda e: e.display_name})
            items.sort(key=lambda e: (e.created_at, e.experiment_id))
            page, token, total = self._page(
                items, query, lambda e: [e.created_at.timestamp(), e.experiment_id], asc=True
            )
            return k.V2beta1ListExperimentsResponse(experiments=page, total_size=total, next_page_token=token)
        if rest.startswith("experiments/") and method == "GET":
            experiment = self.cluster.experiment(rest.split("/", 1)[1])
            check_ns(experiment.namespace)
            return experiment
        if rest == "runs" and method == "POST":
            run = parse(body, "V2beta1Run")
            if run.experiment_id:
                check_ns(self.cluster.experiment(run.experiment_id).namespace)
            elif self.multi_user:
                raise ApiError(400, "Invalid input error: in multi-user mode a run needs an experiment")
            return self.cluster.run_model(self.cluster.create_run(run))
        if rest == "runs" and method == "GET":
            return self._list_runs(query, check_ns)
        if rest.startswith("recurringruns"):
            found = self.recurring.route(method, rest, query, body, check_ns, parse, self._page)
            if found is not None:
                return found
        if rest.startswith("runs/"):
            run_ref = rest.split("/", 1)[1]
            run_id, _, verb = run_ref.partition(":")
            record = self.cluster.record(run_id)
            check_ns(record.namespace)
            if method == "GET" and not verb:
                return self.cluster.run_model(record)
            if method == "POST" and verb == "terminate":
                self.cluster.terminate(run_id)
                return {}
            if method == "POST" and verb == "retry":
                self.cluster.retry(run_id)
                return {}
            if method == "POST" and verb in ("archive", "unarchive"):
                self.cluster.set_storage_state(run_id, "ARCHIVED" if verb == "archive" else "AVAILABLE")
                return {}
            if method == "DELETE" and not verb:
                self.cluster.delete_run(run_id)
                return {}
        raise ApiError(404, f"Not Found: {method} {path}")

    def _pod_logs(self, query: dict[str, str], headers: Any) -> PlainText:
        if not query.get("podname"):
            raise ApiError(400, "podname argument is required")
        namespace = query.get("podnamespace") or None
        if self.multi_user and not namespace:
            raise ApiError(422, "podnamespace argument is required")
        allowed = self.allowed(headers)
        record = self.cluster.record(query.get("runid", ""))
        if allowed is not None and (namespace not in allowed or record.namespace != namespace):
            raise ApiError(403, "Access denied to namespace")
        return PlainText(self.cluster.pod_log(record.run_id, query["podname"]))

    def _list_runs(self, query: dict[str, str], check_ns: Callable[[str | None], None]) -> Any:
        experiment_id = query.get("experiment_id")
        namespace = query.get("namespace")
        if experiment_id:
            check_ns(self.cluster.experiment(experiment_id).namespace)
        else:
            if self.multi_user and not namespace:
                raise ApiError(400, "Invalid input error: in multi-user mode ListRuns needs a namespace")
            check_ns(namespace)
        with self.cluster.lock:
            records = [
                r
                for r in self.cluster.runs.values()
                if (
                    r.experiment_id == experiment_id
                    if experiment_id
                    else (r.namespace or None) == (namespace or None)
                )
            ]
        sort_by = query.get("sort_by", "")
        if sort_by not in ("", "created_at", "created_at desc"):
            raise ApiError(400, f"Invalid input error: cannot sort by {sort_by!r}")
        desc = sort_by.endswith("desc")
        records = self._filtered(
            records,
            query.get("filter"),
            {
                "state": lambda r: self.cluster.local_run(r.run_id).state.value,
                "display_name": lambda r: r.display_name,
                "run_id": lambda r: r.run_id,
                "storage_state": lambda r: r.storage_state,  # the KFP UI's runs page filters on it
            },
        )
        records.sort(key=lambda r: (r.created_at, r.run_id), reverse=desc)
        page, token, total = self._page(records, query, lambda r: [r.created_at, r.run_id], asc=not desc)
        return k.V2beta1ListRunsResponse(
            runs=[self.cluster.run_model(r, details=False) for r in page],
            total_size=total,
            next_page_token=token,
        )

    @staticmethod
    def _filtered(items: list[Any], raw: str | None, fields: dict[str, Callable[[Any], Any]]) -> list[Any]:
        if not raw:
            return items
        try:
            spec = json.loads(raw)
        except ValueError:
            raise ApiError(400, "Invalid input error: the filter is not JSON") from None
        for p in spec.get("predicates", []):
            key = p.get("key")
            if key not in fields:
                raise ApiError(400, f"Invalid input error: cannot filter on {key!r}")
            op = p.get("operation", p.get("op"))
            op = _OPERATIONS.get(op, op) if isinstance(op, int) else op
            value = p.get("string_value", p.get("stringValue"))
            values = (p.get("string_values") or p.get("stringValues") or {}).get("values", [])
            get = fields[key]
            if op == "EQUALS":
                items = [i for i in items if get(i) == value]
            elif op == "NOT_EQUALS":
                items = [i for i in items if get(i) != value]
            elif op == "IN":
                items = [i for i in items if get(i) in values]
            elif op == "IS_SUBSTRING":
                items = [i for i in items if str(value) in str(get(i))]
            else:
                raise ApiError(400, f"Invalid input error: unsupported filter operation {op!r}")
        return items

    @staticmethod
    def _page(
        items: list[Any], query: dict[str, str], key: Callable[[Any], list[Any]], *, asc: bool
    ) -> tuple[list[Any], str, int]:
        """Keyset paging as KFP's server does it: the token holds the sort key of the next item."""
        total = len(items)
        size = int(query.get("page_size") or 20)
        token = query.get("page_token")
        start = 0
        if token:
            try:
                mark = json.loads(base64.urlsafe_b64decode(token.encode()))
            except ValueError:
                raise ApiError(400, "Invalid input error: bad page token") from None
            start = next(
                (i for i, item in enumerate(items) if (key(item) >= mark if asc else key(item) <= mark)),
                len(items),
            )
        page = items[start : start + size]
        rest = items[start + size :]
        next_token = base64.urlsafe_b64encode(json.dumps(key(rest[0])).encode()).decode() if rest else ""
        return page, next_token, total


class _Handler(BaseHTTPRequestHandler):
    owner: StandIn
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def setup(self) -> None:
        super().setup()
        # As Go's net/http (the KFP server) does: without it, headers and body leave in two segments and
        # a keep-alive client waits ~40 ms on each answer (Nagle's algorithm against delayed ACKs).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.owner._lock:
            self.owner._connections.add(self.connection)

    def finish(self) -> None:
        with self.owner._lock:
            self.owner._connections.discard(self.connection)
        super().finish()

    def _serve(self, method: str) -> None:
        parts = urlsplit(self.path)
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        line = f"{method} {self.path}"
        self.owner.requests.append(line)
        fault = self.owner._fault_for(line)
        if fault is not None:
            if fault.hold_until is not None:
                fault.released.wait(fault.delay)
                with self.owner._lock:  # answered: a request arriving from now on releases nothing
                    self.owner._held.remove(fault)
            elif fault.delay:
                time.sleep(fault.delay)
            if fault.drop:
                self.close_connection = True
                self.connection.close()
                return
            if fault.status:
                self._answer(
                    fault.status,
                    json.dumps({"error": "injected", "code": 13, "message": "injected fault"}).encode(),
                )
                return
        try:
            result = self.owner.route(method, parts.path, query, body, self.headers)
            if isinstance(result, GrpcWeb):
                self._answer(200, bytes(result), "application/grpc-web+proto")
                return
            if isinstance(result, PlainText):
                self._answer(200, result.encode(), "text/plain; charset=utf-8")
                return
            if isinstance(result, Download):
                disposition = f'attachment; filename="{result.filename}"'
                self._answer(200, result.body, result.content_type, {"Content-Disposition": disposition})
                return
            payload = dump(result) if not isinstance(result, dict) else json.dumps(result).encode()
            self._answer(200, payload)
        except ApiError as exc:
            if parts.path == "/k8s/pod/logs":  # the UI server answers its own errors as text
                self._answer(exc.status, exc.message.encode(), "text/html; charset=utf-8")
                return
            if parts.path == ARTIFACTS_PATH:
                self._answer(exc.status, exc.message.encode(), "text/plain; charset=utf-8")
                return
            self._answer(
                exc.status,
                json.dumps({"error": exc.message, "code": exc.code, "message": exc.message}).encode(),
            )

    def _answer(
        self,
        status: int,
        payload: bytes,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_DELETE(self) -> None:
        self._serve("DELETE")


__all__ = ["ApiError", "Fault", "RunRecord", "StandIn"]
