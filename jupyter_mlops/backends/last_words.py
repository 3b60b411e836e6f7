"""A runner's last words, kept where a full disk cannot take them away.

At its start the runner writes `runner.last` in the run's folder: a block of spaces, so the disk space
is taken then. Whatever it says as it gives up (a write that kept failing, a crash) overwrites that
block in place, which needs no new space on a full disk. A reader that finds the runner gone adds the
words to the reason it records (`heard`), with the last line of runner.log when there are none.
"""

from __future__ import annotations

import os
from pathlib import Path

SIZE = 4096
FILE = "runner.last"
LOG = "runner.log"


class LastWords:
    def __init__(self, run_dir: Path) -> None:
        self.fd: int | None = None
        try:
            self.fd = os.open(run_dir / FILE, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
            os.write(self.fd, b" " * SIZE)
        except OSError:
            self.close()

    def say(self, text: str) -> None:
        """Overwrite the block with `text` (cut to fit). Never raises."""
        if self.fd is None:
            return
        data = text.encode("utf-8", "replace")[: SIZE - 1]
        try:
            os.pwrite(self.fd, data + b" " * (SIZE - len(data)), 0)
        except OSError:
            pass

    def close(self) -> None:
        if self.fd is not None:
            try:
                os.close(self.fd)
            except OSError:
                pass
            self.fd = None


def heard(run_dir: Path) -> str | None:
    """What a runner that died said last: its last words if it left any, else runner.log's last line."""
    try:
        words = (run_dir / FILE).read_bytes().decode("utf-8", "replace").strip()
    except OSError:
        words = ""
    if words:
        return words
    try:
        with (run_dir / LOG).open("rb") as f:
            f.seek(max(0, f.seek(0, 2) - SIZE))
            lines = [ln.strip() for ln in f.read().decode("utf-8", "replace").splitlines() if ln.strip()]
    except OSError:
        return None
    return lines[-1] if lines else None
