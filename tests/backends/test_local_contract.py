"""The backend contract against every backend the registry finds (entry points `jupyter_mlops.backends`):
today the embedded local backend (real runner processes, real SQLite).

A backend that needs more than a home to be made (a server's URL, credentials) takes its options from
`JUPYTER_MLOPS_CONTRACT_<NAME>` (JSON), so the same suite runs against it where one is reachable.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlops.backends.base import Backend
from jupyter_mlops.backends.registry import available, get_backend

from .contract import BackendContract


def _options(name: str, home: Path) -> dict[str, Any] | None:
    if name == "local":
        return {"home": home, "max_workers": 2}
    configured = os.environ.get(f"JUPYTER_MLOPS_CONTRACT_{name.upper()}")
    return json.loads(configured) if configured else None


class TestLocalBackendContract(BackendContract):
    @pytest.fixture(params=sorted(available()))
    def backend(self, request: pytest.FixtureRequest, home: Path) -> Any:
        options = _options(request.param, home)
        if options is None:
            pytest.skip(f"set JUPYTER_MLOPS_CONTRACT_{request.param.upper()} to run the contract on it")
        made: Backend = get_backend(request.param, **options)
        yield made
        made.close()
