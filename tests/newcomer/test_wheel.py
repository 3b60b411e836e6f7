"""`python -m build` gives a wheel and an sdist; the wheel carries the built JupyterLab extension and the
server extension's config, and installed into a fresh venv (no checkout, no Node.js on PATH) it gives
`%load_ext jupyter_mlops`, the server extension enabled and the labextension listed.

Slow: the build runs npm in an isolated build environment; the venv installs jupyter-mlops's
dependencies (about two minutes here in all).
"""

from __future__ import annotations

import re
import shutil
import tarfile
import zipfile
from pathlib import Path

import jupyter_mlops
from tests.newcomer.venvs import make_venv, run_in

VERSION = jupyter_mlops.__version__


def test_build_gives_a_wheel_with_both_extensions_and_an_sdist_with_the_built_one(dist: Path) -> None:
    (wheel,) = dist.glob(f"jupyter_mlops-{VERSION}-py3-none-any.whl")
    (sdist,) = dist.glob(f"jupyter_mlops-{VERSION}.tar.gz")
    data = f"jupyter_mlops-{VERSION}.data/data"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert f"{data}/share/jupyter/labextensions/jupyter-mlops/package.json" in names
    assert any(
        re.fullmatch(rf"{data}/share/jupyter/labextensions/jupyter-mlops/static/remoteEntry\.\w+\.js", n)
        for n in names
    ), sorted(names)
    assert f"{data}/etc/jupyter/jupyter_server_config.d/jupyter_mlops.json" in names
    assert "jupyter_mlops/server/openapi.yaml" in names and "jupyter_mlops/widgets/static/dag.js" in names
    assert not any("node_modules" in n for n in names)
    with tarfile.open(sdist) as archive:
        members = archive.getnames()
    root = f"jupyter_mlops-{VERSION}"
    assert f"{root}/jupyter_mlops/labextension/package.json" in members  # a wheel from it needs no npm
    assert not any("node_modules" in m for m in members)


def test_the_wheel_in_a_fresh_venv_without_node_gives_both_extensions_and_the_magics(
    dist: Path, tmp_path: Path
) -> None:
    (wheel,) = dist.glob("*.whl")
    venv = make_venv(tmp_path / "venv")
    no_node = str(tmp_path / "venv" / "bin") + ":/usr/sbin:/sbin"  # a PATH without npm and node
    python = str(venv / "bin" / "python")
    run_in(
        venv,
        [python, "-m", "pip", "install", "--progress-bar", "off", str(wheel), "jupyterlab>=4.2,<5"],
        env={"PATH": no_node},
    )
    assert shutil.which("node", path=no_node) is None

    labext = run_in(venv, [str(venv / "bin" / "jupyter"), "labextension", "list"], cwd=tmp_path)
    assert re.search(rf"jupyter-mlops v{re.escape(VERSION)} enabled\s+OK", labext), labext
    assert str(venv) in labext  # found in the venv's share/jupyter, not in this checkout
    server = run_in(venv, [str(venv / "bin" / "jupyter"), "server", "extension", "list"], cwd=tmp_path)
    assert re.search(r"^\s*jupyter_mlops enabled\s*$", server, re.M), server
    assert re.search(rf"^\s*jupyter_mlops {re.escape(VERSION)} OK", server, re.M), server
    magics = run_in(
        venv,
        [
            python,
            "-c",
            (
                "from IPython.core.interactiveshell import InteractiveShell\n"
                "ip = InteractiveShell.instance()\n"
                "ip.run_line_magic('load_ext', 'jupyter_mlops')\n"
                "import jupyter_mlops\n"
                "print('loaded from', jupyter_mlops.__file__)\n"
                "print(sorted(ip.magics_manager.magics['cell']))\n"
            ),
        ],
        cwd=tmp_path,
    )
    assert f"loaded from {venv}/lib/" in magics and "'component'" in magics and "'pipeline'" in magics, magics


def test_a_compiled_step_in_an_image_without_jupyter_mlops_installs_the_wheel_alone(
    dist: Path, tmp_path: Path
) -> None:
    """A step's first lines, as compiled, in a Python with nothing of ours: they install jupyter-mlops
    with --no-deps (the step runtime is standard library only), not its Jupyter dependencies, and import
    the runtime. The wheel is found through pip's own options, as a cluster's index would serve it."""
    from tests.executor.notebook_cells import compiled

    (spec,) = compiled(["%%component make\nn = 3\nprint(n)"], "bare")
    (executor,) = spec["deploymentSpec"]["executors"].values()
    program = executor["container"]["command"][-1]
    start = program.index("    try:\n")
    end = program.index("\n", program.index("from jupyter_mlops.step_runtime.run import", start))
    probe = tmp_path / "probe.py"
    probe.write_text(
        "def step():\n" + program[start:end] + "\n    return _mlops_run_step\n\n"
        "print(step().__module__, step().__name__)\n"
    )
    venv = make_venv(tmp_path / "venv")
    python = str(venv / "bin" / "python")
    before = run_in(venv, [python, "-m", "pip", "list", "--format=freeze"], cwd=tmp_path)
    assert "jupyter-mlops" not in before and "jupyter_server" not in before
    wheels = {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(dist)}
    out = run_in(venv, [python, str(probe)], cwd=tmp_path, env=wheels)
    assert "jupyter_mlops.step_runtime.run _mlops_run_step" in out, out
    after = run_in(venv, [python, "-m", "pip", "list", "--format=freeze"], cwd=tmp_path).lower()
    assert f"jupyter-mlops=={VERSION}" in after or f"jupyter_mlops=={VERSION}" in after, after
    for dependency in ("jupyter-server", "jupyter_server", "kfp==", "tensorboard", "ipywidgets"):
        assert dependency not in after, after  # the package alone
