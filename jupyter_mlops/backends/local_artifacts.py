"""Opening a local run's artifact files, confined to the artifact root.

Whatever an artifact's recorded URI or the caller's `path` says, only files under the root are opened:
`..`, absolute paths and symlinks leading out are refused (Forbidden), each checked after resolving.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import ArtifactNotFound, Forbidden, UsageError
from ..models import ArtifactFile, ArtifactInfo


def open_artifact_file(
    artifacts: list[ArtifactInfo], root: Path, run_id: str, step: str, name: str, inner: str | None
) -> ArtifactFile:
    """The file of artifact `name` among a step's `artifacts` (the last one recorded under that name)."""
    matches = [a for a in artifacts if a.name == name]
    if not matches:
        raise ArtifactNotFound(f"run {run_id} step {step!r} has no artifact {name!r}")
    root = root.resolve()
    target = _confined(_local_path(matches[-1].uri), root, name)
    if inner:
        if Path(inner).is_absolute() or "\x00" in inner:
            raise Forbidden(f"path {inner!r} must be relative to the artifact")
        # Inside this artifact, not merely inside the root: no reading a sibling's files.
        target = _confined(target / inner, target, name)
    if target.is_dir():
        files = sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file())
        if len(files) == 1 and not inner:
            # A serialized value (value.pkl, value.npy): the artifact is that one file.
            target = _confined(target / files[0], root, name)
        else:
            shown = ", ".join(files[:20]) or "none"
            raise UsageError(f"artifact {name!r} is a directory: pass ?path= one of its files ({shown})")
    if not target.is_file():
        raise ArtifactNotFound(f"artifact {name!r} of step {step!r} has no file {inner or ''!r}".rstrip())
    target = _confined(target, root, name)
    stream = target.open("rb")
    return ArtifactFile(filename=target.name, stream=stream, size=target.stat().st_size)


def _confined(path: Path, root: Path, name: str) -> Path:
    """`path` with symlinks resolved, if it stays under `root` (checked again after every step)."""
    resolved = path.resolve()
    if not resolved.is_relative_to(root):
        raise Forbidden(f"artifact {name!r} resolves outside the artifact root; refusing to serve it")
    return resolved


def _local_path(uri: str) -> Path:
    for prefix in ("file://", "minio://", "gs://", "s3://"):
        if uri.startswith(prefix):
            if prefix != "file://":
                raise UsageError(f"artifact {uri} is remote; download it from its store")
            return Path(uri[len(prefix) :])
    return Path(uri)
