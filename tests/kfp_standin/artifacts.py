"""The stand-in's object store, as the KFP UI's server reads it for the browser:
`GET /artifacts/get?source=&bucket=&key=[&namespace=][&peek=N]` (frontend/server/handlers/artifacts.ts).

Objects are the files the executing local run wrote, under the URIs the stand-in's ML Metadata records
(metadata.py): `minio://mlpipeline/v2/artifacts/{run_id}/{step}/{output}`; a file inside an artifact
that is a folder is the object `{...}/{output}/{file}`. Answers, as the UI's handler gives them:
- an object: its bytes (`application/octet-stream`, an attachment named after the key's last part);
  with `peek=N` its first N bytes;
- a key that is a folder (no object of that name, objects under it): a .tar.gz of the objects under
  it, named by their path below the folder (`application/gzip`, attachment `<folder>.tar.gz`); with
  `peek` a one-line summary instead;
- errors as plain text: 500 without source, bucket or key ("Storage source is missing from artifact
  request"), 500 for an unknown source, 404 "No objects found at bucket/key".
Authentication is the gateway's, as for the UI's other routes (StandIn.allowed: 401); in multi-user
mode the namespace is required (400) and must be the caller's (403) and the artifact's run's (403,
"Artifact does not belong to the requested namespace").
"""

from __future__ import annotations

import io
import tarfile
from dataclasses import dataclass
from pathlib import Path

from .cluster import ApiError, Cluster

BUCKET = "mlpipeline"
PREFIX = "v2/artifacts/"
SOURCES = {"minio", "s3", "gcs", "http", "https", "volume"}


def uri_of(run_id: str, step: str, output: str) -> str:
    """Where the stand-in's ML Metadata says an output artifact is."""
    return f"minio://{BUCKET}/{PREFIX}{run_id}/{step}/{output}"


@dataclass
class Download:
    body: bytes
    content_type: str
    filename: str


class ObjectStore:
    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster

    def get(self, query: dict[str, str], allowed: set[str] | None, multi_user: bool) -> Download | str:
        """The UI route's answer: a Download, or a text (the peek of a folder)."""
        for name, missing in (
            ("source", "Storage source"),
            ("bucket", "Storage bucket"),
            ("key", "Storage key"),
        ):
            if not query.get(name):
                raise ApiError(500, f"{missing} is missing from artifact request")
        if query["source"] not in SOURCES:
            raise ApiError(500, "Unknown storage source")
        namespace = query.get("namespace") or None
        if multi_user and not namespace:
            raise ApiError(400, "Namespace parameter is required when authentication is enabled")
        if allowed is not None and namespace not in allowed:
            raise ApiError(403, f"User is not authorized to read artifacts of namespace {namespace!r}")
        bucket, key = query["bucket"], query["key"].strip("/")
        target, run_namespace = self._find(query["source"], bucket, key)
        if target is None:
            raise ApiError(404, f"No objects found at {bucket}/{key}")
        if multi_user and run_namespace != namespace:
            raise ApiError(403, "Artifact does not belong to the requested namespace")
        peek = int(query["peek"]) if (query.get("peek") or "").isdigit() else 0
        leaf = key.rsplit("/", 1)[-1]
        if target.is_file():
            data = target.read_bytes()
            return Download(data[:peek] if peek else data, "application/octet-stream", leaf)
        files = sorted(p for p in target.rglob("*") if p.is_file())
        if not files:
            raise ApiError(404, f"No objects found at {bucket}/{key}")
        if peek:
            return f'Directory artifact "{leaf}" \u2014 {len(files)} file(s). Download to view contents.\n'
        packed = io.BytesIO()
        with tarfile.open(fileobj=packed, mode="w:gz") as archive:
            for path in files:  # each object a regular entry (an object store has no links)
                data = path.read_bytes()
                entry = tarfile.TarInfo(path.relative_to(target).as_posix())
                entry.size = len(data)
                archive.addfile(entry, io.BytesIO(data))
        return Download(packed.getvalue(), "application/gzip", f"{leaf}.tar.gz")

    def _find(self, source: str, bucket: str, key: str) -> tuple[Path | None, str | None]:
        """The local file or folder behind an object key, and its run's namespace."""
        if source != "minio" or bucket != BUCKET or not key.startswith(PREFIX):
            return None, None
        parts = key[len(PREFIX) :].split("/")
        if len(parts) < 3 or any(p in ("", ".", "..") for p in parts):
            return None, None
        run_id, step, output, inner = parts[0], parts[1], parts[2], parts[3:]
        with self.cluster.lock:
            record = self.cluster.runs.get(run_id)
        if record is None:
            return None, None
        found = [
            a for a in self.cluster.local.artifacts(record.attempts[-1]) if (a.step, a.name) == (step, output)
        ]
        if not found:
            return None, record.namespace
        path = Path(found[-1].uri).joinpath(*inner)
        return (path if path.exists() else None), record.namespace
