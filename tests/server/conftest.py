"""A real Jupyter server with the jupyter-mlops extension, per test (pytest-jupyter's `jp_fetch`).

pytest-jupyter's fixtures are imported here rather than registered for the whole suite, so their
autouse event-loop and cleanup fixtures stay inside `tests/server/`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from pytest_jupyter.jupyter_server import *  # noqa: F403  (fixtures and the async-test hooks)
from traitlets.config import Config


@pytest.fixture
def mlops_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test's runs live in its own directory, never in the user's."""
    home = tmp_path / "mlops-home"
    home.mkdir()
    monkeypatch.setenv("JUPYTER_MLOPS_HOME", str(home))
    return home


# The backend the server tests run against, chosen by configuration as a deployment chooses it:
# `MlopsExtensionApp.backend` (default "local") and `backend_options` (JSON), from the environment.
SERVER_BACKEND = os.environ.get("JUPYTER_MLOPS_SERVER_TEST_BACKEND", "local")
SERVER_BACKEND_OPTIONS = json.loads(os.environ.get("JUPYTER_MLOPS_SERVER_TEST_BACKEND_OPTIONS", "{}"))


@pytest.fixture
def jp_server_config(mlops_home: Path) -> Config:
    # allow_unauthenticated_access=False makes the server itself refuse any handler that forgot
    # its decorators; tests/server/test_handler_auth.py turns it back on to check the decorators.
    return Config(
        {
            "ServerApp": {
                "jpserver_extensions": {"jupyter_mlops": True},
                "allow_unauthenticated_access": False,
            },
            "MlopsExtensionApp": {"backend": SERVER_BACKEND, "backend_options": SERVER_BACKEND_OPTIONS},
        }
    )


# -- a client that checks every answer against openapi.yaml, and notebooks to run --------------

import time  # noqa: E402
from collections.abc import Awaitable, Callable  # noqa: E402
from typing import Any  # noqa: E402

import nbformat  # noqa: E402
from tornado.httpclient import HTTPClientError, HTTPResponse  # noqa: E402

from .openapi_check import check_response  # noqa: E402

Fetch = Callable[..., Awaitable[HTTPResponse]]


class MlopsApi:
    """`mlops/api` as the sidebar sees it; every response is checked against openapi.yaml."""

    def __init__(self, fetch: Fetch) -> None:
        self._fetch = fetch

    async def call(self, method: str, route: str, body: Any = None, **params: Any) -> tuple[int, Any]:
        kwargs: dict[str, Any] = {"method": method}
        if params:
            kwargs["params"] = {k: str(v) for k, v in params.items()}
        if method == "POST":
            kwargs["body"] = body if isinstance(body, (str, bytes)) else json.dumps(body or {})
        try:
            response = await self._fetch("mlops", "api", *route.split("/"), **kwargs)
        except HTTPClientError as error:
            if error.response is None:  # no HTTP answer at all (a dropped connection)
                raise
            response = error.response
        content_type = response.headers.get("Content-Type", "")
        check_response(method, route, response.code, response.body, content_type)
        if content_type.startswith("application/json"):
            return response.code, json.loads(response.body)
        return response.code, response.body

    async def get(self, route: str, **params: Any) -> Any:
        code, body = await self.call("GET", route, **params)
        assert code == 200, (route, code, body)
        return body

    async def wait_for(self, run_id: str, states: set[str], timeout: float = 180.0) -> dict[str, Any]:
        import asyncio

        deadline = time.monotonic() + timeout
        while True:
            run: dict[str, Any] = await self.get(f"runs/{run_id}")
            if run["state"] in states:
                return run
            assert time.monotonic() < deadline, f"run {run_id} still {run['state']}, expected {states}"
            await asyncio.sleep(0.3)


@pytest.fixture
def api(jp_fetch: Fetch) -> MlopsApi:
    return MlopsApi(jp_fetch)


def write_notebook(path: Path, cells: list[str]) -> Path:
    """A notebook whose code cells are `cells`, as a user would have saved it."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    # A kernel named up front: JupyterLab opens it without asking which kernel to start.
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, str(path))
    return path


TWO_STEPS = [
    "%load_ext jupyter_mlops",
    "%%component make\nnumbers = {3, 1, 2}\nprint('made', len(numbers), 'numbers')",
    "%%component total\nresult = sum(numbers)\nprint('the total is', result)",
]
LONG_STEP = [
    "%load_ext jupyter_mlops",
    "%%component nap\nimport time\nprint('napping', flush=True)\ntime.sleep(60)",
]
