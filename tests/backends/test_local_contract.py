"""The backend contract against the embedded local backend (real runner processes, real SQLite)."""

from __future__ import annotations

from pathlib import Path

import pytest

from jupyter_mlops.backends.local import LocalBackend

from .contract import BackendContract


class TestLocalBackendContract(BackendContract):
    @pytest.fixture
    def backend(self, home: Path) -> LocalBackend:
        return LocalBackend(home, max_workers=2)
