"""The `ExtensionApp` that jupyter-server loads for jupyter-mlops."""

from __future__ import annotations

from jupyter_server.extension.application import ExtensionApp
from traitlets import Unicode

from .handlers import handlers


class MlopsExtensionApp(ExtensionApp):
    """Serves runs to JupyterLab and starts runs from notebooks, under `mlops/api/`."""

    name = "jupyter_mlops"
    backend = Unicode(
        "local",
        config=True,
        help="Which backend runs pipelines: 'local' (embedded, on this machine) or 'kfp'.",
    )

    def initialize_handlers(self) -> None:
        self.handlers.extend(handlers())
