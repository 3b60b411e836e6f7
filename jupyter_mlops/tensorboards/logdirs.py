"""Which folders TensorBoard shows for a run, or for one step of it.

A step's TensorBoard folder is an artifact: `mlops_logdir` (a notebook step that calls `logdir()` or
`log_embedding`, on any backend) or `tensorboard` (the local backend's `mlops.logdir()` folder, where
`log_metric` also writes event files). Only folders on this machine can be served.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import UsageError

if TYPE_CHECKING:
    from ..backends.base import Backend
    from .registry import Record

LOGDIR_ARTIFACTS = ("mlops_logdir", "tensorboard")


def run_logdirs(backend: Backend, run_ref: str, step: str | None = None) -> tuple[str, dict[str, str]]:
    """(the run's id, {TensorBoard run name: folder}) for a run (id, id prefix or name) or one step."""
    info = backend.get(run_ref)  # an id or a unique id prefix (RunNotFound otherwise)
    run_id = info.id
    if step is not None and step not in {s.name for s in info.steps}:
        known = ", ".join(s.name for s in info.steps) or "none"
        raise UsageError(f"run {run_ref!r} has no step {step!r} (its steps: {known})")
    found: dict[str, str] = {}
    for artifact in backend.artifacts(run_id, step):
        is_logdir = artifact.name in LOGDIR_ARTIFACTS or artifact.metadata.get("kind") == "tensorboard-logdir"
        folder = Path(artifact.uri.removeprefix("file://"))
        if is_logdir and folder.is_dir() and any(folder.iterdir()):
            name = artifact.step
            if name in found:
                name = f"{artifact.step}-{artifact.name}"
            found[re.sub(r"[^A-Za-z0-9._-]+", "_", name)] = str(folder)
    if not found:
        where = f"step {step!r} of run {info.name!r}" if step else f"run {info.name!r}"
        raise UsageError(
            f"{where} has no TensorBoard logs on this machine: a step writes them with log_metric, "
            "log_embedding or into logdir() (a run on a Kubeflow cluster keeps them in its object store)"
        )
    return run_id, found


def served_folder(folders: dict[str, str]) -> str:
    """The one folder TensorBoard is started on for these logdirs: the folder itself, or the nearest
    folder holding them all (TensorBoard finds each logdir below it as a run named by its path;
    its projector reads runs under one `--logdir` only, not `--logdir_spec`)."""
    paths = list(folders.values())
    return paths[0] if len(paths) == 1 else os.path.commonpath(paths)


def run_record(backend: Backend, run_ref: str, step: str | None = None) -> Record:
    """The registered TensorBoard record for a run's (or one step's) logs."""
    from .registry import register_logdir

    run_id, folders = run_logdirs(backend, run_ref, step)
    return register_logdir(served_folder(folders), f"run {run_id}" + (f" step {step}" if step else ""))
