"""The backend contract against the `kfp` backend, talking through the real `kfp.Client` to the
stand-in KFP v2beta1 server (tests/kfp_standin), which runs each submitted spec with the local runner.

The stand-in is started here and named in JUPYTER_MLOPS_CONTRACT_KFP, the same way a real server is
named to test_local_contract.py; tests of what `kfp` declares it cannot do (logs, artifact bytes,
notebook-session metrics) skip on that declaration.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kfp_standin import StandIn

from jupyter_mlops.backends.registry import get_backend

from .contract import BackendContract


@pytest.fixture
def standin(tmp_path: Path) -> Iterator[StandIn]:
    # A fresh server per test, as the local backend gets a fresh home (and so an empty step cache).
    server = StandIn(tmp_path / "kfp-standin")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def kfp_options(standin: StandIn, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("JUPYTER_MLOPS_CONTRACT_KFP", json.dumps({"host": standin.url}))
    options: dict[str, Any] = json.loads(os.environ["JUPYTER_MLOPS_CONTRACT_KFP"])
    return options


class TestKfpBackendContract(BackendContract):
    @pytest.fixture
    def backend(self, kfp_options: dict[str, Any], home: Path) -> Any:
        made = get_backend("kfp", **kfp_options)
        yield made
        made.close()
