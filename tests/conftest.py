"""Markers by where a test lives, so the inner loop can leave out what needs a browser, a Jupyter server
or minutes: `pytest -m "not browser and not slow"` (README, Development)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Every test home gets its own warm runner service (backends/runner_service.py): let each exit soon after
# its test instead of idling for minutes (inherited by the kernels and servers the tests start).
os.environ.setdefault("JUPYTER_MLOPS_SERVICE_IDLE_S", "10")

TESTS = Path(__file__).resolve().parent

# Files whose tests build virtual environments, install packages or run whole notebooks several ways.
SLOW_FILES = {
    "executor/test_packages.py",
    "executor/test_step_venv_environments.py",
    "test_packaging.py",
    # A fresh copy of the checkout through the README's commands; the wheel, Binder and Colab installs.
    "newcomer/test_fresh_machine.py",
    "newcomer/test_wheel.py",
    "newcomer/test_binder.py",
    "newcomer/test_colab.py",
}
SLOW_DIRS = {"realworld"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        try:
            relative = Path(str(item.path)).resolve().relative_to(TESTS)
        except ValueError:
            continue
        top = relative.parts[0] if len(relative.parts) > 1 else ""
        if top == "browser":
            item.add_marker(pytest.mark.browser)
        if top == "server":
            item.add_marker(pytest.mark.server)
        if top in SLOW_DIRS or relative.as_posix() in SLOW_FILES:
            item.add_marker(pytest.mark.slow)
