"""The install prelude: skipped when the packages are present, else one cached venv per package set."""

import functools
from pathlib import Path

import pytest
from kfp import dsl

from jupyter_mlops.executor.prelude import requirements_satisfied
from jupyter_mlops.ir.spec import parse_prelude
from jupyter_mlops.models import RunState, StepState

from .conftest import Runner

component = functools.partial(dsl.component, base_image="python:3.11")


@component(packages_to_install=["pyyaml>=5", "packaging"])
def uses_present_packages() -> str:
    import sys

    import yaml

    return f"{sys.prefix}|{yaml.safe_dump({'a': 1}).strip()}"


@dsl.pipeline
def present():
    uses_present_packages()


def test_a_step_whose_packages_are_present_skips_the_install(run_pipeline: Runner) -> None:
    import sys

    result = run_pipeline(present)

    assert result.state == RunState.SUCCEEDED, result.error
    prefix, dumped = result.step("uses-present-packages").outputs["Output"].split("|")
    assert prefix == sys.prefix and dumped == "a: 1"  # ran in this interpreter: no venv
    assert not (result.workdir.parent / "cache" / "venvs").exists()
    assert "pip" not in result.listener.log("uses-present-packages").lower().replace("pipeline", "")


def test_requirements_are_checked_against_installed_versions() -> None:
    assert requirements_satisfied(["pyyaml>=5", "kfp==0.0.1"])  # any kfp serves: its executor is stable
    assert not requirements_satisfied(["pyyaml<1"])
    assert not requirements_satisfied(["surely-not-installed-package-xyz"])
    assert requirements_satisfied(['typing-extensions>=3.7.4,<5; python_version<"3.9"'])  # marker is false
    assert not requirements_satisfied(["git+https://example.com/repo.git"])


def test_kfp_loaded_here_serves_without_a_distribution_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    """kfp (which every step asks for) is loaded where steps run: found without reading its METADATA,
    and even when it runs from a source tree with no distribution installed."""
    import importlib.metadata

    import kfp  # noqa: F401

    looked_up: list[str] = []

    def no_distribution(name: str) -> str:
        looked_up.append(name)
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", no_distribution)
    assert requirements_satisfied(["kfp==0.0.1"])
    assert looked_up == []
    assert not requirements_satisfied(["pyyaml>=5"])  # the others are still looked up
    assert looked_up == ["pyyaml"]


def test_another_interpreters_packages_are_surveyed_not_assumed(tmp_path: Path) -> None:
    import subprocess
    import sys

    from jupyter_mlops.executor.prelude import Environments

    for name in ("bare", "inheriting"):
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / name)], check=True)
    # It sees this environment's packages through a .pth file (--system-site-packages would give it
    # the base interpreter's instead, which have no kfp when this environment is itself a venv).
    purelib = subprocess.run(
        [
            str(tmp_path / "inheriting" / "bin" / "python"),
            "-c",
            "import sysconfig; print(sysconfig.get_path('purelib'))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    here = [p for p in sys.path if p.endswith(("site-packages", "dist-packages"))]
    (Path(purelib) / "here.pth").write_text("".join(f"import site; site.addsitedir({p!r})\n" for p in here))
    bare = Environments(str(tmp_path / "bare" / "bin" / "python"), tmp_path / "venvs")
    inheriting = Environments(str(tmp_path / "inheriting" / "bin" / "python"), tmp_path / "venvs")

    assert not bare.satisfied(("kfp==2.17.3",))  # its python may be this very binary, yet kfp is absent
    assert inheriting.satisfied(("kfp==2.17.3", 'typing-extensions>=3.7.4,<5; python_version<"3.9"'))
    assert inheriting.satisfied(("PyYAML>=5",)) and not inheriting.satisfied(("pyyaml<1",))


def test_the_prelude_is_parsed_into_packages_and_pip_options() -> None:
    script = (
        "PIP_DISABLE_PIP_VERSION_CHECK=1 python3 -m pip install --quiet --no-warn-script-location "
        "--index-url https://mirror/simple --trusted-host https://mirror/simple 'numpy' 'pandas>=2'  && "
        "python3 -m pip install --quiet --no-warn-script-location 'kfp==2.17.3' '--no-deps' "
        '\'typing-extensions>=3.7.4,<5; python_version<"3.9"\' && "$0" "$@"\n'
    )
    packages, options = parse_prelude(script)

    assert packages == (
        "numpy",
        "pandas>=2",
        "kfp==2.17.3",
        'typing-extensions>=3.7.4,<5; python_version<"3.9"',
    )
    assert options == ("--index-url", "https://mirror/simple", "--trusted-host")


@component(packages_to_install=["tomli-w==1.2.0"])
def uses_missing_package() -> str:
    import sys

    import tomli_w
    import yaml  # system site packages stay visible in the venv

    return f"{sys.prefix}|{tomli_w.dumps({'a': 1}).strip()}|{yaml.__name__}"


@dsl.pipeline
def missing():
    uses_missing_package()
    uses_missing_package()


def test_missing_packages_go_into_one_cached_venv_reused_by_later_steps(run_pipeline: Runner) -> None:
    first = run_pipeline(missing, cache=False)

    assert first.state == RunState.SUCCEEDED, first.error
    prefixes = {first.step(n).outputs["Output"] for n in ("uses-missing-package", "uses-missing-package-2")}
    assert len(prefixes) == 1  # both steps share the venv (the second waited on its lock)
    prefix, dumped, _ = prefixes.pop().split("|")
    assert dumped == "a = 1"
    venvs = first.workdir.parent / "cache" / "venvs"
    assert Path(prefix).parent == venvs and (Path(prefix) / ".ready").exists()

    again = run_pipeline(missing, cache=False)
    assert again.step("uses-missing-package").state == StepState.SUCCEEDED
    assert again.step("uses-missing-package").outputs["Output"].split("|")[0] == prefix
    assert "creating a venv" not in again.listener.log("uses-missing-package")


def test_the_step_runtime_requirement_is_met_by_a_source_tree_with_nothing_installed(monkeypatch) -> None:
    """Compiled steps ask for jupyter-mlops==<version> (their runtime); run from a checkout on
    PYTHONPATH, with no distribution installed, the runner's own code is that runtime."""
    from importlib import metadata

    from jupyter_mlops._version import __version__

    real = metadata.version

    def without_ours(name: str) -> str:
        if name.lower().replace("_", "-") == "jupyter-mlops":
            raise metadata.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(metadata, "version", without_ours)
    assert requirements_satisfied([f"jupyter-mlops=={__version__}", "pyyaml>=5"])
    assert not requirements_satisfied(["jupyter-mlops==0.0.0.dev0"])  # another version: pip decides


def test_a_step_venv_does_not_install_the_step_runtime_the_environment_has(tmp_path: Path) -> None:
    """A notebook step asking for a missing package gets a venv; its jupyter-mlops requirement (the
    step runtime) is met by this environment, which the venv sees, so pip is not asked for it."""
    import json
    import sys

    from jupyter_mlops._version import __version__
    from jupyter_mlops.executor.prelude import Environments

    with open(tmp_path / "log", "wb") as log:
        python = Environments(sys.executable, tmp_path / "venvs").venv_python(
            ("tomli-w==1.2.0", f"jupyter-mlops=={__version__}"), (), log
        )
    _layout, wanted, *_ = json.loads((Path(python).parents[1] / ".requirements.json").read_text())
    assert wanted == ["tomli-w==1.2.0"]
