"""The wheel and sdist that `python -m build` makes of a clean copy of this checkout, built once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.newcomer.fresh_checkout import clean_copy


@pytest.fixture(scope="session")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("wheel")
    checkout = clean_copy(base / "checkout")
    out = base / "dist"
    built = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(checkout)],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert built.returncode == 0, (built.stdout + built.stderr)[-6000:]
    return out
