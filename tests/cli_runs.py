"""The `jupyter-mlops` command run as a user runs it: a process of its own, with a home of its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def cli(home: Path, *args: str, cwd: Path, runner: str = "service") -> str:
    """`jupyter-mlops ARGS` in `cwd`, with `home` as its JUPYTER_MLOPS_HOME and `runner` as
    JUPYTER_MLOPS_RUNNER; its output. Fails the test, showing both streams, if the command fails."""
    env = {**os.environ, "JUPYTER_MLOPS_HOME": str(home), "JUPYTER_MLOPS_RUNNER": runner}
    done = subprocess.run(
        [sys.executable, "-m", "jupyter_mlops.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout
