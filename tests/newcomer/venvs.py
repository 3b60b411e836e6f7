"""Fresh virtual environments for the install tests: no system site-packages, nothing of this checkout."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def base_python() -> str:
    """The interpreter this venv-or-not Python was made from (a venv's python is a link to it)."""
    return getattr(sys, "_base_executable", sys.executable)


def make_venv(path: Path) -> Path:
    subprocess.run([base_python(), "-m", "venv", str(path)], check=True, timeout=300)
    return path


def run_in(
    venv: Path,
    args: list[str],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 1200,
) -> str:
    """Run a command with the venv first on PATH (as after `source venv/bin/activate`); its output."""
    full = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    full.update(env or {})
    full["VIRTUAL_ENV"] = str(venv)
    full["PATH"] = os.pathsep.join([str(venv / "bin"), full.get("PATH", "")])
    proc = subprocess.run(args, cwd=cwd, env=full, capture_output=True, text=True, timeout=timeout)
    out = _ANSI.sub("", proc.stdout + proc.stderr)
    assert proc.returncode == 0, f"{' '.join(map(str, args))} failed ({proc.returncode}):\n{out[-6000:]}"
    return out
