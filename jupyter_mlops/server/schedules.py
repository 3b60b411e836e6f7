"""The schedules' loop inside the Jupyter server: fires due schedules while Jupyter runs.

It works on the local backend's store (the server's `backend_options`' home, else the default home)
and only once that store exists: starting Jupyter creates no store. It never stops the server: a
store it cannot open is logged and tried again later. `jupyter-mlops scheduler` may run beside it;
each due time still fires once (see `jupyter_mlops.store.schedule_records`).
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from ..schedules.scheduler import POLL_MAX_S, SchedulerLoop


class ServerScheduler:
    def __init__(self, backend_options: dict[str, Any], log: logging.Logger) -> None:
        self.options = dict(backend_options)
        self.log = log
        self._stop = threading.Event()
        self._loop: SchedulerLoop | None = None
        self._thread = threading.Thread(target=self._run, name="mlops-schedules", daemon=True)

    def start(self) -> ServerScheduler:
        self._thread.start()
        return self

    def _home(self) -> Path:
        from ..home import mlops_home

        home = self.options.get("home")
        return Path(home) if home else mlops_home()

    def _run(self) -> None:
        from ..backends.local import LocalBackend
        from ..schedules.handle import schedule_records

        while not (self._home() / "store.db").exists():  # no store, so no schedule yet
            if self._stop.wait(POLL_MAX_S):
                return
        try:
            backend = LocalBackend(**self.options)
        except Exception as exc:
            self.log.warning("jupyter-mlops: schedules will not fire in this server: %s", exc)
            return

        def fired(f: Any) -> None:
            outcome = f"started run {f.run_id}" if f.run_id else f.error
            self.log.info("jupyter-mlops: schedule %s %s", f.schedule, outcome)

        def failed(exc: BaseException) -> None:
            self.log.warning("jupyter-mlops: firing schedules failed (will retry): %s", exc)

        self._loop = SchedulerLoop(schedule_records(backend), backend, fired_by="jupyter server",
                                   on_fire=fired, on_error=failed)  # fmt: skip
        if not self._stop.is_set():
            self._loop.run()

    def stop(self) -> None:
        self._stop.set()
        if self._loop is not None:
            self._loop.stop()
        self._thread.join(5)


def start_server_scheduler(
    backend: str, backend_options: dict[str, Any], log: logging.Logger
) -> ServerScheduler | None:
    if backend != "local":
        return None  # a Kubeflow backend's schedules are its recurring runs
    return ServerScheduler(backend_options, log).start()
