"""Reaching a Kubeflow Pipelines server: where it is, who we are, and what each failure means.

Configuration, first found wins: the backend's own options (`%pipeline backend kfp --host URL
[--namespace NS]`, the server extension's `backend_options`), then `KFP_HOST` or kfp's own
`KF_PIPELINES_ENDPOINT`. Credentials: `existing_token=` (a bearer token), `cookies=` (a multi-user
Kubeflow's session cookie, e.g. "authservice_session=..."), else the in-cluster service-account token
that Kubeflow mounts into notebook pods (`KF_PIPELINES_SA_TOKEN_PATH`, kfp's default path). kfp's
own context file (`~/.config/kfp/context.json`) still supplies a namespace the client reads itself.

Every failure becomes one `BackendError` line naming the server and what to do, never a traceback:
unreachable, 401, 403 (usually the namespace), 404 on the v2beta1 API (a server older than KFP 2.0),
other answers with the server's own message.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from ...errors import BackendError, BackendUnavailable, RunNotFound, UsageError

T = TypeVar("T")

HOST_ENV = "KFP_HOST"
KFP_SDK_HOST_ENV = "KF_PIPELINES_ENDPOINT"  # what kfp.Client itself reads
SA_TOKEN_ENV = "KF_PIPELINES_SA_TOKEN_PATH"
SA_TOKEN_PATH = "/var/run/secrets/kubeflow/pipelines/token"
REQUEST_TIMEOUT_S = 30.0  # one API call; nothing waits on a silent server longer than this


@dataclass(frozen=True)
class Connection:
    host: str
    namespace: str | None
    existing_token: str | None
    cookies: str | None
    ui_host: str
    timeout: float = REQUEST_TIMEOUT_S
    # A projected service-account token: the kubelet rewrites the file before the token expires, so it
    # is read again for every request (by kfp's own ServiceAccountTokenVolumeCredentials in the client).
    token_path: str | None = None

    def bearer(self) -> str | None:
        if self.existing_token:
            return self.existing_token
        if self.token_path:
            try:
                with open(self.token_path) as f:
                    return f.read().strip() or None
            except OSError:
                return None
        return None

    def headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        token = self.bearer()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if self.cookies:
            headers["Cookie"] = self.cookies
        return headers


def resolve(
    host: str | None,
    namespace: str | None,
    existing_token: str | None,
    cookies: str | None,
    ui_host: str | None,
    timeout: float | None,
) -> Connection:
    """The connection settings from the options, then the environment; UsageError without a host."""
    url = host or os.environ.get(HOST_ENV) or os.environ.get(KFP_SDK_HOST_ENV)
    if not url:
        raise UsageError(
            "the kfp backend needs the KFP server's URL: `%pipeline backend kfp --host URL`, "
            f"the {HOST_ENV} environment variable, or backend_options {{'host': URL}} for the server"
        )
    if not url.startswith(("http://", "https://")):
        raise UsageError(f"KFP host {url!r} must start with http:// or https://")
    url = url.rstrip("/")
    token_path = None
    if existing_token is None and cookies is None:
        path = os.environ.get(SA_TOKEN_ENV, SA_TOKEN_PATH)
        if os.path.isfile(path):  # inside a Kubeflow notebook pod
            token_path = path
    return Connection(
        host=url,
        namespace=namespace or None,
        existing_token=existing_token,
        token_path=token_path,
        cookies=cookies,
        ui_host=(ui_host or url).rstrip("/"),
        timeout=REQUEST_TIMEOUT_S if timeout is None else float(timeout),
    )


def server_message(body: Any) -> str:
    """The server's own words from a KFP error body ({"error": ..., "message": ..., "code": ...})."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if not body:
        return ""
    try:
        data = json.loads(body)
    except ValueError:
        return str(body).strip()[:300]
    if isinstance(data, dict):
        return str(data.get("message") or data.get("error") or "").strip()[:300]
    return ""


def explain(conn: Connection, status: int | None, message: str, what: str) -> BackendError:
    """One line for a failed call: what was asked of which server, and what to do."""
    where = f"the KFP server at {conn.host}"
    said = f": {message}" if message else ""
    if status is None:
        return BackendUnavailable(
            f"{where} is unreachable while {what} ({message or 'no answer'}); check the host "
            f"(--host or {HOST_ENV}) and that the server or its port-forward is up"
        )
    if status == 401:
        if conn.token_path and not conn.existing_token:
            return BackendError(
                f"{where} refused the service-account token in {conn.token_path} while {what} "
                f"(401 Unauthorized{said}); the token has expired and was not renewed: check that the "
                "pod's projected token volume is mounted there"
            )
        return BackendError(
            f"{where} refused our credentials while {what} (401 Unauthorized{said}); give a valid "
            "token (existing_token=) or session cookie (cookies=), a token may have expired"
        )
    if status == 403:
        ns = f"namespace {conn.namespace!r}" if conn.namespace else "the default namespace"
        return BackendError(
            f"{where} denied access to {ns} while {what} (403 Forbidden{said}); check --namespace "
            "(your Kubeflow profile's namespace) and that your account may use it"
        )
    if status == 404:
        return BackendError(
            f"{where} has no Kubeflow Pipelines v2beta1 API (404 while {what}); the server is older "
            "than KFP 2.0 or the URL is not the pipelines endpoint: upgrade, or point --host at it"
        )
    if status >= 500:
        return BackendUnavailable(
            f"{where} failed while {what} ({status}{said}); try again, or see the server's logs"
        )
    return BackendError(f"{where} refused {what} ({status}{said})")


def call(conn: Connection, what: str, fn: Callable[[], T], *, run_id: str | None = None) -> T:
    """`fn()` (a kfp_server_api call), with its failures turned into our errors. `run_id`: a 404 (or
    KFP's 400 for a malformed id) means no such run."""
    import kfp_server_api
    import urllib3

    try:
        return fn()
    except kfp_server_api.ApiException as exc:
        status = int(exc.status) if exc.status else None
        message = server_message(exc.body) or str(exc.reason or "")
        if run_id is not None and status in (400, 404):
            raise RunNotFound(
                f"no run {run_id!r} on the KFP server at {conn.host} (deleted there, or never made)"
            ) from None
        if status == 0 or status is None:  # kfp_server_api wraps some transport errors this way
            raise explain(conn, None, message, what) from None
        raise explain(conn, status, message, what) from None
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise explain(conn, None, _short(reason), what) from None


def _short(reason: Any) -> str:
    text = str(reason)
    for marker in ("Connection refused", "timed out", "Name or service not known", "Connection reset"):
        if marker in text:
            return marker.lower() if marker != "Connection refused" else "connection refused"
    return text.split(": ", 1)[-1][:200]


def make_client(conn: Connection) -> Any:
    """A `kfp.Client` for the connection (after our health check, api_reader.health, so its own
    health retries never wait)."""
    import kfp

    credentials = None
    if conn.token_path and not conn.existing_token:
        from kfp.client.set_volume_credentials import ServiceAccountTokenVolumeCredentials

        credentials = ServiceAccountTokenVolumeCredentials(path=conn.token_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # "only works with KFP v2.0.0-beta.2 and later"
        return kfp.Client(
            host=conn.host,
            namespace=conn.namespace or "kubeflow",
            existing_token=conn.existing_token,
            cookies=conn.cookies,
            ui_host=conn.ui_host,
            credentials=credentials,
        )
