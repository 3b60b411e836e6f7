"""The names of a KFP server's experiments by id, kept on disk between kernels.

A KFP experiment's id never changes and the v2beta1 API cannot rename one, so a name once read stays
true: a new kernel that lists runs of experiments an earlier kernel met needs no request for their
names (the first page of `%pipeline runs` is then one request). One small JSON file per server and
namespace under the jupyter-mlops home; a file that cannot be read or written only costs requests.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable
from pathlib import Path

from ...home import mlops_home
from .connection import Connection

MAX_NAMES = 10_000  # a server with more experiments keeps only the names read last
_writing = threading.Lock()  # one write at a time: each writes the names as they are when it runs
_pending: dict[Path, threading.Thread] = {}


def names_file(conn: Connection) -> Path:
    server = hashlib.sha256(f"{conn.host}|{conn.namespace or ''}".encode()).hexdigest()[:16]
    return mlops_home() / "kfp-experiments" / f"{server}.json"


def load(path: Path) -> dict[str, str]:
    pending = _pending.get(path)
    if pending is not None:  # this process is writing it: read what it writes
        pending.join()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): v for k, v in data.items() if isinstance(v, str)}


def save(path: Path, names: dict[str, str]) -> None:
    """Write the names at once (another kernel reads the old file or the new one, never half)."""
    data = json.dumps(dict(list(names.items())[-MAX_NAMES:])).encode()  # one write, not json.dump's many
    temporary = path.with_name(f".names-{os.urandom(6).hex()}.json")  # as mkstemp names them, for less
    try:
        try:
            handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileNotFoundError:  # the first name kept on this machine
            path.parent.mkdir(parents=True, exist_ok=True)
            handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(handle, view) :]
        finally:
            os.close(handle)
        os.replace(temporary, path)
    except OSError:
        try:
            temporary.unlink(missing_ok=True)
        except OSError:
            pass


def save_soon(path: Path, names: Callable[[], dict[str, str]]) -> None:
    """`save(path, names())` in a thread of its own: the page the user waits for does not wait for the
    file system (creating and renaming a file costs more than reading the page's JSON). Not a daemon:
    a kernel that exits meanwhile still writes it. `names` is read when the write happens, so the last
    write has every name learned before it."""

    def write() -> None:
        with _writing:
            save(path, names())

    thread = threading.Thread(target=write, name="kfp-experiment-names")
    _pending[path] = thread
    thread.start()
