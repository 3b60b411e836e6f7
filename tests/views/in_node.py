"""Run a few lines of JavaScript that import one of the widgets' ES modules, in Node, and read back what
they print as JSON: how the front end's pure functions are checked against the Python ones."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

needs_node = pytest.mark.skipif(
    shutil.which("node") is None, reason="needs Node.js (the labextension's build has it)"
)


def printed_by(module: Path, names: str, body: str) -> Any:
    """`import { names } from module;` then `body`, which must print one JSON document."""
    script = f"import {{ {names} }} from {json.dumps(module.as_uri())};\n{body}\n"
    done = subprocess.run(
        ["node", "--input-type=module", "-e", script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, f"node failed on {module.name}:\n{done.stderr}"
    return json.loads(done.stdout)
