"""Every verb of every handler jupyter-mlops registers refuses a request without credentials.

The routes are read from the running server's tornado router, so a handler added later is checked
without editing this file. The server's own safety net (`allow_unauthenticated_access=False`) is
turned off here: the handlers' decorators alone must refuse, because a user's server may run with
that setting left at its default.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from jupyter_server.base.handlers import APIHandler
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from tornado.routing import PathMatches, Router, Rule
from tornado.web import Application, RequestHandler
from tornado.websocket import WebSocketHandler, websocket_connect

VERBS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

# A value for every path parameter; a handler must refuse before it looks at it.
PROBE_SEGMENT = "probe"

# Tornado's xsrf check accepts a hex token when the cookie and the header agree. Sending such a pair
# gets a state-changing request past the XSRF check, so a 403 can only come from authentication.
XSRF_PAIR = "0123456789abcdef"
UNAUTHENTICATED_HEADERS = {
    "Authorization": "",
    "Cookie": f"_xsrf={XSRF_PAIR}",
    "X-XSRFToken": XSRF_PAIR,
}


@pytest.fixture
def jp_server_config(jp_server_config: Any) -> Any:
    jp_server_config.ServerApp.allow_unauthenticated_access = True
    return jp_server_config


def _rules(router: Router) -> Iterator[Rule]:
    """All rules of a tornado router, descending into nested routers."""
    for rule in getattr(router, "rules", []):
        if isinstance(rule.target, Router):
            yield from _rules(rule.target)
        else:
            yield rule


def mlops_routes(app: Application) -> list[tuple[str, type[RequestHandler]]]:
    """(pattern, handler class) for every route whose handler is defined in jupyter_mlops."""
    routes = []
    for rule in _rules(app.default_router):
        target = rule.target
        if isinstance(target, type) and target.__module__.startswith("jupyter_mlops"):
            assert isinstance(rule.matcher, PathMatches), rule
            routes.append((rule.matcher.regex.pattern, target))
    return routes


def path_for(pattern: str) -> str:
    """A concrete URL path that `pattern` matches: each group becomes PROBE_SEGMENT."""
    path, depth, i = [], 0, 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            if depth == 0:
                path.append(pattern[i + 1])
            i += 2
            continue
        if char == "(":
            if depth == 0:
                path.append(PROBE_SEGMENT)
            depth += 1
        elif char == ")":
            depth -= 1
        elif depth == 0 and char not in "^$":
            path.append(char)
        i += 1
    concrete = "".join(path)
    assert re.fullmatch(pattern, concrete), (
        f"cannot build a URL for route {pattern!r}: teach path_for() this pattern"
    )
    return concrete


def implemented_verbs(handler: type[RequestHandler]) -> list[str]:
    """The HTTP verbs the handler answers with its own code (not tornado's 405)."""
    verbs = []
    for verb in VERBS:
        method = getattr(handler, verb.lower())
        if method is getattr(RequestHandler, verb.lower()):
            continue
        if verb == "OPTIONS" and method is APIHandler.options:
            continue  # jupyter-server's CORS preflight: answers no data, by design unauthenticated
        verbs.append(verb)
    return verbs


async def test_the_extension_registers_its_routes(jp_serverapp: Any, jp_base_url: str) -> None:
    """Every route of openapi.yaml is served, so the check below covers each of them."""
    patterns = [pattern for pattern, _ in mlops_routes(jp_serverapp.web_app)]

    for route in (
        "status",
        "experiments",
        "runs",
        "runs/r1",
        "runs/r1/cancel",
        "runs/r1/events",
        "runs/r1/steps/s1/log",
        "runs/r1/steps/s1/artifacts/a1",
        "tensorboards",
        "tensorboards/0123456789ab",
    ):
        path = f"{jp_base_url}mlops/api/{route}"
        assert any(re.fullmatch(pattern, path) for pattern in patterns), (path, patterns)


async def test_every_verb_of_every_handler_refuses_a_request_without_credentials(
    jp_serverapp: Any, http_server_client: AsyncHTTPClient, jp_http_port: int
) -> None:
    checked, unprotected = [], []
    for pattern, handler in mlops_routes(jp_serverapp.web_app):
        path = path_for(pattern)
        if issubclass(handler, WebSocketHandler):
            code = await _websocket_code(f"ws://127.0.0.1:{jp_http_port}{path}")
            checked.append(f"WEBSOCKET {path}")
            if code != 403:
                unprotected.append(f"WEBSOCKET {path} ({handler.__name__}) answered {code}")
            continue
        for verb in implemented_verbs(handler):
            code = await _http_code(http_server_client, path, verb)
            checked.append(f"{verb} {path}")
            if code != 403:
                unprotected.append(f"{verb} {path} ({handler.__name__}) answered {code}")

    assert checked, "no jupyter-mlops handler found to check"
    assert not unprotected, "handlers answering without credentials:\n" + "\n".join(unprotected)


async def _http_code(client: AsyncHTTPClient, path: str, verb: str) -> int:
    body = b"{}" if verb in {"POST", "PUT", "PATCH"} else None
    try:
        response = await client.fetch(
            path,
            method=verb,
            body=body,
            headers=dict(UNAUTHENTICATED_HEADERS),
            follow_redirects=False,
            allow_nonstandard_methods=True,
        )
    except HTTPClientError as error:
        return error.code
    return response.code


async def _websocket_code(url: str) -> int:
    request = HTTPRequest(url, headers={"Authorization": ""})
    try:
        connection = await websocket_connect(request)
    except HTTPClientError as error:
        return error.code
    connection.close()
    return 101
