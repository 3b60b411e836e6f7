"""A clean copy of this checkout, and the environment of a newcomer's shell on a fresh machine."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from tests.newcomer.readme_blocks import ROOT

# What the test process inherits that a newcomer's shell would not have.
_NOT_A_NEWCOMERS = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "CONDA_PREFIX", "CONDA_DEFAULT_ENV")


def clean_copy(dest: Path) -> Path:
    """The checkout's files as a clone has them (tracked and new files, nothing git ignores: no .venv,
    no node_modules, no built extension)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for rel in filter(None, listed.split("\0")):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    return dest


# Debian's default PATH for a user's login shell: no pyenv, no venv, no Jupyter of this machine's.
DEBIAN_PATH = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]


def newcomer_env(home: Path, first_on_path: str = "/usr/bin") -> dict[str, str]:
    """A login shell's environment: a fresh HOME, Debian's default PATH with `first_on_path` first (where
    `python3` is found), no virtual environment, no PYTHONPATH, no jupyter-mlops home of the tests.
    (Node.js must be in Debian's PATH too, as the README asks for it.)"""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in _NOT_A_NEWCOMERS and not k.startswith(("JUPYTER", "PYTEST", "COV_"))
    }
    home.mkdir(parents=True, exist_ok=True)
    env["HOME"] = str(home)
    env["PATH"] = os.pathsep.join([first_on_path, *(p for p in DEBIAN_PATH if p != first_on_path)])
    return env
