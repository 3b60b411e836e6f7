"""Where the local backend keeps its state: one directory, chosen once per call (no cached global)."""

from __future__ import annotations

import os
from pathlib import Path

HOME_ENV = "JUPYTER_MLOPS_HOME"


def mlops_home() -> Path:
    """`$JUPYTER_MLOPS_HOME`, else `<jupyter data dir>/mlops` (e.g. ~/.local/share/jupyter/mlops).

    Read on every call, so a test or a notebook that sets the variable later is honoured.
    """
    configured = os.environ.get(HOME_ENV)
    if configured:
        return Path(configured).expanduser()
    from jupyter_core.paths import jupyter_data_dir

    return Path(jupyter_data_dir()) / "mlops"
