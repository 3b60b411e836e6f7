"""The step cache: a finished step's outputs, found again by what the step was and what it was given.

The key is the sha256 of the component's interface, its executor (image, command with the function
source, args, env), its packages and its resolved inputs: parameter values, and the *content* of
input artifacts (not their paths, which differ per run). An entry is one small JSON file under
`<cache>/steps/`, written atomically, pointing at the artifacts of the run that produced them. A hit
whose artifact files are gone (that run was deleted) or were changed since is a miss.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .ir import PythonStep
from .values import Artifact

_VERSION = 1


@dataclass
class CachedOutputs:
    parameters: dict[str, Any]
    artifacts: dict[str, list[Artifact]]  # uris are the producing run's files
    key: str


def cache_key(
    component: Mapping[str, Any],
    step: PythonStep,
    parameters: Mapping[str, Any],
    artifacts: Mapping[str, list[Artifact]],
) -> str:
    identity = {
        "version": _VERSION,
        "interface": {k: component.get(k) for k in ("inputDefinitions", "outputDefinitions")},
        "image": step.image,
        "command": list(step.command),
        "args": list(step.args),
        "env": step.env,
        "packages": sorted(step.requirements),
        "pip_options": list(step.pip_options),
        "parameters": dict(parameters),
        "artifacts": {
            name: [[a.schema_title, a.content_digest(), a.metadata] for a in group]
            for name, group in artifacts.items()
        },
    }
    text = json.dumps(identity, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()


class StepCache:
    def __init__(self, root: Path) -> None:
        self.root = root / "steps"

    def _entry(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def lookup(self, key: str) -> CachedOutputs | None:
        try:
            entry = json.loads(self._entry(key).read_text())
        except (OSError, ValueError):
            return None
        if entry.get("version") != _VERSION:
            return None
        artifacts: dict[str, list[Artifact]] = {}
        for name, group in entry.get("artifacts", {}).items():
            artifacts[name] = []
            for a in group:
                if a.get("existed") and _fingerprint(Path(a["uri"])) != a.get("fingerprint"):
                    return None  # the producing run's file was deleted or changed: recompute
                artifacts[name].append(
                    Artifact(
                        name=a["name"],
                        uri=a["uri"],
                        schema_title=a["schema_title"],
                        schema_version=a["schema_version"],
                        metadata=a["metadata"],
                        digest=a.get("digest"),
                    )
                )
        return CachedOutputs(parameters=dict(entry.get("parameters", {})), artifacts=artifacts, key=key)

    def store(self, key: str, parameters: Mapping[str, Any], artifacts: Mapping[str, list[Artifact]]) -> None:
        group_json: dict[str, list[dict[str, Any]]] = {}
        for name, group in artifacts.items():
            group_json[name] = []
            for a in group:
                fingerprint = _fingerprint(Path(a.uri))
                group_json[name].append(
                    {
                        "name": a.name,
                        "uri": a.uri,
                        "schema_title": a.schema_title,
                        "schema_version": a.schema_version,
                        "metadata": a.metadata,
                        "existed": fingerprint is not None,
                        "fingerprint": fingerprint,
                        "digest": a.content_digest() if fingerprint is not None else None,
                    }
                )
        entry = {
            "version": _VERSION,
            "created": time.time(),
            "parameters": dict(parameters),
            "artifacts": group_json,
        }
        path = self._entry(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(entry, f, default=repr)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _fingerprint(path: Path) -> list[int] | None:
    """[size, latest mtime in ns] of a file or a directory's files (cheap, unlike a content hash);
    None if it does not exist. A changed file makes its cache entry a miss."""
    try:
        if path.is_dir():
            stats = [p.stat() for p in path.rglob("*") if p.is_file()]
            return [sum(s.st_size for s in stats), max((s.st_mtime_ns for s in stats), default=0)]
        stat = path.stat()
        return [stat.st_size, stat.st_mtime_ns]
    except OSError:
        return None


def materialize(source: Path, target: Path) -> None:
    """Put a cached artifact into this run's directory: hard links where possible, else copies."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() or target.is_symlink():
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        else:
            target.unlink()
    if source.is_dir():
        shutil.copytree(source, target, copy_function=_link_or_copy)
    elif source.exists():
        _link_or_copy(str(source), str(target))


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)
