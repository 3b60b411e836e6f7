"""A step's log from an offset, and a step's artifact files, confined to the artifact root."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from urllib.parse import quote

import tornado.web
from jupyter_server.auth.decorator import authorized

from ..backends.base import Backend
from ..errors import UsageError
from .base import MlopsHandler, http_error

CHUNK = 256 * 1024


class StepLogHandler(MlopsHandler):
    """`GET mlops/api/runs/{id}/steps/{step}/log?offset=N`: text from byte N, next_offset, complete."""

    @tornado.web.authenticated
    @authorized
    async def get(self, run_id: str, step: str) -> None:
        offset = self.int_argument("offset", 0)

        def read(b: Backend) -> dict[str, object]:
            run = b.get(run_id)
            if step not in {s.name for s in run.steps}:
                names = ", ".join(s.name for s in run.steps) or "none"
                raise _NoStep(f"run {run.id} has no step {step!r} (steps: {names})")
            try:
                chunk = b.logs(run.id, step, offset)
            except OSError as exc:  # e.g. an offset past the file system's largest file: EINVAL
                raise UsageError(
                    f"cannot read the log of step {step!r} from byte {offset}: {exc.strerror or exc}; "
                    "ask from the next_offset of the previous answer"
                ) from exc
            return {
                "text": chunk.text,
                "offset": chunk.offset,
                "next_offset": chunk.next_offset,
                "complete": chunk.complete,
            }

        try:
            self.finish(await self.backend_call(read))
        except _NoStep as exc:
            raise http_error(404, str(exc)) from exc


class _NoStep(Exception):
    """A step name the run does not have: a 404, not a 400."""


class ArtifactHandler(MlopsHandler):
    """`GET mlops/api/runs/{id}/steps/{step}/artifacts/{name}[?path=FILE]`: the artifact's bytes.

    A directory artifact (a TensorBoard logdir, say) needs `path=` naming a file inside it. Whatever
    the artifact's recorded URI or `path` says, only files under the backend's artifact root are
    served: `..`, absolute paths and symlinks leading out are refused."""

    @tornado.web.authenticated
    @authorized
    async def get(self, run_id: str, step: str, name: str) -> None:
        inner = self.get_query_argument("path", None)

        def locate(b: Backend) -> Path:
            matches = [a for a in b.artifacts(run_id, step) if a.name == name]
            if not matches:
                raise _NoStep(f"run {run_id} step {step!r} has no artifact {name!r}")
            root_text = b.status().get("artifact_root")
            if not isinstance(root_text, str):
                raise UsageError(f"the {b.name!r} backend keeps artifacts remotely; open them there")
            root = Path(root_text).resolve()
            target = _confined(_local_path(matches[-1].uri), root, name)
            if inner:
                if Path(inner).is_absolute() or "\x00" in inner:
                    raise _Forbidden(f"path {inner!r} must be relative to the artifact")
                # Inside this artifact, not merely inside the root: no reading a sibling's files.
                target = _confined(target / inner, target, name)
            if target.is_dir():
                files = sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file())
                if len(files) == 1 and not inner:
                    # A serialized value (value.pkl, value.npy): the artifact is that one file.
                    return _confined(target / files[0], root, name)
                shown = ", ".join(files[:20]) or "none"
                raise UsageError(f"artifact {name!r} is a directory: pass ?path= one of its files ({shown})")
            if not target.is_file():
                raise _NoStep(f"artifact {name!r} of step {step!r} has no file {inner or ''!r}".rstrip())
            return _confined(target, root, name)

        try:
            path = await self.backend_call(locate)
        except _NoStep as exc:
            raise http_error(404, str(exc)) from exc
        except _Forbidden as exc:
            raise http_error(403, str(exc)) from exc
        kind, _ = mimetypes.guess_type(path.name)
        self.set_header("Content-Type", kind or "application/octet-stream")
        self.set_header("Content-Disposition", content_disposition(path.name))
        self.set_header("X-Content-Type-Options", "nosniff")
        handle = await self.mlops_app.in_thread(path.open, "rb")  # opening may block (a network disk)
        try:
            while chunk := await self.mlops_app.in_thread(handle.read, CHUNK):
                self.write(chunk)
                await self.flush()
        finally:
            handle.close()
        self.finish()


class _Forbidden(Exception):
    """A path that leaves the artifact root."""


def _confined(path: Path, root: Path, name: str) -> Path:
    """`path` with symlinks resolved, if it stays under `root` (checked again after every step)."""
    resolved = path.resolve()
    if not resolved.is_relative_to(root):
        raise _Forbidden(f"artifact {name!r} resolves outside the artifact root; refusing to serve it")
    return resolved


def _local_path(uri: str) -> Path:
    for prefix in ("file://", "minio://", "gs://", "s3://"):
        if uri.startswith(prefix):
            if prefix != "file://":
                raise UsageError(f"artifact {uri} is remote; download it from its store")
            return Path(uri[len(prefix) :])
    return Path(uri)


def content_disposition(name: str) -> str:
    """`attachment` under `name` (RFC 6266): an ASCII `filename=` for old clients, and the exact name
    as UTF-8 in `filename*=` (RFC 5987), which browsers prefer; HTTP headers carry Latin-1 at most."""
    fallback = "".join(c if " " <= c <= "~" and c not in '"\\' else "_" for c in name)
    # surrogateescape: a file name that is not UTF-8 on disk keeps its bytes
    exact = quote(name.encode("utf-8", "surrogateescape"), safe="")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{exact}"
