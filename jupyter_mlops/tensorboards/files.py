"""`mlops.log_embedding` and the event files of `mlops.log_metric` in a plain cell (or in a step of a
pipeline that imports jupyter_mlops): the writer is step_tensorboard.py, the same code that compiled
steps inline, so a cell writes the same files in the kernel and as a step."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any, BinaryIO

from ..errors import UsageError
from ..home import HOME_ENV, mlops_home
from ..step_runtime.tensorboard import _mlops_events_file, _mlops_scalar_record, _mlops_write_embedding
from ..this_process import pid

_counters: dict[tuple[str, str], int] = {}
_lock = threading.Lock()
# logdir -> (this process's pid, its events file there, that file kept open for appending)
_open: dict[str, tuple[int, str, BinaryIO]] = {}
# (JUPYTER_MLOPS_LOGDIR, JUPYTER_MLOPS_HOME, pid) -> the logdir they make
_logdirs: dict[tuple[str | None, str | None, int], str] = {}


def current_logdir(*, make: bool = True) -> str:
    """The logdir `mlops.logdir()` gives here: a step's (the executor sets it), else this notebook
        session's (one per kernel process, under the jupyter-mlops home). Asked per metric point: the path
        is worked out once per setting and process, and the folder made again if it went away (`make=False`:
    for `write_scalar`, which makes it when it opens its file)."""
    key = (os.environ.get("JUPYTER_MLOPS_LOGDIR"), os.environ.get(HOME_ENV), pid())
    path = _logdirs.get(key)
    if path is None:
        override = key[0]
        made = Path(override) if override else mlops_home() / "sessions" / f"{key[2]}" / "logs"
        path = _logdirs[key] = str(made)
    if make and not os.path.isdir(path):
        Path(path).mkdir(parents=True, exist_ok=True)
    return path


def log_embedding(
    vectors: Any,
    metadata: Any = None,
    *,
    tag: str = "embedding",
    logdir: str | os.PathLike[str] | None = None,
    step: int = 0,
    images: Any = None,
) -> str:
    """Write TensorBoard Embedding Projector files for `vectors` (N x D: a numpy array, nested lists, a
    torch or TensorFlow tensor) with optional labels (`metadata`: one per vector; or several columns as
    a dict of lists or a DataFrame) and optional thumbnails (`images`: N x H x W [x 3]).

    The files go to `logdir` (default: `mlops.logdir()`, the step's or the notebook session's), laid
    out as `SummaryWriter.add_embedding` lays them out; several tags (and steps) add up in one run.
    Returns the logdir, to hand to `mlops.tensorboard(...)`."""
    target = os.fspath(logdir) if logdir is not None else current_logdir()
    try:
        _mlops_write_embedding(target, vectors, metadata, tag=tag, step=step, images=images)
    except ValueError as exc:
        raise UsageError(f"{exc} (writing to {target})") from None
    return target


def write_scalar(logdir: str, name: str, value: float, step: int | None) -> None:
    """One point of a metric history into `logdir`'s event file; without a step, points count up.

    The file stays open (and is flushed after each point, so TensorBoard sees it at once): a point
    costs a write, not making the folder, listing it and opening the file. A file removed meanwhile
    (the logdir cleared) is made again; a forked child writes a file of its own."""
    with _lock:
        key = (logdir, name)
        index = _counters.get(key, 0) if step is None else step
        _counters[key] = index + 1
        record = _mlops_scalar_record(time.time(), int(index), name, float(value))
        kept = _open.get(logdir)
        here = pid()
        if kept is None or kept[0] != here or not os.path.exists(kept[1]):
            if kept is not None and kept[0] == here:
                kept[2].close()
            path = _mlops_events_file(logdir)
            kept = _open[logdir] = (here, path, open(path, "ab"))  # noqa: SIM115 (kept open)
        kept[2].write(record)
        kept[2].flush()
