"""Where a run keeps its steps' working files (run_files.py: the component modules, each step's executor
output and metrics file): in a private folder on the machine's memory file system when there is one,
else in the run directory's tmp/ as before.

None of these files outlives its use: the runner reads a step's output and metrics as the step ends, and
the modules are written again by a run that is resumed. On disk each of them is a new inode, and on an
ext4 file system the inodes freed in the last minute or more are skipped, one by one, when a new one is
sought: after a few thousand files were deleted nearby (an old run's folder, a test suite's temporary
folders), making a file cost 0.3-0.8 ms of CPU instead of ~25 µs, and a notebook step made three (its
module, its output, its log). On /dev/shm the same files cost ~13 µs each, whatever was deleted before.

The memory folder is `/dev/shm/jupyter-mlops-<uid>/<pid>-<token>/`, made by the run's process and deleted
when its run ends. The per-user folder must be a real directory of this user that no one else can open,
else it is not used. Folders left by a process that died (a runner killed mid-run) are deleted by the
next run that makes one (by process id: a runner in another pid namespace sharing this /dev/shm would be
taken for dead). `JUPYTER_MLOPS_SCRATCH` chooses: unset for the above, `run` for the run
directory's tmp/, or a directory to hold the per-user folder instead of /dev/shm.
"""

from __future__ import annotations

import os
import secrets
import shutil
import stat
from pathlib import Path

from .processes import pid_exists

ENV = "JUPYTER_MLOPS_SCRATCH"
MEMORY = Path("/dev/shm")
# Less free than this on the memory file system (a container's 64 MiB /dev/shm) and the run's own tmp/ is
# used: a step's outputs or metrics must not fail for want of a small memory file system.
MIN_FREE_BYTES = 512 * 1024 * 1024


def private_root(parent: Path) -> Path | None:
    """`parent/jupyter-mlops-<uid>`, made if missing; None unless it is a directory of ours that no one
    else can open (not a link, mode 0700), and `parent` has room."""
    try:
        if not parent.is_dir():
            return None
        stats = os.statvfs(parent)
        if stats.f_bavail * stats.f_frsize < MIN_FREE_BYTES:
            return None
        root = parent / f"jupyter-mlops-{os.getuid()}"
        try:
            os.mkdir(root, 0o700)
        except FileExistsError:
            pass
        seen = os.lstat(root)
    except OSError:  # unwritable, or gone meanwhile: the run directory then
        return None
    if not stat.S_ISDIR(seen.st_mode) or seen.st_uid != os.getuid() or seen.st_mode & 0o077:
        return None
    return root


class Scratch:
    """A run's scratch folder: `folder` holds the run's step files (run_files.RunFiles(folder))."""

    def __init__(self, folder: Path, owned: bool) -> None:
        self.folder = folder
        self.owned = owned  # a folder of its own, deleted at the run's end (not the run's own tmp/)

    @classmethod
    def for_run(cls, workdir: Path) -> Scratch:
        choice = os.environ.get(ENV, "").strip()
        root = None if choice == "run" else private_root(Path(choice) if choice else MEMORY)
        if root is None:
            return cls(workdir / "tmp", owned=False)
        _remove_orphans(root)
        folder = root / f"{os.getpid()}-{secrets.token_hex(6)}"
        return cls(folder, owned=True)  # made by the first file written in it (RunFiles)

    def remove(self) -> None:
        if self.owned:
            shutil.rmtree(self.folder, ignore_errors=True)


def _remove_orphans(root: Path) -> None:
    """Delete the folders of processes that are gone (a runner killed before its run's end)."""
    try:
        names = os.listdir(root)
    except OSError:
        return
    for name in names:
        pid, _, _ = name.partition("-")
        if pid.isdigit() and not pid_exists(int(pid)):
            shutil.rmtree(root / name, ignore_errors=True)
