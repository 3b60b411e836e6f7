"""Is what the runner service (or one of its zygotes) has loaded still what is on disk?

A long-lived process keeps the code it imported: after `pip install -U kfp`, an edit to this package
(an editable install), or an upgraded numpy, a fresh runner process would load the new code while
forks of the service would run the old. So the service notes the files of what it loaded (this
package and kfp: `code_stamp`) and compares before handing out a run, at most once a second; on a
difference it stops (the client starts a new service). A zygote notes the files of the modules it
preloaded (`modules_stamp`) and is dropped when they change.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

Stamp = tuple[tuple[str, int], ...]

CHECK_EVERY_S = 1.0


def _mtime(path: str) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return -1


def code_stamp() -> Stamp:
    """(file, mtime) of every loaded module of this package and of kfp."""
    folders = [str(Path(__file__).resolve().parents[1]) + os.sep]
    kfp_file = getattr(sys.modules.get("kfp"), "__file__", None)
    if kfp_file:
        folders.append(str(Path(kfp_file).resolve().parent) + os.sep)
    roots = tuple(folders)
    files = sorted(
        {
            str(Path(f).resolve())
            for m in list(sys.modules.values())
            if (f := getattr(m, "__file__", None)) and str(Path(f).resolve()).startswith(roots)
        }
    )
    return tuple((f, _mtime(f)) for f in files)


def modules_stamp(modules: Sequence[str]) -> Stamp:
    """(file, mtime) of each top-level module's own file (an upgrade rewrites its __init__.py)."""
    stamp = []
    for name in modules:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        origin = spec.origin if spec is not None and spec.origin else ""
        stamp.append((origin, _mtime(origin) if origin else -1))
    return tuple(stamp)


class Freshness:
    """The service's own check, throttled."""

    def __init__(self) -> None:
        self.stamp = code_stamp()
        self.checked = time.monotonic()
        self.stale: str | None = None

    def changed(self) -> str | None:
        """Which loaded file changed on disk since the service started, or None (once found, always)."""
        now = time.monotonic()
        if self.stale is not None or now - self.checked < CHECK_EVERY_S:
            return self.stale
        self.checked = now
        self.stale = next((path for path, mtime in self.stamp if _mtime(path) != mtime), None)
        return self.stale
