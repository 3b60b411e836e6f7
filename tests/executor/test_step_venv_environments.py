"""`%%component --packages` from every kind of environment a user may start from (issue 9, item 6).

A step whose packages are missing runs in a cached venv. That venv must see the packages of the
environment the runner runs in (kfp first of all), whatever that environment is: a venv (with or without
`--system-site-packages`), a venv made by a venv's python, a conda-like prefix install, or the `.venv`
scripts/python-env.sh makes from Debian's python3. And what the step asked for must win over the
environment's own copy. Each test builds its environment, with a package only that environment has
(toposort) and an older copy of one the step asks for (tomli-w 1.0.0), then runs the engine there.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .environments import (
    REPO,
    clean_env,
    conda_like_base,
    debian_python,
    make_conda_like,
    make_venv,
    probe,
    provide,
    run,
)

MARKERS = ("tomli-w==1.0.0", "toposort==1.10")


def venv(tmp: Path) -> Path:
    return make_venv(sys.executable, tmp / "env")


def venv_with_system_site_packages(tmp: Path) -> Path:
    return make_venv(sys.executable, tmp / "env", "--system-site-packages")


def venv_made_by_a_venv(tmp: Path) -> Path:
    outer = make_venv(sys.executable, tmp / "outer", "--system-site-packages")
    return make_venv(outer, tmp / "env", "--system-site-packages")


def conda_like(tmp: Path) -> Path:
    base = conda_like_base()
    if base is None:
        pytest.skip("no prefix-installed Python 3.10+ (pyenv's or this one's base) to lay out as conda does")
    return make_conda_like(base, tmp / "env")


def debian_dot_venv(tmp: Path) -> Path:
    """What scripts/python-env.sh makes when python3 is Debian's (EXTERNALLY-MANAGED): `python3 -m venv`."""
    python = debian_python()
    if python is None:
        pytest.skip("no Debian /usr/bin/python3 with the venv module (apt-get install python3-venv)")
    return make_venv(python, tmp / ".venv")


@pytest.mark.parametrize(
    "build",
    [venv, venv_with_system_site_packages, venv_made_by_a_venv, conda_like, debian_dot_venv],
    ids=lambda f: f.__name__,
)
def test_a_step_with_packages_sees_its_environments_packages(
    tmp_path: Path, build: Callable[[Path], Path]
) -> None:
    python = provide(build(tmp_path), *MARKERS)
    env_site = probe(python, "import json, sysconfig; print(json.dumps(sysconfig.get_path('purelib')))")
    assert isinstance(env_site, str)
    env = clean_env()
    env["PYTHONPATH"] = str(REPO)
    out = tmp_path / "out"
    out.mkdir()
    done = run([python, Path(__file__).with_name("env_pipeline.py"), out], env=env, cwd=out)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])

    assert result["python"] == str(python)
    assert result["state"] == "SUCCEEDED", f"{result['error']}\n{result['log']}"
    seen = result["output"]
    step_venv = Path(seen["prefix"])
    assert step_venv.parent == out / "cache" / "venvs"
    assert Path(seen["inflection"]).is_relative_to(step_venv)  # installed for the step
    tomli_file, tomli_version = seen["tomli_w"]
    assert Path(tomli_file).is_relative_to(step_venv) and tomli_version == "1.2.0"  # the step's wins
    assert Path(seen["toposort"]).is_relative_to(env_site)  # the environment's own package
    assert not Path(seen["kfp"]).is_relative_to(step_venv)  # kfp comes from the environment
    _layout, installed, *_ = json.loads((step_venv / ".requirements.json").read_text())
    assert not any(r.startswith("kfp") for r in installed)  # kfp was not installed again


def test_the_step_venv_follows_the_environment_not_the_binary(tmp_path: Path) -> None:
    """Two venvs of one Python share its binary (their pythons are links to it) but not their packages:
    a step venv made for one must not serve the other."""
    from jupyter_mlops.executor.prelude import Environments

    first = make_venv(sys.executable, tmp_path / "first", "--without-pip", "--system-site-packages")
    second = make_venv(sys.executable, tmp_path / "second", "--without-pip", "--system-site-packages")
    assert os.path.realpath(first) == os.path.realpath(second)
    venvs = tmp_path / "venvs"
    with open(tmp_path / "log", "wb") as log:
        paths = {
            Environments(str(p), venvs).venv_python(("tomli-w==1.2.0",), (), log) for p in (first, second)
        }
    assert len(paths) == 2
