"""A run's IR documents kept as pipeline.json, without encoding and writing the same documents again.

Running one pipeline again (a re-run from the cache, a sweep's trials, `mlops.run` in a loop) hands
over the same documents each time. Encoding them to JSON took more than anything else in a fully
cached re-run but the step lookups: the documents of the last few runs are remembered here (as the
JSON written and the values decoded from it), and documents equal to one of them get a hard link
to that run's file: the same bytes, no encoding, no data written. Equal means equal as JSON values
(`==` on the decoded documents; 1 and 1.0 compare equal, and mean the same to the pipeline). A file
that is gone or cannot be linked is written afresh.
"""

from __future__ import annotations

import json
import os
import threading
from collections import deque
from pathlib import Path
from typing import Any

REMEMBERED = 4  # pipelines whose last pipeline.json is remembered, most recent first

_lock = threading.Lock()
_recent: deque[tuple[Any, Path]] = deque(maxlen=REMEMBERED)  # (decoded documents, the file written)


def write_documents(documents: Any, path: Path) -> None:
    """Write `documents` as JSON to `path` (a new file), or link an earlier file holding equal ones."""
    with _lock:
        earlier = next(((d, p) for d, p in _recent if d == documents), None)
    if earlier is not None:
        try:
            os.link(earlier[1], path)
        except OSError:  # that run's folder was removed, or no hard links here: write it again
            pass
        else:
            _remember(earlier[0], path)  # the newest copy: the one least likely to be deleted soon
            return
    text = json.dumps(documents, allow_nan=False)
    path.write_text(text, encoding="utf-8")
    _remember(json.loads(text), path)


def _remember(decoded: Any, path: Path) -> None:
    with _lock:
        for i, (kept, _) in enumerate(_recent):
            if kept is decoded:
                del _recent[i]
                break
        _recent.appendleft((decoded, path))
