"""A real Jupyter server with the jupyter-mlops extension, per test (pytest-jupyter's `jp_fetch`).

pytest-jupyter's fixtures are imported here rather than registered for the whole suite, so their
autouse event-loop and cleanup fixtures stay inside `tests/server/`.
"""

from __future__ import annotations

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


@pytest.fixture
def jp_server_config(mlops_home: Path) -> Config:
    # allow_unauthenticated_access=False makes the server itself refuse any handler that forgot
    # its decorators; tests/server/test_handler_auth.py turns it back on to check the decorators.
    return Config(
        {
            "ServerApp": {
                "jpserver_extensions": {"jupyter_mlops": True},
                "allow_unauthenticated_access": False,
            }
        }
    )
