"""jupyter-mlops: notebook cells become Kubeflow pipelines, run locally or on a cluster, watched live.

Importing this package is cheap: kfp, the backends and the widgets load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell


def load_ipython_extension(ipython: InteractiveShell) -> None:
    """`%load_ext jupyter_mlops`: register the magics (no kfp import here)."""
    from .magics import register

    register(ipython)


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from .server.app import MlopsExtensionApp

    return [{"module": "jupyter_mlops.server.app", "app": MlopsExtensionApp}]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "jupyter-mlops"}]
