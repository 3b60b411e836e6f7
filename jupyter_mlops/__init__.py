"""jupyter-mlops: notebook cells become Kubeflow pipelines, run locally or on a cluster, watched live.

Importing this package is cheap: kfp, the backends and the widgets load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__ as __version__
from .kfp_naming import install as _install_kfp_naming

_install_kfp_naming()  # kfp's task naming in linear time, same names (kfp_naming.py); no kfp import here

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell


# The public API, imported on first use (module __getattr__), so `import jupyter_mlops` stays cheap.
_LAZY_ATTRIBUTES = {
    "run": "jupyter_mlops.api",
    "log_metric": "jupyter_mlops.api",
    "get_run": "jupyter_mlops.api",
    "runs": "jupyter_mlops.api",
    "logdir": "jupyter_mlops.session_api",
    "log_embedding": "jupyter_mlops.session_api",
    "tensorboard": "jupyter_mlops.tensorboards.display",
    "Run": "jupyter_mlops.run_handle",
    "sweep": "jupyter_mlops.sweeps",
    "get_sweep": "jupyter_mlops.sweeps",
    "schedule": "jupyter_mlops.schedules",
    "list_schedules": "jupyter_mlops.schedules",  # (`mlops.schedules` is the subpackage of that name)
}


def __getattr__(name: str) -> Any:
    module = _LAZY_ATTRIBUTES.get(name)
    if module is None:
        raise AttributeError(f"module 'jupyter_mlops' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


def load_ipython_extension(ipython: InteractiveShell) -> None:
    """`%load_ext jupyter_mlops`: register the magics (no kfp import here)."""
    from .magics.cells import register

    register(ipython)


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from .server.app import MlopsExtensionApp

    return [{"module": "jupyter_mlops.server.app", "app": MlopsExtensionApp}]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "jupyter-mlops"}]
