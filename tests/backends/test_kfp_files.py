"""`--files`: data files a notebook reads by relative path, shipped with a run to where its steps run in
pods. The stand-in KFP server (tests/kfp_standin) runs each step in an empty folder, as a pod has no
notebook folder: without the files the step fails as it would on a cluster, with them it reads them."""

# No `from __future__ import annotations`: kfp reads the component signatures' real types.

from collections.abc import Iterator
from pathlib import Path

import pytest
from kfp import compiler, dsl
from kfp_standin import StandIn

import jupyter_mlops as mlops
from jupyter_mlops.backends.kfp import KfpBackend
from jupyter_mlops.errors import UsageError
from jupyter_mlops.ir import shipped_files
from jupyter_mlops.models import RunState


@dsl.component(base_image="python:3.11")
def total_of(path: str) -> int:
    with open(path) as f:
        return sum(int(line) for line in f)


@dsl.pipeline(name="reads-a-file")
def reads_a_file() -> int:
    return total_of(path="data/numbers.txt").output


@pytest.fixture
def backend(tmp_path: Path, home: Path) -> Iterator[KfpBackend]:
    server = StandIn(tmp_path / "standin")
    server.start()
    made = KfpBackend(host=server.url)
    yield made
    made.close()
    server.stop()


def test_files_read_by_relative_path_travel_with_the_run(backend: KfpBackend, tmp_path: Path) -> None:
    notebook_dir = tmp_path / "notebook"
    (notebook_dir / "data").mkdir(parents=True)
    (notebook_dir / "data" / "numbers.txt").write_text("1\n2\n39\n")
    spec = tmp_path / "reads.yaml"
    compiler.Compiler().compile(reads_a_file, str(spec))

    without = mlops.run(str(spec), backend=backend, working_dir=notebook_dir).wait()
    assert without.state is RunState.FAILED and "data/numbers.txt" in (without.info.steps[0].error or "")

    shipped = mlops.run(str(spec), backend=backend, working_dir=notebook_dir, files=["data"]).wait()
    assert shipped.state is RunState.SUCCEEDED, shipped.info.steps[0].error
    assert "def _mlops_ship_files" not in spec.read_text()  # the compiled file itself is unchanged

    with pytest.raises(UsageError, match=r"--files \.\./secret: name a path relative"):
        mlops.run(str(spec), backend=backend, working_dir=notebook_dir, files=["../secret"])
    with pytest.raises(UsageError, match="no such file or folder"):
        mlops.run(str(spec), backend=backend, working_dir=notebook_dir, files=["missing.csv"])


def test_files_too_large_for_a_pipeline_spec_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    (tmp_path / "big.bin").write_bytes(os.urandom(64 * 1024))  # does not compress
    spec = tmp_path / "reads.yaml"
    compiler.Compiler().compile(reads_a_file, str(spec))
    monkeypatch.setattr(shipped_files, "MAX_BYTES", 32 * 1024)
    with pytest.raises(UsageError, match=r"big.bin come to \d+ KB.*limit is 32 KB.*object storage"):
        mlops.run(str(spec), backend="local", working_dir=tmp_path, files=["big.bin"])


def test_the_cli_ships_files_too(backend: KfpBackend, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "numbers.txt").write_text("20\n22\n")
    (tmp_path / "notes.txt").write_text("shipped as well")
    compiler.Compiler().compile(reads_a_file, str(tmp_path / "reads.yaml"))
    repo = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": f"{repo}:{os.environ.get('PYTHONPATH', '')}"}
    command = [sys.executable, "-m", "jupyter_mlops.cli", "run", "reads.yaml", "--wait"]
    command += ["--backend", "kfp", "--host", backend.conn.host, "--files", "data/numbers.txt,notes.txt"]
    ran = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env)
    assert ran.returncode == 0 and "SUCCEEDED" in ran.stdout, ran.stdout + ran.stderr


def test_a_module_of_the_notebooks_folder_is_named_until_it_is_shipped(
    backend: KfpBackend, tmp_path: Path
) -> None:
    import warnings

    from jupyter_mlops.api import LocalModuleWarning
    from jupyter_mlops.notebook.reader import feed_cell
    from jupyter_mlops.notebook.workspace import Workspace

    notebook_dir = tmp_path / "notebook"
    notebook_dir.mkdir()
    (notebook_dir / "helpers.py").write_text("def total(xs):\n    return sum(xs)\n")
    workspace = Workspace("uses-helpers")
    for index, cell in enumerate(["%%component make\nimport helpers\nn = helpers.total([1, 2, 39])\n"]):
        feed_cell(workspace, cell, f"code cell {index + 1}")

    with pytest.warns(
        LocalModuleWarning, match=r"import helpers\.py from the notebook's folder.*--files helpers\.py"
    ):
        without = mlops.run(workspace.active, backend=backend, working_dir=notebook_dir).wait()
    assert without.state is RunState.FAILED and "No module named 'helpers'" in (
        without.info.steps[0].error or ""
    )

    with warnings.catch_warnings():
        warnings.simplefilter("error", LocalModuleWarning)  # shipped: nothing to say
        shipped = mlops.run(workspace.active, backend=backend, working_dir=notebook_dir, files=["helpers.py"])
    assert shipped.wait().state is RunState.SUCCEEDED, shipped.info.steps[0].error
