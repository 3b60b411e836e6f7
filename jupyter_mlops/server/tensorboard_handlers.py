"""`mlops/api/tensorboards`: list the TensorBoards this server runs, show one for a logdir or a run's
step (POST: registers it and answers the URL it is proxied at), and stop one (DELETE)."""

from __future__ import annotations

from pathlib import Path

import tornado.web
from jupyter_server.auth.decorator import authorized
from jupyter_server.utils import url_path_join

from ..tensorboards.logdirs import run_record
from ..tensorboards.registry import ID_PATTERN, Record, register_logdir
from .base import MlopsHandler, http_error
from .tensorboard_manager import PROXY_PREFIX, manager_of


class TensorBoardsHandler(MlopsHandler):
    @tornado.web.authenticated
    @authorized
    async def get(self) -> None:
        self.finish({"tensorboards": manager_of(self.extensionapp).list()})

    @tornado.web.authenticated
    @authorized
    async def post(self) -> None:
        body = self.json_body()
        logdir, run, step = body.get("logdir"), body.get("run"), body.get("step")
        if (logdir is None) == (run is None):
            raise http_error(400, "give either 'logdir' (a folder) or 'run' (and optionally 'step')")
        if logdir is not None:
            if not isinstance(logdir, str) or not _is_folder(logdir):
                raise http_error(400, f"'logdir' must name a folder on the server: {logdir!r}")
            record = register_logdir(logdir)
        else:
            if not isinstance(run, str) or not (step is None or isinstance(step, str)):
                raise http_error(400, "'run' and 'step' must be strings")
            record = await self._run_record(run, step)
        url = url_path_join(self.base_url, PROXY_PREFIX, record.id) + "/"
        self.finish({"id": record.id, "title": record.title, "url": url})

    async def _run_record(self, run: str, step: str | None) -> Record:
        return await self.backend_call(lambda backend: run_record(backend, run, step))


class TensorBoardHandler(MlopsHandler):
    @tornado.web.authenticated
    @authorized
    async def delete(self, tb_id: str) -> None:
        if not ID_PATTERN.fullmatch(tb_id) or not manager_of(self.extensionapp).stop(tb_id):
            raise http_error(404, f"no running TensorBoard {tb_id!r} on this server")
        self.finish({"id": tb_id, "stopped": True})


def _is_folder(path: str) -> bool:
    try:
        return Path(path).is_dir()
    except (OSError, ValueError):  # a NUL byte, a name too long
        return False
