"""Running a script in a private mount namespace with a small tmpfs of its own (a real full disk).

`unshare -m` needs root (or CAP_SYS_ADMIN); tests that use this skip where it is not possible.
The tmpfs is visible only to the script and the processes it starts (runners, steps): nothing on the
machine sees it, and it disappears with them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any


def private_tmpfs_available() -> bool:
    if shutil.which("unshare") is None or not sys.platform.startswith("linux"):
        return False
    probe = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-c",
         "d=$(mktemp -d) && mount -t tmpfs -o size=1m tmpfs $d && umount $d && rmdir $d"],
        capture_output=True, timeout=60,
    )  # fmt: skip
    return probe.returncode == 0


def run_on_small_disk(
    mount: Path, size: str, script: str, args: list[str], env: dict[str, str], timeout: float
) -> dict[str, Any]:
    """Run `script` (Python source) with `mount` as a fresh tmpfs of `size`; its last stdout line is JSON."""
    mount.mkdir(parents=True, exist_ok=True)
    source = mount.parent / f"{mount.name}-script.py"
    source.write_text(script)
    command = f"mount -t tmpfs -o size={size} tmpfs {mount} && exec {sys.executable} {source} " + " ".join(
        f"'{a}'" for a in args
    )
    done = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-c", command],
        capture_output=True, text=True, timeout=timeout, env=dict(os.environ, **env),
    )  # fmt: skip
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    assert done.returncode == 0 and lines, f"script failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    result: dict[str, Any] = json.loads(lines[-1])
    return result
