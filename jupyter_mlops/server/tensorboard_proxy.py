"""`mlops/tensorboard/<id>/...`: the server extension's proxy to the TensorBoards it started.

What it guards against (the flaws found in other Jupyter proxies):
- where it goes: only to 127.0.0.1 and the port of a TensorBoard this server started for a registered
  id; nothing in the URL names a host or port, so `@`, `%2F`, host and port tricks reach nothing else;
  paths with `.`/`..` segments or control characters are refused;
- who may use it: every method needs a Jupyter login (no token: 403, never a login redirect);
  TensorBoard's own POSTs (time series, hparams) carry no Jupyter XSRF token, so a POST is accepted
  only from this page's own origin (Origin, else Referer, equal to Host) or with a token header;
- what crosses: no cookie, Authorization or other client header beyond a short list goes upstream,
  no Set-Cookie comes back; TensorBoard's CSP is kept with `frame-ancestors 'self'` added;
- errors are plain text, escaped; responses are streamed as they come.
"""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import unquote, urlparse

import tornado.web
from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.httputil import HTTPHeaders, parse_response_start_line

from ..tensorboards.process import TensorBoardStartError
from .base import AUTH_RESOURCE
from .tensorboard_manager import PROXY_PREFIX, manager_of

REQUEST_HEADERS = ("Accept", "Accept-Encoding", "Accept-Language", "Content-Type", "If-None-Match",
                   "If-Modified-Since", "Range")  # fmt: skip
RESPONSE_HEADERS = ("Content-Type", "Content-Encoding", "Cache-Control", "ETag", "Last-Modified", "Expires",
                    "Content-Disposition", "Content-Range", "Accept-Ranges", "Vary",
                    "X-Content-Type-Options")  # fmt: skip
MAX_BODY = 64 * 1024 * 1024
_BAD_CHARACTERS = re.compile(r"[\x00-\x1f\x7f\\]")


def confined(rest: str) -> bool:
    """A path below the instance's root: no dot segments or odd characters, even percent-encoded."""
    decoded = rest
    for _ in range(3):  # %252e%252e decodes twice
        decoded = unquote(decoded)
    parts = decoded.split("/")
    return not _BAD_CHARACTERS.search(decoded) and not any(p in (".", "..") for p in parts)


