"""Binder (repo2docker) builds from binder/: a conda environment from environment.yml, then postBuild.
There is no Docker here, so this test checks the files as repo2docker reads them and runs the same
install steps in a fresh venv: the environment's pip-installable part, then binder/postBuild itself in a
clean copy of the checkout (npm builds the JupyterLab extension, as on Binder). Both extensions must be
enabled and the quickstart the README's Binder link opens must run.

Slow: a fresh venv with JupyterLab and jupyter-mlops's dependencies, and an npm build (2-3 minutes here).
"""

from __future__ import annotations

import re
import stat
import subprocess
from pathlib import Path

import nbformat
import yaml
from packaging.specifiers import SpecifierSet

from tests.newcomer.fresh_checkout import clean_copy
from tests.newcomer.readme_blocks import README, ROOT
from tests.newcomer.venvs import make_venv, run_in

BINDER = ROOT / "binder"


def environment() -> dict[str, str]:
    """environment.yml's dependencies as {name: conda version spec}."""
    env = yaml.safe_load((BINDER / "environment.yml").read_text())
    assert env["channels"] == ["conda-forge"], env
    deps: dict[str, str] = {}
    for dep in env["dependencies"]:
        assert isinstance(dep, str), f"environment.yml: {dep!r} (a pip: section is not expected)"
        name, spec = re.fullmatch(r"([A-Za-z0-9_.-]+)\s*(.*)", dep).groups()  # type: ignore[union-attr]
        deps[name] = spec
    return deps


def test_binder_files_are_what_repo2docker_reads_and_agree_with_the_package() -> None:
    deps = environment()
    assert set(deps) == {"python", "nodejs", "pip", "jupyterlab"}, deps
    pyproject = (ROOT / "pyproject.toml").read_text()
    python = deps["python"].lstrip("=")
    requires = re.search(r'requires-python = "([^"]+)"', pyproject).group(1)  # type: ignore[union-attr]
    assert f"{python}.0" in SpecifierSet(requires), (python, requires)
    assert int(deps["nodejs"].lstrip("=").split(".")[0]) >= 20  # the extension builder (rspack) needs 20
    assert f'"jupyterlab{deps["jupyterlab"]}"' in pyproject  # the same JupyterLab as the tests use
    post_build = BINDER / "postBuild"
    assert post_build.stat().st_mode & stat.S_IXUSR, "repo2docker runs binder/postBuild only if executable"
    assert post_build.read_text().startswith("#!/usr/bin/env bash\n")
    # The README's Binder link opens the quickstart in JupyterLab.
    link = re.search(r"https://mybinder\.org/v2/gh/\S+\?urlpath=lab/tree/(\S+\.ipynb)", README.read_text())
    assert link, "README: no Binder link that opens a notebook in JupyterLab"
    assert (ROOT / link.group(1)).is_file(), link.group(1)
    assert link.group(1) == "examples/quickstart.ipynb"
    # Where the repository lives: pyproject.toml's project URLs, if it ever records them; until then
    # the link is a template whose placeholder the README names.
    home = re.search(
        r'(?m)^(?:Repository|Source|Homepage) = "https://github\.com/([^/"]+/[^/"]+)"', pyproject
    )
    shown = re.search(r"https://mybinder\.org/v2/gh/([^/]+/[^/]+)/", link.group(0)).group(1)  # type: ignore[union-attr]
    if home:
        assert shown == home.group(1), (shown, home.group(1))
    else:
        assert shown == "GITHUB_OWNER/GITHUB_REPO" and f"replace `{shown}`" in README.read_text(), shown


def test_binder_install_steps_in_a_fresh_venv_enable_both_extensions_and_run_the_quickstart(
    tmp_path: Path,
) -> None:
    deps = environment()
    checkout = clean_copy(tmp_path / "repo")
    venv = make_venv(tmp_path / "srv-conda")
    python = str(venv / "bin" / "python")
    node = subprocess.run(["node", "--version"], capture_output=True, text=True, check=True).stdout
    # npm builds the extension with this machine's Node.js; Binder's is environment.yml's (20).
    assert int(node.lstrip("v").split(".")[0]) >= int(deps["nodejs"].lstrip("=")), (node, deps["nodejs"])
    run_in(venv, [python, "-m", "pip", "install", "--progress-bar", "off", f"jupyterlab{deps['jupyterlab']}"])
    home = tmp_path / "jovyan"  # postBuild deletes $HOME/.npm: never the real one
    home.mkdir()

    built = run_in(venv, [str(checkout / "binder" / "postBuild")], cwd=checkout, env={"HOME": str(home)})

    assert re.search(r"jupyter-mlops v[\d.]+ enabled +OK", built), built[-3000:]
    assert re.search(r"jupyter_mlops [\d.]+ OK", built), built[-3000:]
    assert not (checkout / "labextension" / "node_modules").exists() and not (home / ".npm").exists()
    labext = run_in(venv, [str(venv / "bin" / "jupyter"), "labextension", "list"], cwd=tmp_path)
    assert str(venv) in labext and re.search(r"jupyter-mlops v[\d.]+ enabled\s+OK", labext), labext
    # The quickstart, as the Binder link opens it, runs with the environment's own kernel.
    env = {"HOME": str(home), "JUPYTER_MLOPS_HOME": str(tmp_path / "mlops")}
    run_in(
        venv,
        [
            str(venv / "bin" / "jupyter"),
            "nbconvert",
            "--to",
            "notebook",
            "--execute",
            "--output",
            str(tmp_path / "ran.ipynb"),
            str(checkout / "examples" / "quickstart.ipynb"),
        ],
        cwd=checkout / "examples",
        env=env,
    )
    ran = nbformat.read(tmp_path / "ran.ipynb", as_version=4)
    compare = next(c for c in ran.cells if c.cell_type == "code" and c.source.startswith("%pipeline compare"))
    shown = "".join(o.get("data", {}).get("text/plain", "") for o in compare.outputs)
    assert "* noise" in shown and "* fit.train_mse" in shown, shown
