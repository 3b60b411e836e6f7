"""Step logs of KFP runs, through the KFP UI's own log endpoint where the deployment has one.

The v2beta1 API has no logs. The KFP UI's server (ml-pipeline-ui; frontend/server/handlers/
pod-logs.ts in kubeflow/pipelines) answers `GET /k8s/pod/logs?podname=&runid=&podnamespace=
&createdat=` with the main container's log as plain text, from the pod while it exists and from
Argo's log archive after (when the deployment archives logs). It is there when `ui_host` (by default
the host) is the UI's server, as with `kubectl port-forward svc/ml-pipeline-ui 8080:80` or the Kubeflow
gateway; the API server alone (ml-pipeline:8888) answers 404. One probe at connect time tells which.

The endpoint sends the whole log each time: a log is read at most once per `refresh` seconds per step
(views poll the selected step's log), and offsets are cut from the whole text here.
"""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from ...errors import BackendError
from .api_reader import ApiReader, Sent
from .connection import Connection, _short, explain

LOG_PATH = "/k8s/pod/logs"


def probe(conn: Connection) -> bool:
    """Whether the UI host serves the pod-log endpoint: it answers 400 ("podname argument is
    required") to a request without a pod; a host without it answers 404."""
    request = urllib.request.Request(conn.ui_host + LOG_PATH, headers=conn.headers())
    try:
        with urllib.request.urlopen(request, timeout=min(conn.timeout, 10.0)):
            return False  # the UI never answers 200 without a pod: a login page or a catch-all route
    except urllib.error.HTTPError as exc:
        return exc.code in (400, 422)
    except (urllib.error.URLError, OSError):
        return False


def send_probe(conn: Connection, reader: ApiReader, where: str) -> Sent | None:
    """The same probe on one of `reader`'s connections (the UI is the API's host, `where` its path
    there), sent without waiting for its answer (`probe_answer`); None if it could not be sent."""
    try:
        return reader.send_target(where + LOG_PATH, "probing its pod-log endpoint", timeout=10.0)
    except BackendError:
        return None


def probe_answer(reader: ApiReader, sent: Sent) -> bool:
    """What `probe` says, from the answer to `send_probe`'s request."""
    try:
        response, _ = reader.response(sent)
    except BackendError:
        return False
    return response.status in (400, 422)


class PodLogs:
    def __init__(self, conn: Connection, refresh: float) -> None:
        self.conn = conn
        self.refresh = refresh
        self._recent: dict[tuple[str, str], tuple[float, bytes, bool]] = {}
        self._lock = threading.Lock()
        self._clock = time.monotonic

    def read(self, run_id: str, pod_name: str, created_at: float | None, *, final: bool) -> bytes:
        """The whole main-container log of `pod_name` (UTF-8 bytes); BackendError saying why not."""
        key = (run_id, pod_name)
        now = self._clock()
        with self._lock:
            recent = self._recent.get(key)
        if recent is not None and (recent[2] or now - recent[0] < self.refresh):
            return recent[1]  # a log read once its step had finished no longer changes
        query: dict[str, Any] = {"podname": pod_name, "runid": run_id}
        if self.conn.namespace:
            query["podnamespace"] = self.conn.namespace
        if created_at:
            query["createdat"] = time.strftime("%Y-%m-%d", time.gmtime(created_at))
        url = f"{self.conn.ui_host}{LOG_PATH}?{urllib.parse.urlencode(query)}"
        request = urllib.request.Request(url, headers=self.conn.headers())
        what = f"reading the log of pod {pod_name}"
        try:
            with urllib.request.urlopen(request, timeout=self.conn.timeout) as response:
                text = bytes(response.read())
        except urllib.error.HTTPError as exc:
            said = exc.read().decode("utf-8", "replace").strip()[:300]
            raise explain(self.conn, exc.code, said, what) from None
        except (urllib.error.URLError, OSError) as exc:
            raise explain(self.conn, None, _short(getattr(exc, "reason", exc)), what) from None
        with self._lock:
            if len(self._recent) > 200:
                self._recent.clear()
            self._recent[key] = (now, text, final)
        return text
