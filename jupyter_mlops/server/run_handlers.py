"""Experiments and runs: list, create (from a notebook path or compiled YAML), get, cancel."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import tornado.web
from jupyter_server.auth.decorator import authorized

from ..backends.base import Backend
from ..ir.limits import MAX_REQUEST_BYTES
from ..models import RunInfo, RunState
from .base import MlopsHandler, http_error
from .page_texts import page_texts
from .run_json import run_detail
from .run_permission import check_may_run_code, check_not_hidden

MAX_PAGE = 500
# Linux's NAME_MAX and PATH_MAX, which most file systems share.
MAX_NAME_BYTES = 255
MAX_PATH_BYTES = 4096
CREATE_FIELDS = {"notebook", "pipeline", "pipeline_yaml", "arguments", "experiment", "name", "cache"}


class ExperimentsHandler(MlopsHandler):
    """`GET mlops/api/experiments`: every experiment with its run count."""

    @tornado.web.authenticated
    @authorized
    async def get(self) -> None:
        experiments = await self.backend_call(lambda b: b.experiments())
        self.finish(
            {
                "experiments": [
                    {"id": e.id, "name": e.name, "created_at": e.created_at, "run_count": e.run_count}
                    for e in experiments
                ]
            }
        )


class RunsHandler(MlopsHandler):
    """`GET mlops/api/runs?experiment=&state=&limit=&offset=` (newest first); `POST` starts a run."""

    @tornado.web.authenticated
    @authorized
    async def get(self) -> None:
        limit = self.int_argument("limit", 50, minimum=1, maximum=MAX_PAGE)
        offset = self.int_argument("offset", 0)
        experiment = self.get_query_argument("experiment", None) or None
        raw_state = self.get_query_argument("state", None) or None
        state = None
        if raw_state is not None:
            try:
                state = RunState(raw_state.upper())
            except ValueError:
                names = ", ".join(s.value for s in RunState)
                raise http_error(400, f"unknown run state {raw_state!r} (choose one of: {names})") from None
        cursor = self.get_query_argument("cursor", None) or None

        def listed(b: Backend) -> str:  # the page's JSON text, written in the worker thread
            page = b.list_runs(experiment=experiment, state=state, limit=limit, offset=offset, cursor=cursor)
            return page_texts(b).text(page, limit=limit, offset=offset, query=(experiment, state, cursor))

        text = await self.backend_call(listed)
        self.finish(text, set_content_type="application/json; charset=UTF-8")  # as write() types a dict

    @tornado.web.authenticated
    @authorized
    async def post(self) -> None:
        size = len(self.request.body or b"")
        if size > MAX_REQUEST_BYTES:
            raise http_error(
                413,
                f"the request body is {size:,} bytes; the limit is {MAX_REQUEST_BYTES:,} (MAX_REQUEST_BYTES)",
            )
        await check_may_run_code(self)
        request = self.json_body()
        unknown = sorted(set(request) - CREATE_FIELDS)
        if unknown:
            raise http_error(400, f"unknown fields {unknown}; a run takes: {sorted(CREATE_FIELDS)}")
        arguments = request.get("arguments")
        arguments = {} if arguments is None else arguments  # absent or null: the defaults
        if not isinstance(arguments, dict):
            raise http_error(400, "'arguments' must be a JSON object of pipeline parameters")
        options: dict[str, Any] = {}
        for key in ("experiment", "name"):
            value = request.get(key)
            if value is not None and not isinstance(value, str):
                raise http_error(400, f"{key!r} must be a string")
            options[key] = value or None
        cache = request.get("cache", True)
        if not isinstance(cache, bool):
            raise http_error(400, "'cache' must be true or false")
        pipeline_name = request.get("pipeline")
        if pipeline_name is not None and not isinstance(pipeline_name, str):
            raise http_error(400, "'pipeline' must be the name of a pipeline in the notebook")

        notebook, text = request.get("notebook"), request.get("pipeline_yaml")
        if (notebook is None) == (text is None):
            raise http_error(400, "give exactly one of 'notebook' (a path) or 'pipeline_yaml' (IR YAML)")
        if notebook is not None:
            path = self._notebook_path(notebook)

            def submit(b: Backend) -> RunInfo:
                from ..ir.documents import load_pipeline
                from ..notebook.reader import pipeline_from_notebook

                # The same code as `jupyter-mlops run NOTEBOOK`: the CLI and the server agree.
                documents = load_pipeline(pipeline_from_notebook(path, pipeline_name))
                # its steps read relative paths from the notebook's folder, as its kernel does
                return b.submit(documents, arguments, cache=cache, working_dir=path.parent, **options)
        else:
            if not isinstance(text, str) or not text.strip():
                raise http_error(400, "'pipeline_yaml' must be the compiled pipeline's YAML text")

            def submit(b: Backend) -> RunInfo:
                return b.submit(text, arguments, cache=cache, **options)

        run = await self.backend_call(submit)
        artifacts = await self.backend_call(lambda b: b.artifacts(run.id))
        self.set_status(201)
        self.set_header("Location", f"{self.base_url.rstrip('/')}/mlops/api/runs/{run.id}")
        self.finish(run_detail(run, artifacts))

    def _notebook_path(self, relative: Any) -> Path:
        """The notebook's absolute path, confined to the server's root directory."""
        if not isinstance(relative, str) or not relative.strip():
            raise http_error(400, "'notebook' must be a path relative to the Jupyter server's root")
        if "\x00" in relative or os.path.isabs(relative) or relative.startswith("~"):
            raise http_error(400, f"'notebook' must be relative to the server's root, got {relative!r}")
        _check_path_limits(relative)
        root = Path(self.settings.get("server_root_dir") or self.serverapp.root_dir).expanduser()
        root = root.resolve()
        path = (root / relative).resolve()
        if not path.is_relative_to(root):
            raise http_error(403, f"notebook {relative!r} is outside the server's root directory")
        check_not_hidden(self, path, root, relative)
        if path.suffix != ".ipynb":
            raise http_error(400, f"notebook {relative!r} is not a .ipynb file")
        try:
            found = path.is_file()
        except OSError as exc:  # e.g. the root's path and this one together past PATH_MAX
            raise http_error(400, f"notebook {relative!r:.200} cannot be opened: {exc.strerror}") from None
        if not found:
            raise http_error(404, f"no notebook {relative!r} under the server's root directory")
        return path


def _check_path_limits(relative: str) -> None:
    """A 400 for a path no file system here can hold, before the OS refuses it with a 500."""
    try:
        encoded = relative.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise http_error(
            400,
            f"'notebook' is not valid Unicode (a lone surrogate at character {exc.start}): {relative!r:.200}",
        ) from None
    if len(encoded) > MAX_PATH_BYTES:
        raise http_error(
            400, f"'notebook' is {len(encoded)} bytes long, over {MAX_PATH_BYTES} bytes (PATH_MAX)"
        )
    for part in relative.split("/"):
        size = len(part.encode("utf-8"))
        if size > MAX_NAME_BYTES:
            raise http_error(
                400,
                f"'notebook' has a name of {size} bytes, over {MAX_NAME_BYTES} bytes (NAME_MAX): "
                f"{part[:40]!r}...",
            )


class RunHandler(MlopsHandler):
    """`GET mlops/api/runs/{id}`: the run with steps, edges, metrics, artifacts and DAG layout."""

    @tornado.web.authenticated
    @authorized
    async def get(self, run_id: str) -> None:
        step = self.get_argument("step", None)  # that step's charts too (server/step_results.py)

        def detail(b: Backend) -> dict[str, Any]:
            from ..ir.step_sources import run_step_sources

            run = b.get(run_id)
            artifacts = b.artifacts(run.id)
            body = run_detail(run, artifacts, run_step_sources(b, run.id))
            if step:
                from .step_results import add_step_results

                add_step_results(body, b, run, artifacts, step)
            return body

        self.finish(await self.backend_call(detail))


class CancelHandler(MlopsHandler):
    """`POST mlops/api/runs/{id}/cancel`: running steps are stopped, pending ones never start."""

    @tornado.web.authenticated
    @authorized
    async def post(self, run_id: str) -> None:
        def cancel(b: Backend) -> dict[str, Any]:
            run = b.cancel(run_id)
            return run_detail(run, b.artifacts(run.id))

        self.finish(await self.backend_call(cancel))
