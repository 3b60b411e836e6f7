"""The install prelude of a step: skipped when its packages are present, else a cached, reused venv.

kfp puts `pip install <packages> 'kfp==X' && "$0" "$@"` in front of every lightweight component. On
this machine that install usually changes nothing and costs most of a second per step, so a step
whose requirements are already satisfied by the chosen interpreter runs directly. Otherwise the
packages go into a venv under `<cache>/venvs/<hash>`, installed once under a file lock so concurrent
runners do not race, and reused by every later step and run with the same package set and parent.

The venv sees the packages of the environment the runner runs in (its *parent*: kfp and whatever the
notebook uses), whatever kind that is: a venv with or without system site-packages, a venv made by a
venv, a conda or pyenv prefix, the system's Python. `venv --system-site-packages` cannot do that: it
links to the base interpreter's site-packages, never a venv's (a step in a `.venv` would not find
kfp). So the venv is made plain and a `.pth` file in its site-packages adds the parent's site
directories, in the parent's order, with `site.addsitedir` (their own `.pth` files, editable installs
among them, work too). They come after the venv's own site-packages, so a package the step asked for
wins over the parent's copy of it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from .processes import StepLaunchError

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; concurrent first installs may repeat work
    fcntl = None  # type: ignore[assignment]

# Run by another interpreter, with nothing but its standard library: what it has installed, and the
# values PEP 508 markers are evaluated against (the keys of packaging.markers.default_environment()).
_SURVEY = """
import json, os, platform, sys
from importlib import metadata
iv = sys.implementation.version
impl = f"{iv.major}.{iv.minor}.{iv.micro}"
if iv.releaselevel != "final":
    impl += iv.releaselevel[0] + str(iv.serial)
environment = {
    "implementation_name": sys.implementation.name,
    "implementation_version": impl,
    "os_name": os.name,
    "platform_machine": platform.machine(),
    "platform_release": platform.release(),
    "platform_system": platform.system(),
    "platform_version": platform.version(),
    "python_full_version": platform.python_version(),
    "platform_python_implementation": platform.python_implementation(),
    "python_version": ".".join(platform.python_version_tuple()[:2]),
    "sys_platform": sys.platform,
}
versions = {}
for dist in metadata.distributions():
    name = dist.metadata["Name"]
    if name and name not in versions:
        versions[name] = dist.version
print(json.dumps({"environment": environment, "versions": versions}))
"""


# Run by the parent interpreter (in this process, or as `python -c`): its site directories (where its
# packages are installed, user site included when enabled), in the order they are on its sys.path.
_SITE_DIRS = """
import os, site, sys
def site_dirs():
    dirs = list(site.getsitepackages()) if hasattr(site, "getsitepackages") else []
    if site.ENABLE_USER_SITE and hasattr(site, "getusersitepackages"):
        dirs.append(site.getusersitepackages())
    wanted = {os.path.realpath(d) for d in dirs}
    found, seen = [], set()
    for entry in sys.path:
        real = os.path.realpath(entry) if entry else ""
        if real in wanted and real not in seen:
            seen.add(real)
            found.append(os.path.abspath(entry))
    return found
"""
_PTH_NAME = "_jupyter_mlops_parent.pth"
_LAYOUT = 2  # 1: venvs made with --system-site-packages (blind to a venv parent's packages)


def site_dirs_here() -> list[str]:
    """This interpreter's site directories, as a step venv made from it must see them."""
    namespace: dict[str, object] = {}
    exec(_SITE_DIRS, namespace)
    found = namespace["site_dirs"]()  # type: ignore[operator]
    return [str(d) for d in found]


def requirements_satisfied(
    requirements: Iterable[str],
    version_of: Callable[[str], str | None] | None = None,
    environment: dict[str, str] | None = None,
) -> bool:
    """True if an interpreter already has every requirement (any kfp counts: its executor is stable).

    By default the interpreter is this one; `version_of` (installed version by project name, or None)
    and `environment` (marker values) describe another.
    """
    from packaging.requirements import InvalidRequirement, Requirement

    version_of = version_of or _installed_here
    for text in requirements:
        try:
            req = Requirement(text)
        except InvalidRequirement:
            return False  # a URL or path: only pip can tell
        if req.marker is not None and not req.marker.evaluate(environment):
            continue
        version = version_of(req.name)
        if version is None:
            return False
        if req.name.lower() == "kfp":
            continue
        if req.specifier and not req.specifier.contains(version, prereleases=True):
            return False
    return True


def _installed_here(name: str) -> str | None:
    # kfp, which every step asks for, is loaded in the runner and its step worker: no distribution
    # lookup (1.5-2 ms in every run: its METADATA read and parsed), and a kfp run from a source tree
    # (no distribution installed) serves the steps it already runs
    if name.lower() == "kfp" and "kfp" in sys.modules:
        return str(getattr(sys.modules["kfp"], "__version__", "0"))
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        pass
    # Compiled steps ask for jupyter-mlops at the compiling version (the step runtime). Run from a
    # source tree on PYTHONPATH, with no distribution installed, this very code is that runtime, and
    # steps run on this interpreter with this environment: nothing to install (and no index to ask).
    if name.lower().replace("_", "-") == "jupyter-mlops":
        from .._version import __version__

        return __version__
    return None


