"""Where the warm runner service of a jupyter-mlops home listens, and whether one may be used.

One service per home, machine, Python interpreter and import path (a kernel in another virtualenv, or
one that imports another copy of this package, gets its own): its Unix socket is
`$XDG_RUNTIME_DIR/jupyter-mlops/<key>.sock` when the session has a runtime directory, else
`<home>/runner-<key>.sock`, or, when that path is longer than a Unix socket address may be,
`<tmp>/jupyter-mlops-<uid>/<key>.sock`. The socket is created 0600 and its folder (outside the home)
0700: only the user can connect.
"""

from __future__ import annotations

import hashlib
import os
import socket
import stat
import sys
import tempfile
from pathlib import Path

from ..executor.processes import fork_supported

MODE_ENV = "JUPYTER_MLOPS_RUNNER"  # "service" (the default) or "process": a runner process per run
IDLE_ENV = "JUPYTER_MLOPS_SERVICE_IDLE_S"
DEFAULT_IDLE_S = 300.0  # a service with no runs and no requests for this long exits
MAX_SOCKET_PATH = 100  # sun_path holds 104 bytes on macOS, 108 on Linux, with its final NUL


def service_key(home: Path) -> str:
    root = Path(__file__).resolve().parents[2]
    # the host too: a home shared between machines (NFS) gets a socket per machine
    host = socket.gethostname()
    parts = (str(Path(home).absolute()), sys.executable, str(root), os.environ.get("PYTHONPATH", ""), host)
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def private_dir(path: Path) -> Path:
    """`path`, created 0700 if missing; refused (OSError) if it is not ours or others can enter it."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = path.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise OSError(f"{path} is not a private directory of this user")
    return path


def socket_path(home: Path) -> Path:
    key = service_key(home)
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    candidates = []
    if runtime and Path(runtime).is_dir():
        candidates.append(Path(runtime) / "jupyter-mlops" / f"{key}.sock")
    candidates.append(Path(home).absolute() / f"runner-{key}.sock")
    candidates.append(Path(tempfile.gettempdir()) / f"jupyter-mlops-{os.getuid()}" / f"{key}.sock")
    for path in candidates:
        if len(os.fsencode(path)) <= MAX_SOCKET_PATH:
            return path
    return Path(tempfile.gettempdir()) / f"jm-{os.getuid()}" / f"{key}.sock"


def socket_folder_ready(path: Path, home: Path) -> None:
    """Make the socket's folder: the home as it is (the user's), any other folder private (0700)."""
    if path.parent == Path(home).absolute():
        path.parent.mkdir(parents=True, exist_ok=True)
    else:
        private_dir(path.parent)


def service_wanted() -> str | None:
    """None when runs may go to the runner service, else why not (then a runner process per run)."""
    mode = os.environ.get(MODE_ENV, "service").strip().lower()
    if mode == "process":
        return f"{MODE_ENV}=process"
    if not fork_supported():  # Linux only: on macOS forking a process with system frameworks loaded is unsafe
        return "the runner service forks warm processes, which is done on Linux only"
    return None


def idle_seconds() -> float:
    try:
        return max(0.0, float(os.environ.get(IDLE_ENV, DEFAULT_IDLE_S)))
    except ValueError:
        return DEFAULT_IDLE_S
