"""The working files of a run's steps, in one folder of the run's scratch folder (scratch.py: a private
memory folder, or the run directory's tmp/): the component modules (one file per distinct component
source, written once per run), each step's executor output and metrics file.

Every new file or folder is a new inode, and making one is not always cheap: on an ext4 file system
without a journal (as here), the kernel skips the inodes freed in the last minutes when it looks for a
free one (`recently_deleted`), one lookup each; after a few thousand files were deleted nearby (a test
suite's temporary folders, a previous run's folder), each new file cost 1-3 ms instead of ~20 µs. A step
used to make four (its folder, its module, its output, its log): on a 40-step chain that was most of
the difference between an idle and a busy machine. Now a step of a component already written makes two
(its output and its log), and with the memory scratch folder (scratch.py) only its log is on the run's
disk; what used to be its folder is made only for what needs it (an `OutputPath`
parameter, which kfp's executor writes there, or the request of a step run in a fresh interpreter).

Names inside `.steps/` cannot collide with each other nor with a step's folder (`step_folders`: never
starting with a dot): modules end in `.py`, outputs in `.output.json`, metrics in `.metrics-N.jsonl`.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

FOLDER = ".steps"


class RunFiles:
    """Paths of the step files of one run whose scratch folder is `tmp` (scratch.Scratch.folder)."""

    def __init__(self, tmp: Path) -> None:
        self.folder = tmp / FOLDER
        self._modules: dict[str, Path] = {}  # component source -> its module file, written
        self._ahead: set[str] = set()  # sources written for a step expected next, not run yet
        self._lock = threading.Lock()  # steps start on threads of their own

    def module(self, source: str, ahead: bool = False) -> Path:
        """The module file of a component's source, written the first time a step of it runs (a chain
        or a loop of one component writes one file, not one per step). `ahead`: for the step expected
        to run next (steps.ContainerStep.next_step), before it starts; when that step asks for it, the
        file is checked to be still there (the step before may have removed the folder)."""
        with self._lock:
            path = self._modules.get(source)
            if path is not None and not ahead and source in self._ahead:
                self._ahead.discard(source)
                if not path.exists():
                    path = None
            elif path is None and ahead:
                self._ahead.add(source)
            if path is None:
                digest = hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()[:16]
                path = self.folder / f"component-{digest}.py"
                try:  # the folder is made by the first module (or again, if removed since)
                    path.write_text(source)
                except FileNotFoundError:
                    self.folder.mkdir(parents=True, exist_ok=True)
                    path.write_text(source)  # (a failure is the step's: nothing is remembered)
                self._modules[source] = path
            return path

    def output_file(self, step_folder: str) -> Path:
        """Where kfp's executor writes the step's executor output (it makes the folder if needed)."""
        return self.folder / f"{step_folder}.output.json"

    def metrics_file(self, step_folder: str, attempt: int) -> Path:
        """Where the step appends the metrics it logs (opened by the step, in a folder that exists: a
        step's module is written there first)."""
        return self.folder / f"{step_folder}.metrics-{attempt}.jsonl"
