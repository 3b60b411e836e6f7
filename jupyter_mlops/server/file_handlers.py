"""A step's log from an offset, and a step's artifact files, opened by the backend."""

from __future__ import annotations

import mimetypes
from urllib.parse import quote

import tornado.web
from jupyter_server.auth.decorator import authorized

from ..backends.base import Backend
from ..errors import Unsupported, UsageError
from ..models import ArtifactFile, LogChunk
from ..render.log_filter import STATES, filter_chunk
from ..store.logs import MAX_CHUNK
from .base import MlopsHandler, http_error

CHUNK = 256 * 1024


class StepLogHandler(MlopsHandler):
    """`GET mlops/api/runs/{id}/steps/{step}/log?offset=N`: text from byte N, next_offset, complete.

    With `executor_lines=hide` the text is what `%pipeline logs` shows (render/log_filter.py): without
    kfp's executor lines, and a failed step's traceback from the user's cell on. Each answer's
    `filter_state` is passed back with the next `offset` as `filter_state`; `next_offset` then stops
    before what cannot be decided yet (a line that may be kfp's, a traceback's frames before the cell's
    frame has come), which the next call reads again. `limit` asks for fewer bytes than a read holds
    (1 MiB); with `executor_lines=hide` an answer holds more when fewer would decide nothing."""

    @tornado.web.authenticated
    @authorized
    async def get(self, run_id: str, step: str) -> None:
        offset = self.int_argument("offset", 0)
        limit = self.int_argument("limit", MAX_CHUNK, minimum=1, maximum=MAX_CHUNK)
        hide = self.get_query_argument("executor_lines", "show")
        if hide not in ("show", "hide"):
            raise http_error(400, f"executor_lines must be 'show' or 'hide', not {hide!r}")
        state = self.get_query_argument("filter_state", "")
        if state not in STATES:
            raise http_error(400, f"filter_state {state!r} is not one a log answer gave; read from offset 0")

        def read(b: Backend) -> dict[str, object]:
            try:
                chunk = b.logs(run_id, step, offset)
            except Unsupported as exc:  # no log to be had here (a KFP API server alone): a note, once
                text = f"[jupyter-mlops] {exc}\n"
                return {
                    "text": text,
                    "offset": offset,
                    "next_offset": offset,
                    "complete": True,
                    "missing": True,
                }
            except OSError as exc:  # e.g. an offset past the file system's largest file: EINVAL
                raise UsageError(
                    f"cannot read the log of step {step!r} from byte {offset}: {exc.strerror or exc}; "
                    "ask from the next_offset of the previous answer"
                ) from exc
            whole, size = chunk, limit
            while True:
                chunk = at_most(whole, size)
                answer: dict[str, object] = {
                    "text": chunk.text,
                    "offset": chunk.offset,
                    "next_offset": chunk.next_offset,
                    "complete": chunk.complete,
                    "missing": chunk.missing,
                }
                if hide != "hide" or chunk.missing:
                    return answer
                shown = filter_chunk(chunk.text, state, final=chunk.complete)
                answer.update(
                    text=shown.text,
                    next_offset=chunk.next_offset - len(shown.held.encode("utf-8")),
                    filter_state=shown.state,
                )
                if answer["next_offset"] != offset or chunk is whole:
                    return answer
                size *= 2  # nothing decided within `limit` bytes: the answer holds more

        self.finish(await self.backend_call(read))


def at_most(chunk: LogChunk, limit: int) -> LogChunk:
    """The first `limit` bytes of `chunk` (not cutting a character), or the chunk itself when it is no
    longer, or holds bytes that were not UTF-8 (replaced: their number is not known from the text)."""
    data = chunk.text.encode("utf-8")
    if len(data) <= limit or "\ufffd" in chunk.text:
        return chunk
    keep = len(data[:limit].decode("utf-8", errors="ignore").encode("utf-8")) or len(chunk.text[0].encode())
    return LogChunk(
        text=data[:keep].decode("utf-8"), offset=chunk.offset, next_offset=chunk.offset + keep, complete=False
    )


class ArtifactHandler(MlopsHandler):
    """`GET mlops/api/runs/{id}/steps/{step}/artifacts/{name}[?path=FILE]`: the artifact's bytes.

    A directory artifact (a TensorBoard logdir, say) needs `path=` naming a file inside it. The
    backend opens the file and keeps it inside its artifact store (the local one refuses `..`,
    absolute paths and symlinks leading out: 403)."""

    @tornado.web.authenticated
    @authorized
    async def get(self, run_id: str, step: str, name: str) -> None:
        inner = self.get_query_argument("path", None)

        def open_file(b: Backend) -> ArtifactFile:
            if not b.capabilities.artifact_download:
                raise UsageError(f"the {b.name!r} backend keeps artifacts remotely; open them there")
            return b.open_artifact(run_id, step, name, inner)

        artifact = await self.backend_call(open_file)  # opening may block (a network disk)
        try:
            kind, _ = mimetypes.guess_type(artifact.filename)
            self.set_header("Content-Type", kind or "application/octet-stream")
            self.set_header("Content-Disposition", content_disposition(artifact.filename))
            self.set_header("X-Content-Type-Options", "nosniff")
            while chunk := await self.mlops_app.in_thread(artifact.stream.read, CHUNK):
                self.write(chunk)
                await self.flush()
        finally:
            artifact.close()
        self.finish()


def content_disposition(name: str) -> str:
    """`attachment` under `name` (RFC 6266): an ASCII `filename=` for old clients, and the exact name
    as UTF-8 in `filename*=` (RFC 5987), which browsers prefer; HTTP headers carry Latin-1 at most."""
    fallback = "".join(c if " " <= c <= "~" and c not in '"\\' else "_" for c in name)
    # surrogateescape: a file name that is not UTF-8 on disk keeps its bytes
    exact = quote(name.encode("utf-8", "surrogateescape"), safe="")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{exact}"
