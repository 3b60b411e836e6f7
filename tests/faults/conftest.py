from __future__ import annotations

from pathlib import Path

import pytest
from backends.conftest import home, specs  # noqa: F401  (the same fixtures)

pytest.register_assert_rewrite("faults.namespace")


@pytest.fixture(scope="session")
def worktree() -> Path:
    return Path(__file__).resolve().parents[2]
