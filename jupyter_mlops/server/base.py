"""The base of every REST handler of the server extension, and the status call.

Every verb is authenticated and authorized (tests/server/test_handler_auth.py checks every route).
Routes are relative to the server's base URL; `MlopsExtensionApp` prefixes them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

import tornado.web
from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin

from .._version import __version__
from ..errors import BackendError, Forbidden, MlopsError, NotFound
from ..render import finite_json
from ..render.style import STATE_STYLES
from .public_paths import scrub

if TYPE_CHECKING:
    from ..backends.base import Backend

API_PREFIX = "/mlops/api"

# The resource name jupyter-server's Authorizer sees for every jupyter-mlops call: a deployment can
# grant or deny "mlops" like it does "contents" or "kernels".
AUTH_RESOURCE = "mlops"

T = TypeVar("T")

# Offsets and sequence numbers beyond this overflow SQLite's INTEGER and file seeks.
MAX_INT_ARGUMENT = 2**53


def http_error(status: int, message: str) -> tornado.web.HTTPError:
    """An HTTPError whose JSON body is `{"message": message}` (APIHandler.write_error)."""
    return tornado.web.HTTPError(status, message)


class Services(Protocol):
    """What handlers use of the extension app (`MlopsExtensionApp`), which registers them: handlers
    never import the app."""

    backend: str

    def get_backend(self) -> Backend: ...

    async def in_thread(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T: ...


class MlopsHandler(ExtensionHandlerMixin, APIHandler):
    """Base of every jupyter-mlops handler: the extension's app, its backend, errors as JSON."""

    auth_resource = AUTH_RESOURCE

    @property
    def mlops_app(self) -> Services:
        # The mixin types it as the base ExtensionApp; the server gives each handler its own app.
        return cast("Services", self.extensionapp)

    async def backend_call(self, func: Callable[[Backend], T]) -> T:
        """`func(backend)` in a worker thread; the package's errors become 4xx/5xx JSON answers.

        One place maps errors, so no handler repeats a try/except chain."""
        app = self.mlops_app

        def call() -> T:
            return func(app.get_backend())

        try:
            return await app.in_thread(call)
        except NotFound as exc:  # a run, step or artifact: mapped here once for every handler
            raise http_error(404, _text(exc)) from exc
        except Forbidden as exc:
            raise http_error(403, _text(exc)) from exc
        except BackendError as exc:
            # The backend (store, cluster) failed, not the request: the client may retry.
            raise http_error(503, _text(exc)) from exc
        except MlopsError as exc:
            raise http_error(400, _text(exc)) from exc

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        _kind, exc, _trace = kwargs.get("exc_info") or (None, None, None)
        text = _message(exc) if isinstance(exc, tornado.web.HTTPError) else None
        if not text or not isinstance(exc, tornado.web.HTTPError):
            super().write_error(status_code, **kwargs)
            return
        # Written here, not by APIHandler.write_error: that answers `log_message`, which tornado
        # gives with each `%` doubled (`%pipeline runs` came out as `%%%%pipeline runs`).
        reply = {"message": scrub(text, self._public_places()), "reason": exc.reason}
        self.set_header("Content-Type", "application/json")
        self.log.warning("wrote error: %r", reply["message"])
        self.finish(json.dumps(reply))

    def _public_places(self) -> list[tuple[Path | None, str]]:
        """Folders an error may name, and how the browser is told them (server/public_paths.py)."""
        places: list[tuple[Path | None, str]] = [(Path(self.serverapp.root_dir).expanduser().resolve(), "")]
        try:
            backend = self.mlops_app.get_backend()
        except Exception:  # the backend itself failed: its paths stay cut to their names
            return places
        home = getattr(backend, "home", None)
        runs_root = getattr(getattr(backend, "store", None), "runs_root", None)
        places += [(runs_root, "<artifact root>"), (home, "$JUPYTER_MLOPS_HOME")]
        return places

    def write(self, chunk: str | bytes | dict[str, Any]) -> None:
        # tornado's own dict encoding would write NaN/Infinity, which JSON.parse refuses.
        if isinstance(chunk, dict):
            self.set_header("Content-Type", "application/json; charset=UTF-8")
            chunk = finite_json.dumps(chunk)
        super().write(chunk)

    def json_body(self) -> dict[str, Any]:
        try:
            body = json.loads(self.request.body or b"null")
        except ValueError as exc:
            raise http_error(400, f"the request body is not JSON: {exc}") from exc
        if not isinstance(body, dict):
            raise http_error(400, "the request body must be a JSON object")
        return body

    def int_argument(self, name: str, default: int, *, minimum: int = 0, maximum: int | None = None) -> int:
        raw = self.get_query_argument(name, None)
        if raw is None or raw == "":
            return default
        return checked_int(f"query parameter {name!r}", raw, minimum=minimum, maximum=maximum)


