"""Artifact bytes of KFP runs, downloaded through the KFP UI's own artifact endpoint.

KFP v2 keeps a step's output artifacts in the cluster's object store (MinIO, S3, GCS) under the URI
ML Metadata records (mlmd.py). The KFP UI's server reads them for the browser:
`GET /artifacts/get?source=minio|s3|gcs&bucket=B&key=K[&namespace=NS]` (frontend/server/handlers/
artifacts.ts in kubeflow/pipelines) answers an object's bytes, or, when the key is a folder (an
artifact the step wrote as a directory, as every notebook step's value is), a .tar.gz of the objects
under it (`Content-Type: application/gzip`, named `<folder>.tar.gz`); errors are plain text. A
multi-user deployment asks for the namespace and checks that the caller may read it.

Each artifact is downloaded once into the jupyter-mlops home (`kfp-artifacts/<run>/<step>/<name>`:
a finished step's artifacts no longer change) and then read as the local backend reads its own. Where
the endpoint is not there or refuses (the API server alone, a gateway that forbids it), `Unsupported`
names the artifact and the run's page in the KFP UI.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import tarfile
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import replace
from pathlib import Path, PurePosixPath

from ...errors import Unsupported
from ...home import mlops_home
from ...models import ArtifactInfo
from .connection import Connection, _short

ARTIFACT_PATH = "/artifacts/get"
SOURCES = {"minio": "minio", "s3": "s3", "gs": "gcs"}  # URI scheme -> the endpoint's `source`
DONE = ".downloaded"  # written last: a copy without it is incomplete and is fetched again


def parse_uri(uri: str) -> tuple[str, str, str] | None:
    """(source, bucket, key) of an object-store URI (minio://bucket/key, s3://, gs://), else None."""
    parts = urllib.parse.urlsplit(uri)
    source = SOURCES.get(parts.scheme)
    key = parts.path.lstrip("/")
    if source is None or not parts.netloc or not key:
        return None
    return source, parts.netloc, key


class ArtifactDownloads:
    """Local copies of a KFP run's artifacts, made on first use through the KFP UI's endpoint."""

    def __init__(self, conn: Connection, run_url: str) -> None:
        self.conn = conn
        self.run_url = run_url  # run id -> "<ui>/#/runs/details/<id>"
        self._lock = threading.Lock()

    def folder(self) -> Path:
        server = hashlib.sha256(f"{self.conn.ui_host}|{self.conn.namespace or ''}".encode()).hexdigest()[:12]
        return mlops_home() / "kfp-artifacts" / server

    def local_copy(self, artifact: ArtifactInfo) -> ArtifactInfo:
        """The artifact with `uri` its local copy (a file, or a folder of files), downloading it the
        first time; Unsupported naming the artifact and the run's KFP UI page when it cannot be had."""
        coordinates = parse_uri(artifact.uri)
        what = f"artifact {artifact.name!r} of step {artifact.step!r} (run {artifact.run_id}, {artifact.uri})"
        if coordinates is None:
            raise Unsupported(
                f"{what} is not in an object store this backend reads (minio://, s3://, gs://): download it "
                f"from the KFP UI, {self.run_url.format(artifact.run_id)}"
            )
        home = self.folder() / _safe(artifact.run_id) / _safe(artifact.step)
        target = home / _safe(artifact.name)
        with self._lock:  # one download per artifact, however many readers ask at once
            if not (home / f"{_safe(artifact.name)}{DONE}").exists():
                body, is_folder = self._get(coordinates, what, artifact.run_id)
                _store(body, is_folder, target, what)
                (home / f"{_safe(artifact.name)}{DONE}").write_text(artifact.uri)
        return replace(artifact, uri=str(target))

    def _get(self, coordinates: tuple[str, str, str], what: str, run_id: str) -> tuple[bytes, bool]:
        source, bucket, key = coordinates
        query = {"source": source, "bucket": bucket, "key": key}
        if self.conn.namespace:
            query["namespace"] = self.conn.namespace
        url = f"{self.conn.ui_host}{ARTIFACT_PATH}?{urllib.parse.urlencode(query)}"
        request = urllib.request.Request(url, headers=self.conn.headers())
        link = self.run_url.format(run_id)
        try:
            with urllib.request.urlopen(request, timeout=self.conn.timeout) as response:
                body = bytes(response.read())
                kind = response.headers.get("Content-Type", "")
                named = response.headers.get("Content-Disposition", "")
        except urllib.error.HTTPError as exc:
            said = exc.read().decode("utf-8", "replace").strip().splitlines()
            reason = f"{exc.code}: {said[0][:200]}" if said else str(exc.code)
            if exc.code in (401, 403):
                hint = "the KFP UI's server refused our credentials or namespace for it"
            elif exc.code == 404 and not self._endpoint_there():
                hint = "the server has no artifact endpoint (the API server alone, not the KFP UI's server)"
            else:
                hint = "the KFP UI's artifact endpoint could not give it"
            raise Unsupported(
                f"{what} could not be downloaded: {hint} ({reason}); see it in the KFP UI, {link}"
            ) from None
        except (urllib.error.URLError, OSError) as exc:
            raise Unsupported(
                f"{what} could not be downloaded from {self.conn.ui_host} "
                f"({_short(getattr(exc, 'reason', exc))}); see it in the KFP UI, {link}"
            ) from None
        if kind.startswith("text/html"):  # a login page or a catch-all route in front of the UI
            raise Unsupported(
                f"{what} could not be downloaded: {self.conn.ui_host} answered a web page, not the "
                f"artifact (a login in front of the KFP UI?); see it in the KFP UI, {link}"
            )
        leaf = PurePosixPath(key).name
        is_folder = kind.startswith("application/gzip") and f"{leaf}.tar.gz" in named
        return body, is_folder

    def _endpoint_there(self) -> bool:
        """Whether the UI host serves the artifact endpoint at all: it refuses a request without a
        source (500 "Storage source is missing"); a host without it answers 404."""
        request = urllib.request.Request(self.conn.ui_host + ARTIFACT_PATH, headers=self.conn.headers())
        try:
            with urllib.request.urlopen(request, timeout=min(self.conn.timeout, 10.0)):
                return True
        except urllib.error.HTTPError as exc:
            return exc.code != 404
        except (urllib.error.URLError, OSError):
            return False


def _safe(part: str) -> str:
    """A path component from a run id, step or artifact name (never a separator or `..`)."""
    cleaned = "".join(c if c.isalnum() or c in "-_." else "_" for c in part).strip(".")
    return cleaned or "_"


def _store(body: bytes, is_folder: bool, target: Path, what: str) -> None:
    """Write the download at `target`: the object as a file, or a folder's .tar.gz unpacked into it
    (regular files only, each kept inside `target`)."""
    if target.is_dir():
        shutil.rmtree(target)
    elif target.exists():
        target.unlink()
    target.parent.mkdir(parents=True, exist_ok=True)
    if not is_folder:
        target.write_bytes(body)
        return
    target.mkdir()
    try:
        with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as archive:
            for member in archive.getmembers():
                parts = PurePosixPath(member.name).parts
                if (
                    not member.isfile()
                    or not parts
                    or any(p in ("", ".", "..") for p in parts)
                    or member.name.startswith("/")
                ):
                    continue
                path = target.joinpath(*parts)
                path.parent.mkdir(parents=True, exist_ok=True)
                source = archive.extractfile(member)
                if source is not None:
                    with source, path.open("wb") as out:
                        shutil.copyfileobj(source, out)
    except (tarfile.TarError, OSError, EOFError) as exc:
        shutil.rmtree(target, ignore_errors=True)
        raise Unsupported(f"{what} came as a folder archive that could not be unpacked ({exc})") from None
