"""After `pip install`, Jupyter finds both halves of jupyter-mlops, enabled and loadable.

These ask the installed Jupyter itself (the same apps as `jupyter labextension list` and
`jupyter server extension list`), run with this interpreter so a virtual environment is honoured.
"""

from __future__ import annotations

import importlib.metadata
import json
import re
import subprocess
import sys
from pathlib import Path

import jupyter_mlops

ROOT = Path(__file__).resolve().parents[1]
ANSI_COLOUR = re.compile(r"\x1b\[[0-9;]*m")
VERSION = re.escape(jupyter_mlops.__version__)


def jupyter_output(module: str, *args: str) -> str:
    """Run a Jupyter command-line app as `python -m MODULE ARGS`; its output without colours."""
    result = subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = ANSI_COLOUR.sub("", result.stdout + result.stderr)
    assert result.returncode == 0, f"python -m {module} {' '.join(args)} failed:\n{output}"
    return output


def test_the_distribution_is_installed_at_this_version() -> None:
    assert importlib.metadata.version("jupyter-mlops") == jupyter_mlops.__version__


def test_the_labextension_version_matches_the_python_package() -> None:
    package = json.loads((ROOT / "labextension" / "package.json").read_text())

    assert package["version"] == jupyter_mlops.__version__


def test_jupyterlab_lists_the_prebuilt_extension_enabled_and_ok() -> None:
    output = jupyter_output("jupyterlab.labextensions", "list")

    assert re.search(rf"^\s*jupyter-mlops v{VERSION} enabled\s+OK\b", output, re.MULTILINE), output


def test_jupyter_server_lists_the_server_extension_enabled_and_ok() -> None:
    output = jupyter_output("jupyter_server.extension.serverextension", "list")

    assert re.search(r"^\s*jupyter_mlops enabled\s*$", output, re.MULTILINE), output
    assert re.search(rf"^\s*jupyter_mlops {VERSION} OK\b", output, re.MULTILINE), output