class Environments:
    """Chooses the interpreter for each step's package set; one per `execute` call, results memoized."""

    def __init__(self, python: str, venv_root: Path) -> None:
        self.python = python
        self.venv_root = venv_root
        self._same_interpreter = same_environment(python, sys.executable)
        self._checked: dict[tuple[str, ...], bool] = {}
        self._survey: tuple[dict[str, str], dict[str, str]] | None = None
        self._site_dirs: list[str] | None = None

    def satisfied(self, requirements: tuple[str, ...]) -> bool:
        key = tuple(sorted(requirements))
        if key not in self._checked:
            if not key:
                self._checked[key] = True
            elif self._same_interpreter:
                self._checked[key] = requirements_satisfied(key)
            else:
                self._checked[key] = self._satisfied_elsewhere(key)
        return self._checked[key]

    def _satisfied_elsewhere(self, requirements: tuple[str, ...]) -> bool:
        from packaging.utils import canonicalize_name

        if self._survey is None:
            try:
                out = subprocess.run(
                    [self.python, "-c", _SURVEY],
                    capture_output=True,
                    text=True,
                    timeout=60,
                    check=True,
                ).stdout
                found = json.loads(out.strip().splitlines()[-1])
                versions = {str(canonicalize_name(n)): str(v) for n, v in found["versions"].items()}
                self._survey = ({str(k): str(v) for k, v in found["environment"].items()}, versions)
            except (OSError, subprocess.SubprocessError, ValueError, IndexError, KeyError):
                return False
        environment, installed = self._survey
        return requirements_satisfied(
            requirements, lambda name: installed.get(str(canonicalize_name(name))), environment
        )

    def parent_site_dirs(self) -> list[str]:
        """The site directories of the interpreter the step venvs are made from (asked once)."""
        if self._site_dirs is None:
            if self._same_interpreter:
                self._site_dirs = site_dirs_here()
            else:
                code = _SITE_DIRS + "\nimport json\nprint(json.dumps(site_dirs()))\n"
                try:
                    out = subprocess.run(
                        [self.python, "-c", code], capture_output=True, text=True, timeout=60, check=True
                    ).stdout
                    self._site_dirs = [str(d) for d in json.loads(out.strip().splitlines()[-1])]
                except (OSError, subprocess.SubprocessError, ValueError, IndexError) as e:
                    raise StepLaunchError(f"cannot ask {self.python} where its packages are: {e}") from e
        return self._site_dirs

    def venv_python(self, requirements: tuple[str, ...], pip_options: tuple[str, ...], log: IO[bytes]) -> str:
        """The interpreter of the venv for this package set, created and installed on first use."""
        wanted = (
            [r for r in requirements if not _is_kfp(r)] if self.satisfied(("kfp",)) else list(requirements)
        )
        # The step runtime's requirement, met by the parent (an install, or this source tree), is not
        # installed again: the parent's packages are visible in the venv.
        wanted = [r for r in wanted if not (_is_ours(r) and self.satisfied((r,)))]
        parent_dirs = self.parent_site_dirs()
        # Keyed by the parent's own path and site directories, not its binary: the pythons of two venvs
        # are often links to one binary, yet they have different packages.
        identity = json.dumps(
            [_LAYOUT, sorted(wanted), list(pip_options), os.path.abspath(self.python), parent_dirs]
        )
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
            _run([self.python, "-m", "venv", str(venv)], log, "create a venv")
            _link_parent(python, parent_dirs, log)
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


def _link_parent(python: Path, parent_dirs: list[str], log: IO[bytes]) -> None:
    """Make the parent environment's packages visible in the new venv, after its own (written before
    pip runs, so pip too sees what the parent has and installs only what is missing or differs)."""
    try:
        site_packages = subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError) as e:
        raise StepLaunchError(f"cannot run the new venv's python {python}: {e}") from e
    calls = "; ".join(f"site.addsitedir({d!r})" for d in parent_dirs)
    line = f"import site; {calls}\n" if calls else "\n"
    (Path(site_packages) / _PTH_NAME).write_text(
        "# jupyter-mlops: the packages of the environment this venv was made for, after its own\n" + line
    )
    log.write(f"[jupyter-mlops] the venv also sees {os.pathsep.join(parent_dirs)}\n".encode())
    log.flush()


def _is_ours(requirement: str) -> bool:
    """Whether a requirement names jupyter-mlops (compiled steps ask for it: their runtime)."""
    head = requirement.strip().split(";")[0]
    for stop in "<>=!~[ @":
        head = head.split(stop)[0]
    return head.lower().replace("_", "-") == "jupyter-mlops"


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


def same_environment(a: str, b: str) -> bool:
    """Whether two interpreter paths run with the same packages. A venv's python is often a link to
    its base interpreter's binary, so the binary alone does not tell: the venv (pyvenv.cfg) must match."""
    if os.path.abspath(a) == os.path.abspath(b):
        return True
    try:
        same_binary = os.path.samefile(a, b)
    except OSError:
        return False
    return same_binary and _venv_of(a) == _venv_of(b)


def _venv_of(python: str) -> Path | None:
    root = Path(os.path.abspath(python)).parent.parent
    return root if (root / "pyvenv.cfg").exists() else None


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
