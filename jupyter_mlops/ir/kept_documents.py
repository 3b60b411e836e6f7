"""The IR documents of the last few runs, found again when the same documents come back.

Running one pipeline again (a re-run from the cache, a sweep's trials, `mlops.run` in a loop) hands
over the same documents each time. Encoding them to JSON took more than anything else in a fully
cached re-run but the step lookups, and reading them (`PipelineIR`: the shape check, each task's
executor) was redone per run. The documents of the last few runs are remembered here as the values
decoded from the pipeline.json written for them (decoded once the run is handed over: `settle`):
documents equal to one of them (`==`, equal as JSON values: 1 and 1.0 compare equal, and mean the same
to the pipeline) get a hard link to that run's file (the same bytes, no encoding, no data written) and
its `PipelineIR`, read once from those decoded values (nothing the caller holds: changing their
documents later changes nothing here). A file that is gone or cannot be linked is written afresh.
"""

from __future__ import annotations

import json
import os
import threading
from collections import deque
from pathlib import Path
from typing import Any

from .spec import PipelineIR

REMEMBERED = 4  # pipelines whose last pipeline.json is remembered, most recent first


class Kept:
    """Documents written for a recent run: their decoded JSON, the file, and the IR read from them.
    Decoded from the JSON text written (`text`) when first used: by `settle`, after the run was
    handed over (a 1,000-cell pipeline's decode, ~11 ms, sat between its file's write and the
    hand-over, on the path to its first step)."""

    def __init__(self, decoded: Any, path: Path, text: str | None = None) -> None:
        self._decoded = decoded
        self._text = text  # the JSON written, decoded on first use when `decoded` is None
        self.path = path
        self._ir: PipelineIR | None = None

    @property
    def decoded(self) -> Any:
        if self._decoded is None:
            self._decoded, self._text = json.loads(self._text or "null"), None
        return self._decoded

    def ir(self) -> PipelineIR:
        if self._ir is None:
            self._ir = PipelineIR(self.decoded)
        return self._ir


_lock = threading.Lock()
_recent: deque[Kept] = deque(maxlen=REMEMBERED)


def recall(documents: Any) -> Kept | None:
    """The remembered documents equal to `documents`, if any."""
    with _lock:
        return next((kept for kept in _recent if kept.decoded == documents), None)


def write_documents(documents: Any, path: Path, kept: Kept | None = None) -> str | None:
    """Write `documents` as JSON to `path` (a new file), or link the file of the equal documents `kept`
    (`recall(documents)`, looked up here when not given). The JSON text if it was written here."""
    kept = kept if kept is not None else recall(documents)
    if kept is not None:
        try:
            os.link(kept.path, path)
        except OSError:  # that run's folder was removed, or no hard links here: write it again
            pass
        else:
            _remember(kept, path)  # the newest copy: the one least likely to be deleted soon
            return None
    text = json.dumps(documents, allow_nan=False)
    path.write_text(text, encoding="utf-8")
    if kept is not None:
        _remember(kept, path)
    else:
        _remember(Kept(None, path, text), path)  # decoded by `settle`, once the run is on its way
    return text


def settle() -> None:
    """Decode the documents written for the runs handed over since the last call (what `recall`
    compares with): called by the submitter once the run is on its way."""
    with _lock:
        for kept in _recent:
            kept.decoded  # noqa: B018 (decoded here, not when the next run is submitted)


def _remember(kept: Kept, path: Path) -> None:
    with _lock:
        kept.path = path
        if kept in _recent:
            _recent.remove(kept)
        _recent.appendleft(kept)