def checked_int(what: str, raw: str, *, minimum: int = 0, maximum: int | None = None) -> int:
    """`raw` as an integer within bounds, else a 400 naming `what` (a query parameter, a header)."""
    try:
        value = int(raw)
    except ValueError:
        raise http_error(400, f"{what} must be an integer, got {raw!r}") from None
    top = MAX_INT_ARGUMENT if maximum is None else maximum
    if value < minimum or value > top:
        raise http_error(400, f"{what} must be between {minimum} and {top}, got {value}")
    return value


def _message(exc: tornado.web.HTTPError) -> str | None:
    """An HTTPError's message as it was written (tornado >= 6.5 doubles each `%` of `log_message`)."""
    get_message = getattr(exc, "get_message", None)
    if callable(get_message):
        return cast("str | None", get_message())
    raw = exc.log_message
    return raw % exc.args if raw and exc.args else raw


def _text(exc: BaseException) -> str:
    # KeyError's str() quotes its message; NotFound is a KeyError.
    return str(exc.args[0]) if exc.args and isinstance(exc.args[0], str) else str(exc)


class StatusHandler(MlopsHandler):
    """`GET mlops/api/status`: which backend runs pipelines and whether it can be reached."""

    @tornado.web.authenticated
    @authorized
    async def get(self) -> None:
        status: dict[str, Any] = {
            "backend": self.mlops_app.backend,
            "reachable": True,
            "version": __version__,
            # The run views' palette, from the one table the notebook widgets use too.
            "state_styles": STATE_STYLES,
        }
        try:
            backend = await self.mlops_app.in_thread(self.mlops_app.get_backend)
            details = await self.mlops_app.in_thread(backend.status)
        except Exception as exc:  # any failure to reach the backend is what this light reports
            status["reachable"] = False
            status["message"] = f"the {self.mlops_app.backend!r} backend is unreachable: {_text(exc)}"
        else:
            status["reachable"] = details.reachable
            status["capabilities"] = backend.capabilities.to_json()  # the sidebar asks, not assumes
            if details.message:
                status["message"] = details.message
            for key in ("runs", "active_runs", "max_workers", "ui_url"):
                value = getattr(details, key)
                if value is not None:
                    status[key] = value
        self.finish(status)


class UnknownRouteHandler(MlopsHandler):
    """Any other path under `mlops/api/`: a JSON 404 naming it and the routes there are, not the
    server's HTML page (a REST client, `curl`, reads the message). Registered last."""

    async def _unknown(self, rest: str) -> None:
        raise http_error(
            404,
            f"no route mlops/api/{rest} for {self.request.method}: the routes are status, experiments, "
            "runs, runs/RUN, runs/RUN/cancel, runs/RUN/events, runs/RUN/steps/STEP/log, "
            "runs/RUN/steps/STEP/artifacts/NAME, schedules, tensorboards (openapi.yaml in the package "
            "describes them)",
        )

    @tornado.web.authenticated
    @authorized
    async def get(self, rest: str) -> None:
        await self._unknown(rest)

    @tornado.web.authenticated
    @authorized
    async def post(self, rest: str) -> None:
        await self._unknown(rest)

    @tornado.web.authenticated
    @authorized
    async def put(self, rest: str) -> None:
        await self._unknown(rest)

    @tornado.web.authenticated
    @authorized
    async def patch(self, rest: str) -> None:
        await self._unknown(rest)

    @tornado.web.authenticated
    @authorized
    async def delete(self, rest: str) -> None:
        await self._unknown(rest)
