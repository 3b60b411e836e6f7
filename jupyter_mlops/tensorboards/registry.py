"""The registry of TensorBoard instances: which logdirs may be served, under which id.

A record is a file `<id>.json` in this user's Jupyter runtime folder (mode 0700, where the Jupyter
server keeps its own files), shared by the kernel that asks for a TensorBoard, the Jupyter server that
starts and proxies it, and the command line. The id is a hash of what TensorBoard is started with, so
the same logdir keeps the same URL across kernel and server restarts: the server finds the record and
starts TensorBoard again. The proxy goes only to ids found here; a host or port never comes from a URL.

A Jupyter server that runs our extension leaves `server-<pid>.json` here, saying its base URL, so a
kernel it started knows that it can show TensorBoard through it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..executor.processes import pid_exists

ID_PATTERN = re.compile(r"[0-9a-f]{12}")


def registry_dir() -> Path:
    from jupyter_core.paths import jupyter_runtime_dir

    override = os.environ.get("JUPYTER_MLOPS_TENSORBOARD_DIR")
    path = Path(override) if override else Path(jupyter_runtime_dir()) / "jupyter-mlops-tensorboard"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


@dataclass(frozen=True)
class Record:
    id: str
    logdir: str  # an absolute folder
    title: str  # what the user asked for, for lists and messages

    def arguments(self) -> list[str]:
        return ["--logdir", self.logdir]


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f)
    os.replace(tmp, path)


def register_logdir(logdir: str | os.PathLike[str], title: str | None = None) -> Record:
    """The record for a logdir, written if new (its id is a hash of the absolute folder)."""
    value = str(Path(logdir).expanduser().absolute())
    digest = hashlib.sha256(value.encode()).hexdigest()[:12]
    record = Record(digest, value, title or value)
    path = registry_dir() / f"{digest}.json"
    if not path.exists() or lookup(digest) != record:
        _write_json(path, {"id": digest, "logdir": value, "title": record.title, "created": time.time()})
    return record


def lookup(instance_id: str) -> Record | None:
    """The record of `instance_id`, or None for an id that is malformed or not registered."""
    if not ID_PATTERN.fullmatch(instance_id):
        return None
    try:
        data = json.loads((registry_dir() / f"{instance_id}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("id") != instance_id or not isinstance(data.get("logdir"), str):
        return None
    if not os.path.isabs(data["logdir"]):
        return None
    return Record(instance_id, data["logdir"], str(data.get("title") or data["logdir"]))


def announce_server(base_url: str) -> Path:
    """Say that this process is a Jupyter server that proxies TensorBoard under `base_url`."""
    path = registry_dir() / f"server-{os.getpid()}.json"
    _write_json(path, {"pid": os.getpid(), "base_url": base_url})
    return path


def parent_server_base_url() -> str | None:
    """The base URL of the live Jupyter server with our extension that started this kernel, if any."""
    for pid in dict.fromkeys([os.environ.get("JPY_PARENT_PID", ""), str(os.getppid())]):
        if not pid.isdigit():
            continue
        try:
            data = json.loads((registry_dir() / f"server-{pid}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and isinstance(data.get("base_url"), str) and pid_exists(int(pid)):
            return str(data["base_url"])
    return None

    return True
