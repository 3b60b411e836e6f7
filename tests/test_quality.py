"""The code base stays linted, formatted and typed: ruff and mypy (strict, config in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_tool(*command: str) -> None:
    """Run `python -m COMMAND` at the repository root; fail with the tool's own report."""
    result = subprocess.run(
        [sys.executable, "-m", *command],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, (
        f"`{' '.join(command)}` failed (exit {result.returncode}):\n{result.stdout}{result.stderr}"
    )


def test_ruff_finds_nothing_to_fix() -> None:
    run_tool("ruff", "check", ".")


def test_every_file_is_ruff_formatted() -> None:
    run_tool("ruff", "format", "--check", ".")


def test_the_package_type_checks_with_mypy_strict() -> None:
    # No arguments: mypy takes `packages` and `strict` from [tool.mypy] in pyproject.toml.
    run_tool("mypy")
