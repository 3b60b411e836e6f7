from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from kfp_standin import StandIn

# The contract lives in a helper module (not test_*.py): have pytest explain its failed asserts too.
pytest.register_assert_rewrite("backends.contract", "tests.backends.contract")


@pytest.fixture(scope="session")
def specs() -> dict[str, str]:
    """The test pipelines (tests/backends/pipelines.py), compiled once to KFP IR YAML text."""
    from . import pipelines

    return {name: pipelines.compiled(p) for name, p in pipelines.ALL.items()}


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh jupyter-mlops home for each test (also what mlops.run and log_metric use)."""
    path = tmp_path / "mlops-home"
    monkeypatch.setenv("JUPYTER_MLOPS_HOME", str(path))
    return path


@pytest.fixture(params=["process", "service"])
def runner_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the test with a runner process per run, and again with runs handed to the runner service."""
    monkeypatch.setenv("JUPYTER_MLOPS_RUNNER", request.param)
    return str(request.param)


@pytest.fixture
def standin(tmp_path: Path, home: Path) -> Iterator[StandIn]:
    """A stand-in KFP server (tests/kfp_standin) of its own for the test, in the test's home; files
    that need another (tokens, multi-user, no home) define their own."""
    from kfp_standin import StandIn

    server = StandIn(tmp_path / "standin")
    server.start()
    yield server
    server.stop()
