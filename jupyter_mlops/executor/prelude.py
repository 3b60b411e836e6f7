"""The install prelude of a step: skipped when its packages are present, else a cached, reused venv.

kfp puts `pip install <packages> 'kfp==X' && "$0" "$@"` in front of every lightweight component. On
this machine that install usually changes nothing and costs most of a second per step, so a step
whose requirements are already satisfied by the chosen interpreter runs directly. Otherwise the
packages go into a venv under `<cache>/venvs/<hash of the package set>`, created with
`--system-site-packages` (so kfp and friends stay visible), installed once under a file lock so
concurrent runners do not race, and reused by every later step and run with the same set.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from .processes import StepLaunchError

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; concurrent first installs may repeat work
    fcntl = None  # type: ignore[assignment]

_CHECK = """
import json, sys
from importlib import metadata
from packaging.requirements import Requirement
ok = True
for text in json.loads(sys.argv[1]):
    req = Requirement(text)
    if req.marker is not None and not req.marker.evaluate():
        continue
    try:
        version = metadata.version(req.name)
    except metadata.PackageNotFoundError:
        ok = False
        break
    if req.name.lower() != "kfp" and req.specifier and not req.specifier.contains(version, prereleases=True):
        ok = False
        break
print(json.dumps(ok))
"""


def requirements_satisfied(requirements: Iterable[str]) -> bool:
    """True if this interpreter already has every requirement (any kfp counts: its executor is stable)."""
    from importlib import metadata

    from packaging.requirements import InvalidRequirement, Requirement

    for text in requirements:
        try:
            req = Requirement(text)
        except InvalidRequirement:
            return False  # a URL or path: only pip can tell
        if req.marker is not None and not req.marker.evaluate():
            continue
        try:
            version = metadata.version(req.name)
        except metadata.PackageNotFoundError:
            return False
        if req.name.lower() == "kfp":
            continue
        if req.specifier and not req.specifier.contains(version, prereleases=True):
            return False
    return True


class Environments:
    """Chooses the interpreter for each step's package set; one per `execute` call, results memoized."""

    def __init__(self, python: str, venv_root: Path) -> None:
        self.python = python
        self.venv_root = venv_root
        self._same_interpreter = _same_file(python, sys.executable)
        self._checked: dict[tuple[str, ...], bool] = {}

    def satisfied(self, requirements: tuple[str, ...]) -> bool:
        key = tuple(sorted(requirements))
        if key not in self._checked:
            if not key:
                self._checked[key] = True
            elif self._same_interpreter:
                self._checked[key] = requirements_satisfied(key)
            else:
                self._checked[key] = self._check_elsewhere(key)
        return self._checked[key]

    def _check_elsewhere(self, requirements: tuple[str, ...]) -> bool:
        try:
            out = subprocess.run(
                [self.python, "-c", _CHECK, json.dumps(list(requirements))],
                capture_output=True,
                text=True,
                timeout=60,
                check=True,
            ).stdout
            return bool(json.loads(out.strip().splitlines()[-1]))
        except (OSError, subprocess.SubprocessError, ValueError, IndexError):
            return False

    def venv_python(self, requirements: tuple[str, ...], pip_options: tuple[str, ...], log: IO[bytes]) -> str:
        """The interpreter of the venv for this package set, created and installed on first use."""
        wanted = (
            [r for r in requirements if not _is_kfp(r)] if self.satisfied(("kfp",)) else list(requirements)
        )
        identity = json.dumps([sorted(wanted), list(pip_options), os.path.realpath(self.python)])
        venv = self.venv_root / hashlib.sha256(identity.encode()).hexdigest()[:20]
        python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
        ready = venv / ".ready"
        if ready.exists():
            return str(python)
        self.venv_root.mkdir(parents=True, exist_ok=True)
        with _locked(self.venv_root / f"{venv.name}.lock"):
            if ready.exists():
                return str(python)
            shutil.rmtree(venv, ignore_errors=True)  # a half-made venv from an interrupted install
            log.write(f"[jupyter-mlops] creating a venv for {' '.join(wanted)} in {venv}\n".encode())
            log.flush()
            _run([self.python, "-m", "venv", "--system-site-packages", str(venv)], log, "create a venv")
            if wanted:
                pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
                _run(
                    [*pip, *pip_options, *wanted],
                    log,
                    f"pip install {' '.join(wanted)}",
                )
            (venv / ".requirements.json").write_text(identity)
            ready.touch()
        return str(python)


def _is_kfp(requirement: str) -> bool:
    name = requirement.split(";")[0].strip().lower()
    return name == "kfp" or name.startswith(("kfp=", "kfp<", "kfp>", "kfp~", "kfp!", "kfp ["))


def _run(command: list[str], log: IO[bytes], what: str) -> None:
    try:
        code = subprocess.run(
            command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        ).returncode
    except OSError as e:
        raise StepLaunchError(f"cannot {what}: {e}") from e
    if code != 0:
        raise StepLaunchError(f"could not {what} (exit code {code}); the step's log has pip's output")


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as f:
        if fcntl is not None:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(f.fileno(), fcntl.LOCK_UN)
