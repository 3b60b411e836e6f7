"""Build the Python environments a user may run jupyter-mlops from, for the step-venv tests.

Each is made the way users make them: `python -m venv` (with and without `--system-site-packages`), a
venv made by a venv's python, a conda-like prefix install (sys.prefix == sys.base_prefix, its own
site-packages, not EXTERNALLY-MANAGED), and a venv of Debian's /usr/bin/python3 as scripts/python-env.sh
makes `.venv`. What an environment lacks of the engine's needs (kfp, PyYAML, packaging) is installed
into it with pip, as a user's `pip install jupyter-mlops` would; jupyter_mlops itself comes from this
checkout through PYTHONPATH.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ENGINE_NEEDS = {"kfp": "kfp", "yaml": "pyyaml", "packaging": "packaging"}


def bin_python(env: Path) -> Path:
    return env / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def run(command: list[str | Path], **kwargs: object) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(c) for c in command], capture_output=True, text=True, timeout=900, **kwargs)  # type: ignore[call-overload]
    assert done.returncode == 0, f"{command} failed:\n{done.stdout}\n{done.stderr}"
    return done  # type: ignore[no-any-return]


def clean_env() -> dict[str, str]:
    """This process's environment without anything that would point a python at another environment."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def probe(python: Path, code: str) -> object:
    return json.loads(run([python, "-c", code], env=clean_env()).stdout.strip().splitlines()[-1])


def make_venv(base: Path | str, path: Path, *flags: str) -> Path:
    run([base, "-m", "venv", *flags, path], env=clean_env())
    return bin_python(path)


def pip_install(python: Path, *specs: str) -> None:
    run([python, "-m", "pip", "install", "--quiet", *specs], env=clean_env())


def provide(python: Path, *markers: str) -> Path:
    """Install what the engine needs where the environment cannot import it, and the `markers`
    (packages that only this environment has, to tell its packages from its base's)."""
    missing = probe(
        python,
        "import importlib.util, json; "
        f"print(json.dumps([m for m in {sorted(ENGINE_NEEDS)!r} if importlib.util.find_spec(m) is None]))",
    )
    assert isinstance(missing, list)
    specs = [ENGINE_NEEDS[m] for m in missing] + list(markers)
    if specs:
        pip_install(python, *specs)
    return python


def conda_like_base() -> Path | None:
    """A prefix-installed Python 3.10+ (not a venv, not EXTERNALLY-MANAGED) to copy: this one's base,
    else a pyenv version."""
    candidates = [Path(sys.base_prefix) / "bin" / f"python{sys.version_info[0]}.{sys.version_info[1]}"]
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    if pyenv.is_dir():
        mine = f"python{sys.version_info[0]}.{sys.version_info[1]}"  # its wheels are in pip's cache
        found = sorted(pyenv.glob("3.1[0-9]*/bin/python3.1[0-9]"), reverse=True)
        candidates += sorted(found, key=lambda p: p.name != mine)
    for python in candidates:
        if not python.is_file() or python.is_symlink():
            continue
        found = probe(
            python,
            "import json, os, sys, sysconfig; print(json.dumps([sys.prefix == sys.base_prefix, "
            "os.path.exists(os.path.join(sysconfig.get_path('stdlib'), 'EXTERNALLY-MANAGED')), "
            "sys.version_info >= (3, 10)]))",
        )
        if found == [True, False, True]:
            return python
    return None


def make_conda_like(base: Path, path: Path) -> Path:
    """A prefix install of `base`'s Python at `path`, as conda lays one out: `path/bin/pythonX.Y` (a copy
    of the binary), the standard library linked in, and a site-packages of its own, with pip."""
    version = base.name.removeprefix("python")
    stdlib = base.parent.parent / "lib" / f"python{version}"
    lib = path / "lib" / f"python{version}"
    (lib / "site-packages").mkdir(parents=True)
    (path / "bin").mkdir()
    shutil.copy2(base, path / "bin" / base.name)
    (path / "bin" / "python").symlink_to(base.name)
    for entry in stdlib.iterdir():
        if entry.name not in ("site-packages", "dist-packages", "EXTERNALLY-MANAGED"):
            (lib / entry.name).symlink_to(entry)
    python = path / "bin" / "python"
    prefix = probe(python, "import json, sys; print(json.dumps([sys.prefix, sys.base_prefix]))")
    assert prefix == [str(path), str(path)], prefix
    run([python, "-m", "ensurepip"], env=clean_env())
    return python


def debian_python() -> Path | None:
    """Debian's own python3 (EXTERNALLY-MANAGED, with the venv module), if this machine has it."""
    python = Path("/usr/bin/python3")
    if not python.exists():
        return None
    ok = subprocess.run(
        [str(python), "-c", "import ensurepip, venv, sys; sys.exit(sys.version_info < (3, 10))"],
        capture_output=True,
        env=clean_env(),
    )
    return python if ok.returncode == 0 else None
