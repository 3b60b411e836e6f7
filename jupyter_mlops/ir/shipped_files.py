"""`--files PATH`: data files a notebook reads by relative path, shipped inside the pipeline spec.

On a cluster a step runs in a pod, where the notebook's folder is not: `pd.read_csv("data/x.csv")`
finds nothing (compile warns about such reads). `ship_files` puts the named files, compressed, into
every step's component source, which writes them to the step's working directory, under the same
relative paths, before the cell runs; a file already there (a run on this machine) is left alone.

The files travel in the spec itself, which KFP stores in its database and Argo in a Kubernetes object
(about 1.5 MB at most for the whole workflow): so they are for small files (a lookup table, a config,
a sample), MAX_BYTES in all after compression. Anything larger belongs in object storage, read from
there by URL.
"""

from __future__ import annotations

import base64
import copy
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import UsageError

MAX_BYTES = 512 * 1024  # compressed, for all steps together

_WRITER = """

def _mlops_ship_files():  # written by jupyter-mlops --files: the notebook's data files, for the pod
    import base64, os, zlib
    for path, data in {files!r}.items():
        if not os.path.exists(path):
            if os.path.dirname(path):
                os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(zlib.decompress(base64.b64decode(data)))


_mlops_ship_files()
"""


def collect(paths: Sequence[str], base: Path) -> dict[str, bytes]:
    """The files named by `paths` (files, or folders taken whole), relative to `base`."""
    found: dict[str, bytes] = {}
    root = base.resolve()
    for given in paths:
        path = Path(given)
        if path.is_absolute() or ".." in path.parts:
            raise UsageError(
                f"--files {given}: name a path relative to the notebook's folder, as the cell reads it "
                "(the step finds it under the same relative path)"
            )
        full = root / path
        if not full.exists():
            raise UsageError(f"--files {given}: there is no such file or folder in {root}")
        for item in sorted(full.rglob("*")) if full.is_dir() else [full]:
            if item.is_file():
                found[item.relative_to(root).as_posix()] = item.read_bytes()
    return found


def ship_files(documents: list[dict[str, Any]], files: dict[str, bytes]) -> list[dict[str, Any]]:
    """A copy of the spec documents in which every step's component source writes `files` first."""
    if not files:
        return documents
    documents = copy.deepcopy(documents)  # the compiled documents may be a cache's
    packed = {name: base64.b64encode(zlib.compress(data, 9)).decode() for name, data in files.items()}
    executors = documents[0].get("deploymentSpec", {}).get("executors", {})
    sources = []
    for executor in executors.values():
        command = executor.get("container", {}).get("command") or []
        if command and isinstance(command[-1], str) and "def " in command[-1]:
            sources.append(command)
    size = sum(len(v) for v in packed.values()) * max(1, len(sources))
    if size > MAX_BYTES:
        names = ", ".join(sorted(files))
        raise UsageError(
            f"--files: {names} come to {size // 1024} KB in the pipeline spec ({len(sources)} steps "
            f"each carry them); the limit is {MAX_BYTES // 1024} KB (KFP keeps the spec in its database, "
            "Argo in a Kubernetes object): put larger files in object storage and read them from there"
        )
    writer = _WRITER.format(files=packed)
    for command in sources:
        command[-1] = command[-1] + writer
    return documents


def local_modules(documents: Sequence[dict[str, Any]], base: Path) -> list[str]:
    """The notebook's own modules the steps import (`helpers.py`, a package `src/` in `base`), as paths
    relative to it: a pod has them only if they are shipped (`--files`) or in its image."""
    from .step_imports import executor_imports

    found = []
    for name in sorted(set().union(*executor_imports(documents))):
        files = local_module_files(str(base), name)
        if files:
            found.append(f"{name}.py" if files == [f"{name}.py"] else name)
    return found


def local_module_files(folder: str, name: str) -> list[str]:
    """The Python files, relative to `folder`, that make the notebook's own module `name` there:
    `name.py`, or every `.py` of the package `name/` (caches and hidden folders left out); [] if none."""
    import os

    if os.path.isfile(os.path.join(folder, name + ".py")):
        return [name + ".py"]
    files: list[str] = []
    for here, dirs, names in os.walk(os.path.join(folder, name)):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__" and not d.startswith("."))
        for file in sorted(f for f in names if f.endswith(".py")):
            files.append(os.path.relpath(os.path.join(here, file), folder))
    return files
