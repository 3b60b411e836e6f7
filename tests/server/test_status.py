"""The JupyterLab sidebar asks `GET mlops/api/status` which backend runs pipelines."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError, HTTPResponse

import jupyter_mlops
from jupyter_mlops.backends.registry import backend_class

from .conftest import SERVER_BACKEND

Fetch = Callable[..., Awaitable[HTTPResponse]]


async def test_status_names_the_backend_and_version(jp_fetch: Fetch) -> None:
    response = await jp_fetch("mlops", "api", "status")

    assert response.code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    body: dict[str, Any] = json.loads(response.body)
    assert body["backend"] == SERVER_BACKEND and body["reachable"] is True
    assert body["version"] == jupyter_mlops.__version__
    assert body["runs"] == 0 and body["active_runs"] == 0
    # What the backend can do, from the backend itself: the sidebar asks rather than assumes.
    expected = backend_class(SERVER_BACKEND).capabilities.to_json()
    assert body["capabilities"] == expected and body["capabilities"]["logs"] is True


class TestWithTheKfpBackendConfigured:
    @pytest.fixture
    def jp_server_config(self, jp_server_config: Any) -> Any:
        jp_server_config.MlopsExtensionApp.backend = "kfp"
        return jp_server_config

    async def test_status_names_the_configured_backend(self, jp_fetch: Fetch) -> None:
        response = await jp_fetch("mlops", "api", "status")

        body = json.loads(response.body)
        assert body["backend"] == "kfp"
        # No cluster here: the light is off and says why, and the server still answers.
        assert body["reachable"] is False and "kfp" in body["message"]


async def test_status_without_a_token_is_forbidden(jp_fetch: Fetch) -> None:
    with pytest.raises(HTTPClientError) as refused:
        await jp_fetch("mlops", "api", "status", headers={"Authorization": ""})

    assert refused.value.code == 403
