"""The `ExtensionApp` that jupyter-server loads for jupyter-mlops."""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from jupyter_server.extension.application import ExtensionApp
from traitlets import Bool, Dict, Int, Unicode

from ..backends.base import Backend
from .routes import routes

T = TypeVar("T")


class MlopsExtensionApp(ExtensionApp):
    """Serves runs to JupyterLab and starts runs from notebooks, under `mlops/api/`."""

    name = "jupyter_mlops"
    backend = Unicode(
        "local",
        config=True,
        help="Which backend runs pipelines: 'local' (embedded, on this machine) or 'kfp'.",
    )
    backend_options = Dict(
        config=True,
        help="Keyword arguments for the backend, e.g. {'home': '/data/mlops'} or {'host': 'http://...'}.",
    )
    worker_threads = Int(
        8,
        config=True,
        help="Threads that run blocking backend and store calls, so the event loop never waits on them.",
    )

    run_schedules = Bool(
        True,
        config=True,
        help="Fire the local backend's schedules while the server runs (`jupyter-mlops scheduler` does "
        "it headless; both may run, each due time fires once).",
    )

    def initialize_handlers(self) -> None:
        self.handlers.extend(routes())
        from . import tensorboard_proxy as proxy  # mlops/tensorboard/<id>/, mlops/api/tensorboards

        self.handlers.extend(proxy.handlers())
        from .base import API_PREFIX, UnknownRouteHandler

        self.handlers.append((rf"{API_PREFIX}/(?P<rest>.*)", UnknownRouteHandler))  # last: the rest

    def initialize_settings(self) -> None:
        self._backend: Backend | None = None
        self._backend_lock = threading.Lock()
        self._pool = ThreadPoolExecutor(self.worker_threads, thread_name_prefix="mlops-api")
        from .schedules import start_server_scheduler

        self._schedules = (
            start_server_scheduler(self.backend, self.backend_options, self.log)
            if self.run_schedules
            else None
        )
        from . import tensorboard_proxy as proxy

        proxy.attach(self)

    def get_backend(self) -> Backend:
        """The one backend this server uses, built on first use (in a worker thread).

        Built lazily so a misconfigured backend shows up as an unreachable light in the sidebar and
        as clear API errors, instead of stopping the whole Jupyter server from starting."""
        with self._backend_lock:
            if self._backend is None:
                from ..backends.registry import get_backend

                self._backend = get_backend(self.backend, **self.backend_options)
            return self._backend

    async def in_thread(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run blocking work (SQLite, files, compiling a notebook) off the event loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(func, *args, **kwargs))

    async def stop_extension(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        if self._schedules is not None:
            self._schedules.stop()
        if self._backend is not None:
            self._backend.close()
        from . import tensorboard_proxy as proxy

        proxy.detach(self)  # TensorBoards stop with the server
