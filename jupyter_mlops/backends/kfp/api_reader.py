"""GET requests to the KFP v2beta1 API read as plain JSON, over keep-alive connections kept per backend.

The pages the run lists show (a page of runs, the experiments' names) are read here rather than
through kfp_server_api's ApiClient: the same requests (path, query, the headers `kfp.Client` sends:
the bearer token, or the session cookie), but over `http.client` connections kept open between
requests, without urllib3's and the generated client's layers (about half the client's time for a
page), and sent side by side where a page needs two answers (`send` both, then `answer` each).

TLS as kfp_server_api does it: the server's certificate checked against certifi's roots. A connection
the server closed while it was idle is retried once on a new one (a GET changes nothing); every other
failure becomes the same one-line BackendError as the rest of the backend (connection.explain).
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ...errors import BackendError, RunNotFound
from .connection import Connection, _short, explain, server_message

API_PATH = "/apis/v2beta1/"
HEALTH_TIMEOUT_S = 10.0  # the first request to a server: one that does not answer is refused soon
MAX_IDLE = 8  # connections kept open per backend (the server extension lists from a few threads)
# A kept connection the server closed meanwhile fails at once in one of these ways: asked again anew.
_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError, http.client.BadStatusLine)


@dataclass
class Sent:
    """A request on its way: `ApiReader.answer` reads its answer, `ApiReader.drop` abandons it."""

    connection: http.client.HTTPConnection
    target: str
    what: str
    reused: bool


class ApiReader:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        parts = urllib.parse.urlsplit(conn.host)
        self._https = parts.scheme == "https"
        self._host = parts.hostname or ""
        self._port = parts.port
        self._base = parts.path.rstrip("/") + API_PATH  # a gateway's prefix, e.g. https://kubeflow/pipeline
        self._idle: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()
        self._tls: ssl.SSLContext | None = None

    def get(
        self,
        path: str,
        query: dict[str, Any],
        what: str,
        *,
        run_id: str | None = None,
        decode: Callable[[bytes], Any] = json.loads,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """`GET /apis/v2beta1/{path}?{query}`'s JSON object (read by `decode`); BackendError
        (RunNotFound for a missing `run_id`) saying what failed while doing `what`."""
        return self.answer(self.send(path, query, what, timeout=timeout), run_id=run_id, decode=decode)

    def health(self) -> dict[str, Any]:
        """`GET healthz` with a short timeout (kfp.Client's own check retries for 25 s): the health
        answer, or the BackendError saying why not. Its connection is kept for the requests that
        follow (a new kernel's first page of runs then opens none)."""
        return self.health_answer(self.send_health())

    def send_health(self) -> Sent:
        """The health check sent (`health_answer` reads it): another request may go beside it."""
        return self.send("healthz", {}, "checking its health", timeout=HEALTH_TIMEOUT_S)

    def health_answer(self, sent: Sent) -> dict[str, Any]:
        def decode(body: bytes) -> Any:
            try:
                return json.loads(body)
            except ValueError:
                raise BackendError(
                    f"the KFP server at {self.conn.host} answered its health check with something that "
                    "is not JSON: is --host the pipelines endpoint (not the dashboard's login page)?"
                ) from None

        return self.answer(sent, decode=decode)

    def send(self, path: str, query: dict[str, Any], what: str, *, timeout: float | None = None) -> Sent:
        """Send the request now (on a kept connection, or a new one) without waiting for its answer."""
        target = self._base + path
        given = {k: v for k, v in query.items() if v is not None and v != ""}
        if given:
            target += "?" + urllib.parse.urlencode(given)
        return self.send_target(target, what, timeout=timeout)

    def origin_path(self, url: str) -> str | None:
        """The path of `url` on this reader's server (same scheme, host and port; e.g. the KFP UI's
        own endpoints when the UI is the API's host), or None for another server."""
        parts = urllib.parse.urlsplit(url)
        if (parts.scheme == "https") != self._https or (parts.hostname or "") != self._host:
            return None
        if parts.port != self._port:
            return None
        return parts.path.rstrip("/")

    def send_target(self, target: str, what: str, *, timeout: float | None = None) -> Sent:
        """`send` for a whole path on this server (`origin_path`), outside the v2beta1 API too."""
        connection, reused = self._take()
        limit = min(self.conn.timeout, timeout) if timeout is not None else self.conn.timeout
        connection.timeout = limit  # connecting, and each read of this answer
        if connection.sock is not None:
            connection.sock.settimeout(limit)
        sent = Sent(connection, target, what, reused)
        try:
            self._request(sent)
        except _STALE:
            if not reused:
                raise self._unreachable(sent, "connection reset") from None
            sent = self._again(sent)
        except (OSError, http.client.HTTPException) as exc:
            raise self._unreachable(sent, exc) from None
        return sent

    def answer(
        self, sent: Sent, *, run_id: str | None = None, decode: Callable[[bytes], Any] = json.loads
    ) -> dict[str, Any]:
        """The sent request's answer, as a JSON object."""
        return self.decoded(sent, self.answer_body(sent, run_id=run_id), decode)

    def decoded(self, sent: Sent, body: bytes, decode: Callable[[bytes], Any] = json.loads) -> dict[str, Any]:
        """An answer's body (`answer_body`) as a JSON object, read by `decode`."""
        try:
            data = decode(body or b"{}")
        except ValueError:
            raise BackendError(
                f"the KFP server at {self.conn.host} answered with something that is not JSON while "
                f"{sent.what}: is --host the pipelines endpoint (not the dashboard's login page)?"
            ) from None
        return data if isinstance(data, dict) else {}

    def answer_body(self, sent: Sent, *, run_id: str | None = None) -> bytes:
        """The sent request's answer as the server sent it (a successful one: errors are raised)."""
        response, body = self.response(sent)
        status = response.status
        if status >= 400:
            if run_id is not None and status in (400, 404):
                raise RunNotFound(
                    f"no run {run_id!r} on the KFP server at {self.conn.host} (deleted there, or never made)"
                )
            raise explain(self.conn, status, server_message(body), sent.what)
        if status >= 300:  # a gateway sending us to its login page: the credentials were not accepted
            where = response.getheader("Location") or "another page"
            raise BackendError(
                f"the KFP server at {self.conn.host} sent us to {where} ({status}) while {sent.what}: "
                "its gateway did not accept our credentials; give a valid token (existing_token=) or "
                "session cookie (cookies=), or point --host at the pipelines endpoint"
            )
        return body

    def response(self, sent: Sent) -> tuple[http.client.HTTPResponse, bytes]:
        """The sent request's answer, whatever its status, and its body; BackendError when the server
        cannot be reached. The connection is kept for the next request when the server keeps it."""
        try:
            try:
                response = sent.connection.getresponse()
            except _STALE:
                if not sent.reused:
                    raise
                sent = self._again(sent)
                response = sent.connection.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException) as exc:
            raise self._unreachable(sent, exc) from None
        if response.will_close:
            sent.connection.close()
        else:
            self._keep(sent.connection)
        return response, body

    def drop(self, sent: Sent) -> None:
        """Abandon a sent request (its answer is not wanted any more): its connection is closed."""
        sent.connection.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()

    # -- connections ----------------------------------------------------------------------------------

    def _request(self, sent: Sent) -> None:
        sent.connection.request("GET", sent.target, headers=self.conn.headers())

    def _again(self, sent: Sent) -> Sent:
        """The request anew on a new connection (the kept one was closed by the server meanwhile)."""
        sent.connection.close()
        fresh = Sent(self._new(), sent.target, sent.what, reused=False)
        fresh.connection.timeout = sent.connection.timeout
        try:
            self._request(fresh)
        except (OSError, http.client.HTTPException) as exc:
            raise self._unreachable(fresh, exc) from None
        return fresh

    def _take(self) -> tuple[http.client.HTTPConnection, bool]:
        with self._lock:
            if self._idle:
                return self._idle.pop(), True
        return self._new(), False

    def _keep(self, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            if len(self._idle) < MAX_IDLE:
                self._idle.append(connection)
                return
        connection.close()

    def _new(self) -> http.client.HTTPConnection:
        timeout = self.conn.timeout
        if not self._https:
            return http.client.HTTPConnection(self._host, self._port, timeout=timeout)
        if self._tls is None:
            self._tls = _tls_context()
        return http.client.HTTPSConnection(self._host, self._port, timeout=timeout, context=self._tls)

    def _unreachable(self, sent: Sent, reason: Any) -> BackendError:
        sent.connection.close()
        if isinstance(reason, socket.timeout):
            reason = "timed out"
        return explain(self.conn, None, _short(reason), sent.what)


def _tls_context() -> ssl.SSLContext:
    try:
        import certifi  # what kfp_server_api checks the server's certificate against

        return ssl.create_default_context(cafile=certifi.where())
    except ImportError:
        return ssl.create_default_context()
