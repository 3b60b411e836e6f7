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
import os
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
VIEWED_TYPES = ("system.Markdown", "system.HTML")  # drawn by the views from the artifact's text
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
        self._unavailable: set[str] = set()  # URIs the views could not have: not asked again

    def _is_copy(self, uri: str) -> bool:
        return "://" not in uri and Path(uri).is_relative_to(self.folder())

    def folder(self) -> Path:
        server = hashlib.sha256(f"{self.conn.ui_host}|{self.conn.namespace or ''}".encode()).hexdigest()[:12]
        return mlops_home() / "kfp-artifacts" / server

    def for_views(self, artifact: ArtifactInfo) -> ArtifactInfo:
        """What the run views draw from files (the figures a step showed, KFP Markdown and HTML) as
        their local copy, downloaded once; other artifacts, and one that cannot be had (asked once,
        not on every poll of a view), as they are."""
        if artifact.metadata.get("kind") != "figures" and artifact.type not in VIEWED_TYPES:
            return artifact
        if artifact.uri in self._unavailable:
            return artifact
        try:
            return self.local_copy(artifact)
        except Unsupported:
            self._unavailable.add(artifact.uri)
            return artifact

    def local_copy(self, artifact: ArtifactInfo) -> ArtifactInfo:
        """The artifact with `uri` its local copy (a file, or a folder of files), downloading it the
        first time; Unsupported naming the artifact and the run's KFP UI page when it cannot be had."""
        if self._is_copy(artifact.uri):  # already one of ours (listed for the views)
            return artifact
        coordinates = parse_uri(artifact.uri)
        what = f"artifact {artifact.name!r} of step {artifact.step!r} (run {artifact.run_id}, {artifact.uri})"
        if coordinates is None:
            raise Unsupported(
                f"{what} is not in an object store this backend reads (minio://, s3://, gs://): download it "
                f"from the KFP UI, {self.run_url.format(artifact.run_id)}"
            )
        home = self.folder() / _safe(artifact.run_id) / _safe(artifact.step)
        target = home / _safe(artifact.name)
        done = home / f"{_safe(artifact.name)}{DONE}"  # holds the URI the copy was made from
        with self._lock:  # one download per artifact, however many readers ask at once
            if not done.is_file() or done.read_text() != artifact.uri:  # (a retried step: new URI)
                home.mkdir(parents=True, exist_ok=True)
                done.unlink(missing_ok=True)  # until the new copy is whole
                spool = home / f".{_safe(artifact.name)}.download"  # the bytes as they arrive
                try:
                    is_folder = self._get(coordinates, what, artifact.run_id, spool)
                    _store(spool, is_folder, target, what)
                finally:
                    spool.unlink(missing_ok=True)
                done.write_text(artifact.uri)
        return replace(artifact, uri=str(target))

    def _get(self, coordinates: tuple[str, str, str], what: str, run_id: str, spool: Path) -> bool:
        """Download the object (or a folder's .tar.gz) into `spool`; True if it is a folder's."""
        source, bucket, key = coordinates
        query = {"source": source, "bucket": bucket, "key": key}
        if self.conn.namespace:
            query["namespace"] = self.conn.namespace
        url = f"{self.conn.ui_host}{ARTIFACT_PATH}?{urllib.parse.urlencode(query)}"
        request = urllib.request.Request(url, headers=self.conn.headers())
        link = self.run_url.format(run_id)
        try:
            with urllib.request.urlopen(request, timeout=self.conn.timeout) as response:
                kind = response.headers.get("Content-Type", "")
                named = response.headers.get("Content-Disposition", "")
                with spool.open("wb") as out:  # in pieces: a model or a data set may be large
                    shutil.copyfileobj(response, out, 1 << 20)
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
        return kind.startswith("application/gzip") and f"{leaf}.tar.gz" in named

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


def _store(spool: Path, is_folder: bool, target: Path, what: str) -> None:
    """Put the download at `target`: the object as a file, or a folder's .tar.gz unpacked into it
    (regular files only, each kept inside `target`)."""
    if target.is_dir():
        shutil.rmtree(target)
    elif target.exists():
        target.unlink()
    if not is_folder:
        os.replace(spool, target)
        return
    target.mkdir()
    try:
        with tarfile.open(spool, mode="r:gz") as archive:
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