class TensorBoardProxyHandler(ExtensionHandlerMixin, JupyterHandler):
    auth_resource = AUTH_RESOURCE
    SUPPORTED_METHODS = ("GET", "HEAD", "POST")

    def get_login_url(self) -> str:
        raise tornado.web.HTTPError(403, "log in to Jupyter to see TensorBoard")

    def check_xsrf_cookie(self) -> None:
        """POSTs from TensorBoard's page have no XSRF token: same origin, or a token header, instead."""
        if not hasattr(self, "_jupyter_current_user") or self.token_authenticated:
            return
        host = self.request.headers.get("Host", "")
        origin = self.request.headers.get("Origin")
        source = origin if origin is not None else self.request.headers.get("Referer", "")
        if not host or not source or urlparse(source).netloc != host:
            raise tornado.web.HTTPError(403, "TensorBoard accepts this request only from its own page")

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        message = self._reason
        exc = kwargs.get("exc_info", (None, None))[1]
        if isinstance(exc, tornado.web.HTTPError) and exc.log_message:
            message = exc.log_message % exc.args if exc.args else exc.log_message
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        self.clear_header("Content-Encoding")
        self.finish(f"<!doctype html><title>{status_code}</title><pre>{html.escape(str(message))}</pre>")

    @tornado.web.authenticated
    @authorized
    async def get(self, tb_id: str, rest: str) -> None:
        await self._proxy(tb_id)

    @tornado.web.authenticated
    @authorized
    async def head(self, tb_id: str, rest: str) -> None:
        await self._proxy(tb_id)

    @tornado.web.authenticated
    @authorized
    async def post(self, tb_id: str, rest: str) -> None:
        await self._proxy(tb_id)

    async def _proxy(self, tb_id: str) -> None:
        marker = f"/{PROXY_PREFIX}/{tb_id}/"
        start = self.request.path.find(marker, max(0, len(self.base_url) - 1))
        raw_rest = self.request.path[start + len(marker) :] if start >= 0 else None
        if raw_rest is None or not confined(raw_rest):
            raise tornado.web.HTTPError(404, "no such TensorBoard page")
        manager = manager_of(self.extensionapp)
        for attempt in (1, 2):
            try:
                instance = await manager.ensure(tb_id)
            except TensorBoardStartError as exc:
                raise tornado.web.HTTPError(502, str(exc)) from None
            if instance is None:
                raise tornado.web.HTTPError(
                    404, f"no TensorBoard {tb_id} here: show it from a notebook again"
                )
            query = f"?{self.request.query}" if self.request.query else ""
            url = f"http://127.0.0.1:{instance.port}{marker}{raw_rest}{query}"
            if await self._forward(url) or attempt == 2:
                return
            manager.forget(tb_id)  # it died under us before answering: start it again, once

    async def _forward(self, url: str) -> bool:
        """Stream TensorBoard's answer; False if it could not be reached (nothing sent yet)."""
        headers = HTTPHeaders()
        for name in REQUEST_HEADERS:
            value = self.request.headers.get(name)
            if value is not None:
                headers[name] = value
        body = self.request.body if self.request.method == "POST" else None
        if body is not None and len(body) > MAX_BODY:
            raise tornado.web.HTTPError(413, "request too large for TensorBoard")
        state: dict[str, Any] = {"status": None, "headers": HTTPHeaders(), "started": False}

        def on_header(line: str) -> None:
            if line.startswith("HTTP/"):
                state["status"] = parse_response_start_line(line.strip()).code
                state["headers"] = HTTPHeaders()
            elif line.strip():
                state["headers"].parse_line(line)

        def on_chunk(chunk: bytes) -> None:
            if not state["started"]:
                self._start_response(state)
            self.write(chunk)
            self.flush()

        request = HTTPRequest(url, method=self.request.method or "GET", headers=headers, body=body,
                              header_callback=on_header, streaming_callback=on_chunk,
                              follow_redirects=False, decompress_response=False, request_timeout=3600,
                              connect_timeout=10, allow_nonstandard_methods=True)  # fmt: skip
        response = await AsyncHTTPClient().fetch(request, raise_error=False)
        if response.code == 599 and not state["started"]:
            return False
        if not state["started"]:
            state["status"] = state["status"] or response.code
            self._start_response(state)
        self.finish()
        return True

    def _start_response(self, state: dict[str, Any]) -> None:
        state["started"] = True
        upstream: HTTPHeaders = state["headers"]
        self.set_status(state["status"] or 502)
        for name in RESPONSE_HEADERS:
            if name in upstream:
                self.set_header(name, upstream[name])
        location = upstream.get("Location")
        if location:  # TensorBoard redirects within itself: keep only the path, on our origin
            parsed = urlparse(location)
            path = parsed.path + (f"?{parsed.query}" if parsed.query else "")
            if path.startswith("/"):
                path = self.base_url.rstrip("/") + path
            self.set_header("Location", path)
        policy = upstream.get("Content-Security-Policy")
        policy = f"{policy.rstrip(';')}; frame-ancestors 'self'" if policy else "frame-ancestors 'self'"
        self.set_header("Content-Security-Policy", policy)


def handlers() -> list[tuple[str, type[tornado.web.RequestHandler]]]:
    from .tensorboard_handlers import TensorBoardHandler, TensorBoardsHandler

    return [
        (rf"/{PROXY_PREFIX}/(?P<tb_id>[^/]+)/(?P<rest>.*)", TensorBoardProxyHandler),
        (r"/mlops/api/tensorboards", TensorBoardsHandler),
        (r"/mlops/api/tensorboards/(?P<tb_id>[^/]+)", TensorBoardHandler),
    ]


def attach(app: Any) -> None:
    """At server start: tell kernels started by this server that it proxies TensorBoard."""
    from ..tensorboards.registry import announce_server

    app._tensorboard_marker = announce_server(app.serverapp.base_url)


def detach(app: Any) -> None:
    """At server stop: stop every TensorBoard it started, and take back what `attach` said."""
    manager_of(app).stop_all()
    marker = getattr(app, "_tensorboard_marker", None)
    if marker is not None:
        marker.unlink(missing_ok=True)
